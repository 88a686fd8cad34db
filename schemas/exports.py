"""The query arguments that turn a list into a streamed file."""

import marshmallow as ma

from schemas.fields import QueryFlag

EXPORT_FORMATS = ["csv", "ndjson"]


class ExportArgs(ma.Schema):
    """``format`` (or an ``Accept`` header) asks for every matching row as a file."""

    format = ma.fields.String(
        validate=ma.validate.OneOf(EXPORT_FORMATS),
        metadata={
            "description": "`csv` or `ndjson`: every matching row (same filters and sort, no "
            "paging), streamed; the same as `Accept: text/csv` or `application/x-ndjson`."
        },
    )
    excel = QueryFlag(
        load_default=False,
        metadata={
            "description": "CSV for French Excel: `;` separators, a UTF-8 BOM and Windows "
            "line endings."
        },
    )
