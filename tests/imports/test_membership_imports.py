"""Importing memberships from French spreadsheets: the fee from the schedule, each problem named."""

import pytest
from sqlalchemy import func, select

from models import JournalEntry, Membership
from tests.imports.files import write_csv
from tests.members.factories import valid_siren
from tests.memberships.factories import make_member, make_plan, make_schedule

URL = "/api/v1/imports/memberships"
HEADERS = ["Référence", "SIREN", "Formule", "Date de début", "Approuvée le", "Commentaire"]


def _post(client, headers, data, query=""):
    return client.post(URL + query, data=data, headers={**headers, "Content-Type": "text/csv"})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def sirens(session):
    plan = make_plan(session, code="full")
    make_schedule(session, plan=plan, year=2025)
    sirens = [valid_siren(), valid_siren()]
    for siren in sirens:
        make_member(session, siren=siren)
    session.commit()
    return sirens


@pytest.mark.parametrize(("encoding", "bom"), [("cp1252", False), ("utf-8", True)])
def test_memberships_are_created_at_the_schedules_fee(
    client, staff_headers, session, sirens, encoding, bom
):
    rows = [
        ["ADH-2025-001", sirens[0], "full", "01/01/2025", "15/01/2025", "Adhésion réglée à l'AG"],
        ["ADH-2025-002", sirens[1], "full", "2025-01-01", "", ""],
    ]
    data = write_csv(HEADERS, rows, encoding=encoding, bom=bom)
    response = _post(client, staff_headers, data)
    assert response.status_code == 200, response.json
    report = response.json["report"]
    assert (report["created"], report["failed"]) == (2, 0), report
    first = session.scalars(
        select(Membership).where(Membership.external_id == "ADH-2025-001")
    ).one()
    assert (first.fee_cents, first.schedule_fee_cents) == (100_000, 100_000)
    assert str(first.end_date) == "2025-12-31"
    assert first.notes == "Adhésion réglée à l'AG"
    assert str(first.approved_on) == "2025-01-15"

    entries = _count(session, JournalEntry)
    again = _post(client, staff_headers, data).json["report"]
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0), again
    assert _count(session, JournalEntry) == entries

    rows[1][4] = "20/01/2025"  # approved now
    changed = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert (changed["updated"], changed["unchanged"]) == (1, 1), changed
    entry = session.scalars(select(JournalEntry).order_by(JournalEntry.seq.desc())).first()
    assert (entry.event_type, entry.source) == ("membership.approved", "import")


def test_membership_rows_report_each_problem(client, staff_headers, session, sirens):
    headers = [*HEADERS, "Couleur préférée"]
    rows = [
        ["ADH-1", sirens[0], "full", "01/01/2025", "", "", "bleu"],
        ["ADH-1", sirens[1], "full", "01/01/2025", "", "", "vert"],  # same reference
        ["ADH-3", "123456789", "full", "01/01/2025", "", "", ""],  # no such member
        ["ADH-4", sirens[1], "inconnue", "01/01/2025", "", "", ""],  # no such plan
        ["ADH-5", sirens[1], "full", "31/02/2025", "", "", ""],  # no such day
    ]
    data = write_csv(headers, rows, blank_after=1)
    report = _post(client, staff_headers, data, "?atomic=false").json["report"]
    problems = {(p["line"], p["column"]) for p in report["errors"]}
    assert (4, "Référence") in problems  # line 3 is blank
    assert (5, "SIREN") in problems
    assert (6, "Formule") in problems
    assert (7, "Date de début") in problems
    warnings = {(p["line"], p["column"]) for p in report["warnings"]}
    assert (1, "Couleur préférée") in warnings
    assert (3, None) in warnings
    assert (report["created"], report["failed"], report["skipped"]) == (1, 4, 1), report
    assert _count(session, Membership) == 1


def test_a_found_membership_keeps_its_terms(client, staff_headers, session, sirens):
    rows = [["ADH-1", sirens[0], "full", "01/01/2025", "", ""]]
    assert _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]["created"] == 1
    entries = _count(session, JournalEntry)
    rows[0][1] = sirens[1]
    report = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert report["failed"] == 1
    assert report["errors"][0]["column"] == "SIREN"
    assert _count(session, JournalEntry) == entries


def test_a_missing_required_column_refuses_the_file(client, staff_headers, session, sirens):
    headers = ["Référence", "SIREN", "Date de début"]
    data = write_csv(headers, [["ADH-1", sirens[0], "01/01/2025"]], encoding="utf-8", bom=True)
    report = _post(client, staff_headers, data).json["report"]
    assert {(p["line"], p["column"]) for p in report["errors"]} >= {(1, "plan")}
    assert _count(session, Membership) == 0


def test_membership_imports_need_the_memberships_scope(client, viewer_headers, staff_headers):
    data = write_csv(HEADERS, [["ADH-1", "123456789", "full", "01/01/2025", "", ""]])
    assert _post(client, viewer_headers, data).status_code == 403
    assert client.get(URL + "/template", headers=viewer_headers).status_code == 403
    template = client.get(URL + "/template", headers=staff_headers)
    assert template.status_code == 200
    assert template.text.startswith("external_id,member_external_id,member_siren,plan")
    assert _post(client, staff_headers, data, "?key=siren").status_code == 422
    assert _post(client, staff_headers, data, "?mode=merge").status_code == 422
    assert _post(client, staff_headers, b"").status_code == 422


def test_a_dry_run_reports_and_writes_nothing(client, staff_headers, session, sirens):
    rows = [["ADH-1", sirens[0], "full", "01/01/2025", "", ""]]
    entries = _count(session, JournalEntry)
    response = _post(client, staff_headers, write_csv(HEADERS, rows), "?dry_run=true")
    report = response.json["report"]
    assert (report["created"], report["dry_run"], report["written"]) == (1, True, False)
    assert _count(session, Membership) == 0
    assert _count(session, JournalEntry) == entries
