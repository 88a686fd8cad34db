"""Query arguments and answers of ``/imports``."""

import marshmallow as ma

from schemas.common import AwareDateTime
from schemas.fields import QueryFlag, Text

MEMBER_KEYS = ["external_id", "siren"]
CONTACT_KEYS = ["email", "external_id"]
EXTERNAL_ID_KEYS = ["external_id"]
PAYMENT_KEYS = ["reference"]
REGISTRATION_KEYS = ["event_external_id"]
IMPORT_MODES = ["upsert", "create"]
IMPORT_STATUSES = ["queued", "running", "succeeded", "failed"]


class ImportQuery(ma.Schema):
    """How to import the file sent as the body."""

    mode = ma.fields.String(
        load_default="upsert",
        validate=ma.validate.OneOf(IMPORT_MODES),
        metadata={"description": "`upsert` updates the records found; `create` refuses them."},
    )
    dry_run = QueryFlag(
        load_default=False,
        metadata={"description": "Check every row and report, writing nothing."},
    )
    atomic = QueryFlag(
        load_default=True,
        metadata={
            "description": "`true`: all rows or none are written. `false`: the valid rows "
            "are written, the others reported."
        },
    )
    filename = Text(
        validate=ma.validate.Length(min=1, max=200),
        metadata={
            "description": "The file's name; its extension gives the format when the "
            "body's media type is `application/octet-stream`."
        },
    )


class MemberImportQuery(ImportQuery):
    """How to import members."""

    key = ma.fields.String(
        validate=ma.validate.OneOf(MEMBER_KEYS),
        metadata={"description": "The natural key rows are matched on (default `external_id`)."},
    )


class ContactImportQuery(ImportQuery):
    """How to import contacts."""

    key = ma.fields.String(
        validate=ma.validate.OneOf(CONTACT_KEYS),
        metadata={
            "description": "The natural key rows are matched on (default `email`, among "
            "active contacts)."
        },
    )


class ExternalIdImportQuery(ImportQuery):
    """How to import records matched on their `external_id` (memberships...)."""

    key = ma.fields.String(
        validate=ma.validate.OneOf(EXTERNAL_ID_KEYS),
        metadata={"description": "The natural key rows are matched on: `external_id`."},
    )


class PaymentImportQuery(ImportQuery):
    """How to import membership payments."""

    key = ma.fields.String(
        validate=ma.validate.OneOf(PAYMENT_KEYS),
        metadata={
            "description": "The natural key rows are matched on: the payment's `reference`, "
            "within its membership."
        },
    )


class RegistrationImportQuery(ImportQuery):
    """How to import event registrations."""

    key = ma.fields.String(
        validate=ma.validate.OneOf(REGISTRATION_KEYS),
        metadata={
            "description": "Rows are matched within the event named by `event_external_id`, "
            "on the participant (contact, guest e-mail, or guest name and organisation)."
        },
    )


class ImportProblem(ma.Schema):
    """A refused row (error) or a skipped line or column (warning)."""

    line = ma.fields.Integer(
        allow_none=True, metadata={"description": "Line of the file; 1 is the header row."}
    )
    column = ma.fields.String(
        allow_none=True, metadata={"description": "The column as the file names it."}
    )
    message = ma.fields.String()


class ImportReportOut(ma.Schema):
    """What the import did (or, when `written` is false, would have done)."""

    resource = ma.fields.String()
    key = ma.fields.String(allow_none=True)
    mode = ma.fields.String(metadata={"enum": IMPORT_MODES})
    dry_run = ma.fields.Boolean()
    atomic = ma.fields.Boolean()
    written = ma.fields.Boolean(
        metadata={"description": "False after a dry run or a refused atomic import."}
    )
    processed = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    failed = ma.fields.Integer()
    skipped = ma.fields.Integer(metadata={"description": "Blank lines."})
    last_line = ma.fields.Integer(metadata={"description": "The last line read so far."})
    errors = ma.fields.List(ma.fields.Nested(ImportProblem))
    errors_truncated = ma.fields.Boolean(
        metadata={"description": "More errors than the 1,000 listed."}
    )
    warnings = ma.fields.List(ma.fields.Nested(ImportProblem))


class ImportOut(ma.Schema):
    """An import, its status and progress, and its report once it has one."""

    id = ma.fields.UUID()
    resource = ma.fields.String()
    status = ma.fields.String(metadata={"enum": IMPORT_STATUSES})
    media_type = ma.fields.String()
    size_bytes = ma.fields.Integer()
    options = ma.fields.Dict(keys=ma.fields.String())
    report = ma.fields.Nested(ImportReportOut, allow_none=True)
    error = ma.fields.String(
        allow_none=True, metadata={"description": "Why the file could not be read."}
    )
    attempts = ma.fields.Integer()
    created_at = AwareDateTime()
    started_at = AwareDateTime(allow_none=True)
    finished_at = AwareDateTime(allow_none=True)
    updated_at = AwareDateTime()
