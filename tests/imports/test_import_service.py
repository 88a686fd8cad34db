"""The import service on real-looking files: French Excel CSV, BOM UTF-8, JSON, NDJSON."""

import io

import orjson
import pytest
from sqlalchemy import func, select

from models import JournalEntry, Member
from services.imports.members import MemberImporter
from services.imports.parsing import CSV, JSON, NDJSON, read_file
from services.imports.runner import ImportOptions, run_import
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv


def _import(session, data: bytes, media_type: str = CSV, **options):
    parsed = read_file(io.BytesIO(data), media_type)
    return run_import(session, MemberImporter(), parsed, ImportOptions(**options))


def _members(session) -> int:
    return session.scalar(select(func.count()).select_from(Member))


def _entries(session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry))


def test_windows_1252_semicolon_file_is_imported_with_its_accents(session):
    data = write_csv(FRENCH_HEADERS, french_rows(3), encoding="cp1252")
    report = _import(session, data)
    assert (report.created, report.failed, report.written) == (3, 0, True)
    member = session.scalars(select(Member).where(Member.external_id == "FR-00000")).one()
    assert member.name == "Société Générale d'Imagerie n°0"
    assert member.city == "Évry-Courcouronnes"
    assert member.year_founded == 2012
    assert member.departement == "91"


def test_second_import_of_the_same_file_changes_nothing(session):
    data = write_csv(FRENCH_HEADERS, french_rows(4), encoding="utf-8", bom=True, delimiter=",")
    _import(session, data)
    entries = _entries(session)
    stamps = dict(session.execute(select(Member.id, Member.updated_at)).all())
    report = _import(session, data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert _entries(session) == entries
    assert dict(session.execute(select(Member.id, Member.updated_at)).all()) == stamps


def test_a_changed_row_is_updated_and_journaled_once(session):
    rows = french_rows(2)
    _import(session, write_csv(FRENCH_HEADERS, rows))
    entries = _entries(session)
    rows[1][5] = "Corbeil-Essonnes"
    report = _import(session, write_csv(FRENCH_HEADERS, rows))
    assert (report.updated, report.unchanged) == (1, 1)
    assert _entries(session) == entries + 1


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"), [("cp1252", False, ";"), ("utf-8", True, ",")]
)
def test_the_report_names_every_problem(session, encoding, bom, delimiter):
    rows = french_rows(5)
    rows[2][8] = rows[0][8]  # duplicate reference
    rows[3][3] = rows[3][3][:-1] + str((int(rows[3][3][-1]) + 1) % 10)  # bad SIRET check digit
    headers = [h for h in FRENCH_HEADERS if h != "Catégorie"] + ["Remarque"]
    body = [[*row[:1], *row[2:], "à voir"] for row in rows]
    data = write_csv(headers, body, encoding=encoding, bom=bom, delimiter=delimiter, blank_after=4)
    report = _import(session, data)
    problems = {(p.line, p.column, p.message) for p in report.errors}
    warnings = {(p.line, p.column, p.message) for p in report.warnings}
    assert (1, "category", "Required column missing.") in problems
    assert (4, "Référence", "Duplicate: line 2 has the same external_id.") in problems
    assert any(line == 5 and column == "SIRET" for line, column, _ in problems)
    assert (1, "Remarque", "Unknown column, ignored.") in warnings
    assert (6, None, "Blank line, skipped.") in warnings
    assert report.failed == 5
    assert report.skipped == 1
    assert not report.written
    assert _members(session) == 0


def test_atomic_import_writes_nothing_when_a_row_fails(session):
    rows = french_rows(3)
    rows[1][1] = "bakery"
    report = _import(session, write_csv(FRENCH_HEADERS, rows), chunk_size=1)
    assert (report.created, report.failed, report.written) == (2, 1, False)
    assert report.errors[0].line == 3
    assert report.errors[0].column == "Catégorie"
    assert _members(session) == 0
    assert _entries(session) == 0


def test_non_atomic_import_writes_the_valid_rows(session):
    rows = french_rows(3)
    rows[1][4] = "99999"  # not a French postal code
    report = _import(session, write_csv(FRENCH_HEADERS, rows), atomic=False, chunk_size=2)
    assert (report.created, report.failed, report.written) == (2, 1, True)
    assert report.errors[0].column == "Code postal"
    assert _members(session) == 2


def test_dry_run_reports_without_writing(session):
    report = _import(session, write_csv(FRENCH_HEADERS, french_rows(3)), dry_run=True)
    assert (report.created, report.written) == (3, False)
    assert _members(session) == 0
    assert _entries(session) == 0


def test_create_mode_refuses_existing_records(session):
    data = write_csv(FRENCH_HEADERS, french_rows(2))
    _import(session, data)
    report = _import(session, data, mode="create")
    assert report.failed == 2
    assert "already exists" in report.errors[0].message


def test_siren_held_by_another_member_is_refused(session):
    rows = french_rows(1)
    _import(session, write_csv(FRENCH_HEADERS, rows))
    rows[0][8] = "OTHER-REF"
    report = _import(session, write_csv(FRENCH_HEADERS, rows))
    assert report.failed == 1
    assert report.errors[0].column == "SIREN"


def test_json_and_ndjson_bodies(session):
    items = [
        {"name": "Alpha", "category": "startup", "external_id": "J1", "domains": []},
        {"name": "Beta", "category": "sme", "external_id": "J2", "year_founded": 2001},
    ]
    report = _import(session, orjson.dumps(items), JSON)
    assert report.created == 2
    lines = b"\n".join(orjson.dumps(item) for item in items) + b"\n\n"
    report = _import(session, lines, NDJSON)
    assert (report.unchanged, report.skipped) == (2, 1)


def test_a_json_body_must_be_an_array_of_objects(session):
    report = _import(
        session, orjson.dumps([{"name": "A", "category": "sme", "external_id": "x"}, 3]), JSON
    )
    assert report.errors[0].line == 2
    assert "Not an object" in report.errors[0].message


def test_a_large_chunk_is_journaled_in_one_statement_each_row_once(session, count_queries, backend):
    data = write_csv(FRENCH_HEADERS, french_rows(250))
    with count_queries() as statements:
        report = _import(session, data, chunk_size=250)
    assert report.created == 250
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len([s for s in inserts if "INTO members" in s]) == 1
    entries = session.scalars(select(JournalEntry).order_by(JournalEntry.seq)).all()
    assert len(entries) == 250
    if backend == "postgresql":  # SQLite numbers RETURNING rows one INSERT at a time
        # One statement, run on the driver's cursor (unseen by count_queries): every entry
        # carries the one occurred_at it binds.
        assert len({entry.occurred_at for entry in entries}) == 1
    assert {entry.event_type for entry in entries} == {"member.created"}
    assert len({entry.resource_id for entry in entries}) == 250
