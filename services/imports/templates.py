"""The template CSV of each importable resource: its header row, one column per field."""

import csv
import io

from services.imports.runner import Importer


def template_csv(importer: Importer) -> str:
    """The header row a spreadsheet should start with (field names; aliases work too)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(list(importer.aliases))
    return buffer.getvalue()
