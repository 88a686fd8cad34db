"""Real-looking import files, written as French Excel and other tools write them."""

import csv
import io
import zipfile
from collections.abc import Sequence

from tests.members.factories import valid_siren, valid_siret

FRENCH_HEADERS = [
    "Raison sociale", "Catégorie", "SIREN", "SIRET", "Code postal", "Ville", "Courriel",
    "Année de création", "Référence",
]  # fmt: skip


def french_rows(count: int, prefix: str = "FR") -> list[list[str]]:
    """Rows of valid members with accents; SIRENs, SIRETs and references all different."""
    rows = []
    for number in range(count):
        siren = valid_siren()
        rows.append(
            [
                f"Société Générale d'Imagerie n°{number}",
                "sme",
                siren,
                valid_siret(siren),
                "91000",
                "Évry-Courcouronnes",
                f"contact{number}@exemple.fr",
                "2012",
                f"{prefix}-{number:05d}",
            ]
        )
    return rows


def write_csv(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    delimiter: str = ";",
    encoding: str = "cp1252",
    bom: bool = False,
    blank_after: int | None = None,
) -> bytes:
    """A CSV as a spreadsheet saves it; ``blank_after``: an empty line after that many rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for number, row in enumerate(rows):
        writer.writerow(row)
        if blank_after is not None and number + 1 == blank_after:
            buffer.write(delimiter * (len(headers) - 1) + "\r\n")
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'


def _cell(value: object, column: int, row: int) -> str:
    ref = f"{chr(65 + column)}{row}"
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def write_xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    """A minimal .xlsx workbook (one sheet, inline strings, numbers as numbers)."""
    sheet_rows = "".join(
        f'<row r="{r + 1}">' + "".join(_cell(v, c, r + 1) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows)
    )
    relationship = '<Relationship Id="rId1" Type="{}" Target="{}"/>'
    files = {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="{_PKG}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{_OOXML}.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
            + relationship.format(f"{_REL}/officeDocument", "xl/workbook.xml")
            + "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Membres" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
            + relationship.format(f"{_REL}/worksheet", "worksheets/sheet1.xml")
            + "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>{sheet_rows}</sheetData></worksheet>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
