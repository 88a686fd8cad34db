"""Real-looking import files, written as French Excel and other tools write them."""

import csv
import io
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
