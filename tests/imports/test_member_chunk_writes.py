"""How a chunk of member rows reaches the database: a fixed number of statements whatever its
size, nothing written for unchanged rows, records loaded only for the rows that change them."""

import io

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import JournalEntry, Member
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


def test_the_members_rows_change_are_updated_with_one_statement(session, count_queries):
    rows = french_rows(250)
    _import(session, write_csv(FRENCH_HEADERS, rows), chunk_size=250)
    rows[7][5] = "Corbeil-Essonnes"
    rows[9][5] = "Orsay"
    with count_queries() as statements:
        report = _import(session, write_csv(FRENCH_HEADERS, rows), chunk_size=250)
    assert (report.updated, report.unchanged) == (2, 248)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1
    assert updates[0].lstrip().startswith("UPDATE members")
    # The three look-ups, and no member loaded as a record.
    assert len(_reads(statements)) == 3


def test_an_update_is_journaled_as_the_unit_of_work_journals_it(session):
    rows = french_rows(3)
    _import(session, write_csv(FRENCH_HEADERS, rows))
    member = session.scalars(select(Member).where(Member.external_id == rows[1][8])).one()
    version, created_at = member.version, member.created_at
    rows[1][5] = "Corbeil-Essonnes"
    rows[1][4] = "91100"
    report = _import(session, write_csv(FRENCH_HEADERS, rows))
    assert (report.updated, report.unchanged) == (1, 2)
    session.expire_all()
    member = session.get(Member, member.id)
    assert (member.city, member.postal_code, member.departement) == (
        "Corbeil-Essonnes",
        "91100",
        "91",
    )
    assert member.version == version + 1
    assert member.updated_at > created_at
    assert member.search_text.endswith("corbeil-essonnes")
    entry = session.scalars(
        select(JournalEntry)
        .where(JournalEntry.resource_id == member.id)
        .order_by(JournalEntry.seq.desc())
    ).first()
    assert entry.event_type == "member.updated"
    assert entry.changes == {
        "postal_code": ["91000", "91100"],
        "city": ["Évry-Courcouronnes", "Corbeil-Essonnes"],
    }


def test_a_chunk_of_new_members_costs_the_same_statements_as_a_small_one(session, count_queries):
    counts = []
    for size, prefix in ((20, "A"), (400, "B")):
        data = write_csv(FRENCH_HEADERS, french_rows(size, prefix=prefix))
        with count_queries() as statements:
            report = _import(session, data, chunk_size=400)
        assert report.created == size
        counts.append(len(_of_members(statements)))
    assert counts[0] == counts[1]


def test_a_change_of_domains_relinks_the_member_and_journals_the_codes(session):
    headers = [*FRENCH_HEADERS, "Domaines"]
    rows = [[*row, "imaging"] for row in french_rows(3)]
    _import(session, write_csv(headers, rows))
    rows[0][-1] = "diagnostics, imaging"
    rows[1][-1] = "imaging"  # the same: unchanged
    rows[2][-1] = ""  # cleared
    report = _import(session, write_csv(headers, rows))
    assert (report.updated, report.unchanged, report.failed) == (2, 1, 0)
    session.expire_all()
    codes = {
        member.external_id: [domain.code for domain in member.domains]
        for member in session.scalars(select(Member).options(selectinload(Member.domains)))
    }
    assert codes == {
        rows[0][8]: ["diagnostics", "imaging"],
        rows[1][8]: ["imaging"],
        rows[2][8]: [],
    }
    changes = {
        entry.resource_id: entry.changes
        for entry in session.scalars(
            select(JournalEntry).where(JournalEntry.event_type == "member.updated")
        )
    }
    assert sorted(map(str, changes.values())) == sorted(
        map(str, [{"domains": [["imaging"], ["diagnostics", "imaging"]]},
                  {"domains": [["imaging"], []]}])
    )  # fmt: skip
