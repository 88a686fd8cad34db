"""Importing membership payments: euros with a decimal comma or cents, each problem named."""

from datetime import date

import pytest
from sqlalchemy import func, select

from models import JournalEntry, MembershipPayment
from tests.imports.files import write_csv
from tests.memberships.factories import make_member, make_membership, make_plan

URL = "/api/v1/imports/payments"
HEADERS = [
    "Référence adhésion", "Référence paiement", "Montant", "Date de paiement", "Mode de paiement",
]  # fmt: skip


def _post(client, headers, data, query=""):
    return client.post(URL + query, data=data, headers={**headers, "Content-Type": "text/csv"})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def memberships(session):
    plan = make_plan(session, code="full")
    for number in (1, 2):
        make_membership(
            session,
            member=make_member(session),
            plan=plan,
            start=date(2025, 1, 1),
            fee_cents=150_000,
            external_id=f"ADH-{number}",
        )
    session.commit()


@pytest.mark.parametrize(("encoding", "bom"), [("cp1252", False), ("utf-8", True)])
def test_payments_in_euros_are_recorded_once(
    client, staff_headers, session, memberships, encoding, bom
):
    rows = [
        ["ADH-1", "VIR-0001", "1 000,50", "15/02/2025", "transfer"],
        ["ADH-1", "CHQ-0002", "499,50", "20/03/2025", "cheque"],
        ["ADH-2", "VIR-0003", "1500", "2025-02-01", "transfer"],
    ]
    data = write_csv(HEADERS, rows, encoding=encoding, bom=bom)
    response = _post(client, staff_headers, data)
    assert response.status_code == 200, response.json
    report = response.json["report"]
    assert (report["created"], report["failed"]) == (3, 0), report["errors"]
    amounts = sorted(session.scalars(select(MembershipPayment.amount_cents)))
    assert amounts == [49_950, 100_050, 150_000]
    entries = session.scalars(
        select(JournalEntry.event_type).where(JournalEntry.source == "import")
    ).all()
    assert sorted(set(entries)) == ["membership.paid"]

    count = _count(session, JournalEntry)
    again = _post(client, staff_headers, data).json["report"]
    assert (again["unchanged"], again["created"], again["failed"]) == (3, 0, 0), again
    assert _count(session, JournalEntry) == count
    assert _count(session, MembershipPayment) == 3

    rows[0][2] = "1 000,00"  # the same payment with another amount: never edited
    changed = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert changed["failed"] == 1
    assert changed["errors"][0]["column"] == "Montant"


def test_payment_rows_report_each_problem(client, staff_headers, session, memberships):
    headers = [*HEADERS, "Observations internes"]
    rows = [
        ["ADH-1", "VIR-1", "100,00", "15/02/2025", "transfer", "x"],
        ["ADH-2", "VIR-1", "100,00", "15/02/2025", "transfer", ""],  # same reference
        ["ADH-9", "VIR-3", "100,00", "15/02/2025", "transfer", ""],  # no such membership
        ["ADH-2", "VIR-4", "10,005", "15/02/2025", "transfer", ""],  # a tenth of a cent
        ["ADH-2", "VIR-5", "9 999,00", "15/02/2025", "transfer", ""],  # beyond the balance
        ["ADH-2", "VIR-6", "10,00", "15/02/2025", "troc", ""],  # no such method
    ]
    data = write_csv(headers, rows, blank_after=1)
    report = _post(client, staff_headers, data, "?atomic=false").json["report"]
    problems = {(p["line"], p["column"]) for p in report["errors"]}
    assert (4, "Référence paiement") in problems  # line 3 is blank
    assert (5, "Référence adhésion") in problems
    assert (6, "Montant") in problems
    assert (7, "Montant") in problems
    assert (8, "Mode de paiement") in problems
    warnings = {(p["line"], p["column"]) for p in report["warnings"]}
    assert {(1, "Observations internes"), (3, None)} <= warnings
    assert (report["created"], report["failed"]) == (1, 5), report
    assert _count(session, MembershipPayment) == 1


def test_cents_and_missing_columns(client, staff_headers, session, memberships):
    headers = ["Adhésion", "Ref", "Montant en centimes", "Date", "Mode de règlement"]
    data = write_csv(headers, [["ADH-1", "A", "12,50", "15/02/2025", "card"]])
    report = _post(client, staff_headers, data).json["report"]
    assert report["errors"][0]["column"] == "Montant en centimes"
    data = write_csv(headers, [["ADH-1", "A", "1250", "15/02/2025", "card"]])
    assert _post(client, staff_headers, data).json["report"]["created"] == 1
    data = write_csv(["Adhésion", "Ref", "Montant"], [["ADH-1", "B", "10"]], encoding="utf-8")
    report = _post(client, staff_headers, data).json["report"]
    assert {p["column"] for p in report["errors"] if p["line"] == 1} >= {"paid_on", "method"}
    assert _count(session, MembershipPayment) == 1


def test_payment_imports_need_the_memberships_scope(client, viewer_headers, staff_headers):
    data = write_csv(HEADERS, [["ADH-1", "VIR-1", "10", "15/02/2025", "transfer"]])
    assert _post(client, viewer_headers, data).status_code == 403
    assert client.get(URL + "/template", headers=viewer_headers).status_code == 403
    template = client.get(URL + "/template", headers=staff_headers)
    assert template.text.startswith("membership_external_id,reference,amount_cents,amount")
    assert _post(client, staff_headers, data, "?key=external_id").status_code == 422
    assert _post(client, staff_headers, data, "?dry_run=peut-etre").status_code == 422
