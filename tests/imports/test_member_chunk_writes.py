"""How a chunk of member rows reaches the database: a fixed number of statements whatever its
size, nothing written for unchanged rows, records loaded only for the rows that change them."""

import io

from services.imports.members import MemberImporter
from services.imports.parsing import CSV, read_file
from services.imports.runner import ImportOptions, run_import
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv

WRITES = ("INSERT", "UPDATE", "DELETE")


def _import(session, data: bytes, **options):
    parsed = read_file(io.BytesIO(data), CSV)
    return run_import(session, MemberImporter(), parsed, ImportOptions(**options))


def _of_members(statements: list[str]) -> list[str]:
    """The statements on the members' own tables (not the journal's or the webhooks')."""
    return [s for s in statements if "members" in s or "member_domains" in s]


def _reads(statements: list[str]) -> list[str]:
    return [s for s in _of_members(statements) if s.lstrip().upper().startswith("SELECT")]


def test_an_unchanged_chunk_costs_its_lookups_and_writes_nothing(session, count_queries):
    data = write_csv(FRENCH_HEADERS, french_rows(250))
    _import(session, data, chunk_size=250)
    with count_queries() as statements:
        report = _import(session, data, chunk_size=250)
    assert (report.unchanged, report.created, report.updated) == (250, 0, 0)
    assert not [s for s in statements if s.lstrip().upper().startswith(WRITES)]
    # Who holds the keys, the stored columns of those matched, their domains.
    assert len(_reads(statements)) == 3


def test_only_the_members_a_row_changes_are_loaded_and_updated(session, count_queries):
    rows = french_rows(250)
    _import(session, write_csv(FRENCH_HEADERS, rows), chunk_size=250)
    rows[7][5] = "Corbeil-Essonnes"
    rows[9][5] = "Orsay"
    with count_queries() as statements:
        report = _import(session, write_csv(FRENCH_HEADERS, rows), chunk_size=250)
    assert (report.updated, report.unchanged) == (2, 248)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 2
    assert all("UPDATE members" in s for s in updates)
    # The three look-ups, then the two changed members as records and their domains.
    assert len(_reads(statements)) == 5


def test_a_chunk_of_new_members_costs_the_same_statements_as_a_small_one(session, count_queries):
    counts = []
    for size, prefix in ((20, "A"), (400, "B")):
        data = write_csv(FRENCH_HEADERS, french_rows(size, prefix=prefix))
        with count_queries() as statements:
            report = _import(session, data, chunk_size=400)
        assert report.created == size
        counts.append(len(_of_members(statements)))
    assert counts[0] == counts[1]
