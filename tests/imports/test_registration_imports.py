"""Importing event registrations: contacts by e-mail and guests, the capacity applied row by
row, each problem named, a second import writing nothing."""

import pytest
from sqlalchemy import func, select

from models import JournalEntry, Registration
from tests.events.factories import make_event, make_participant
from tests.imports.files import write_csv

URL = "/api/v1/imports/registrations"
HEADERS = ["Événement", "Courriel", "Invité", "Courriel de l'invité", "Organisme", "Commentaire"]


def _post(client, headers, data, query=""):
    return client.post(URL + query, data=data, headers={**headers, "Content-Type": "text/csv"})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(session):
    make_event(session, external_id="EVT-2025-01", capacity=2)
    make_event(session, external_id="EVT-DRAFT", status="draft")
    for email in ("helene.lefevre@exemple.fr", "francois.martin@exemple.fr"):
        make_participant(session, email=email)
    session.commit()


@pytest.mark.parametrize(("encoding", "bom"), [("cp1252", False), ("utf-8", True)])
def test_registrations_fill_seats_then_wait(client, staff_headers, session, world, encoding, bom):
    rows = [
        ["EVT-2025-01", "Helene.Lefevre@exemple.fr", "", "", "", "Végétarienne"],
        ["EVT-2025-01", "", "Zoé Garçon", "zoe@hopital.fr", "CHU d'Évry", ""],
        ["EVT-2025-01", "francois.martin@exemple.fr", "", "", "", ""],
    ]
    data = write_csv(HEADERS, rows, encoding=encoding, bom=bom)
    response = _post(client, staff_headers, data)
    assert response.status_code == 200, response.json
    report = response.json["report"]
    assert (report["created"], report["failed"]) == (3, 0), report["errors"]
    statuses = session.scalars(
        select(Registration.status).order_by(Registration.registered_at, Registration.id)
    ).all()
    assert sorted(statuses) == ["registered", "registered", "waitlisted"]
    guest = session.scalars(select(Registration).where(Registration.guest_name.is_not(None))).one()
    assert (guest.guest_organisation, guest.status) == ("CHU d'Évry", "registered")
    late = session.scalars(select(Registration).where(Registration.status == "waitlisted")).one()
    assert late.contact_id is not None  # the third row waits
    assert late.notes is None

    entries = _count(session, JournalEntry)
    again = _post(client, staff_headers, data).json["report"]
    assert (again["unchanged"], again["created"], again["updated"]) == (3, 0, 0), again
    assert _count(session, JournalEntry) == entries
    assert _count(session, Registration) == 3

    rows[1][5] = "Arrivera en retard"
    changed = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert (changed["updated"], changed["unchanged"]) == (1, 2), changed


def test_registration_rows_report_each_problem(client, staff_headers, session, world):
    headers = [*HEADERS, "Allergies"]
    rows = [
        ["EVT-2025-01", "helene.lefevre@exemple.fr", "", "", "", "", "x"],
        ["EVT-2025-01", "HELENE.LEFEVRE@exemple.fr", "", "", "", "", ""],  # same contact
        ["EVT-INCONNU", "francois.martin@exemple.fr", "", "", "", "", ""],  # no such event
        ["EVT-2025-01", "personne@exemple.fr", "", "", "", "", ""],  # no such contact
        ["EVT-DRAFT", "francois.martin@exemple.fr", "", "", "", "", ""],  # not published
        ["EVT-2025-01", "", "", "", "", "", ""],  # neither contact nor guest
    ]
    rows[5][5] = "personne"
    data = write_csv(headers, rows, blank_after=1)
    report = _post(client, staff_headers, data, "?atomic=false").json["report"]
    problems = {(p["line"], p["column"]) for p in report["errors"]}
    assert {
        (4, "participant"), (5, "Événement"), (6, "Courriel"), (7, "Événement"), (8, "Courriel"),
    } <= problems, report["errors"]  # fmt: skip
    warnings = {(p["line"], p["column"]) for p in report["warnings"]}
    assert {(1, "Allergies"), (3, None)} <= warnings
    assert (report["created"], report["failed"]) == (1, 5), report
    assert _count(session, Registration) == 1


def test_a_missing_event_column_refuses_the_file(client, staff_headers, session, world):
    data = write_csv(["Courriel"], [["helene.lefevre@exemple.fr"]], encoding="utf-8", bom=True)
    report = _post(client, staff_headers, data).json["report"]
    assert (1, "event_external_id") in {(p["line"], p["column"]) for p in report["errors"]}
    assert _count(session, Registration) == 0


def test_registration_imports_need_the_events_scope(client, viewer_headers, staff_headers):
    data = write_csv(HEADERS, [["EVT-2025-01", "a@exemple.fr", "", "", "", ""]])
    assert _post(client, viewer_headers, data).status_code == 403
    assert client.get(URL + "/template", headers=viewer_headers).status_code == 403
    template = client.get(URL + "/template", headers=staff_headers)
    assert template.text.startswith("event_external_id,contact_email")
    assert _post(client, staff_headers, data, "?key=email").status_code == 422
    assert _post(client, staff_headers, data, "?filename=" + "x" * 300).status_code == 422


def test_a_dry_run_counts_seats_and_writes_nothing(client, staff_headers, session, world):
    rows = [
        ["EVT-2025-01", "", f"Invité {number}", f"invite{number}@exemple.fr", "", ""]
        for number in range(3)
    ]
    entries = _count(session, JournalEntry)
    report = _post(client, staff_headers, write_csv(HEADERS, rows), "?dry_run=true").json["report"]
    assert (report["created"], report["failed"], report["written"]) == (3, 0, False)
    assert _count(session, Registration) == 0
    assert _count(session, JournalEntry) == entries
