"""Importing interactions: links named by SIREN and e-mail, the owner by e-mail, each problem
named, a second import writing nothing."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import Interaction, JournalEntry
from tests.contacts.factories import make_contact
from tests.factories import make_user
from tests.imports.files import write_csv
from tests.interactions.factories import make_interaction, user_with_headers
from tests.members.factories import make_member, valid_siren

URL = "/api/v1/imports/interactions"
HEADERS = [
    "Référence", "Nature", "Type", "Objet", "Date", "SIREN", "Courriel contact", "Responsable",
    "Durée",
]  # fmt: skip


def _post(client, headers, data, query=""):
    return client.post(URL + query, data=data, headers={**headers, "Content-Type": "text/csv"})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(session):
    sirens = [valid_siren(), valid_siren()]
    members = [make_member(session, siren=siren) for siren in sirens]
    make_contact(session, email="helene.lefevre@exemple.fr")
    owner = make_user(session, role="staff", email="chargee.affaires@pole.fr")
    session.commit()
    return sirens, members, owner


@pytest.mark.parametrize(("encoding", "bom"), [("cp1252", False), ("utf-8", True)])
def test_interactions_are_created_then_unchanged(
    client, staff_headers, session, world, encoding, bom
):
    sirens, members, owner = world
    rows = [
        ["INT-1", "touchpoint", "meeting", "Réunion de lancement à Évry", "15/03/2025 14:30",
         sirens[0], "Helene.Lefevre@exemple.fr", "chargee.affaires@pole.fr", "90"],
        ["INT-2", "service", "funding_advice", "Conseil sur l'appel à projets", "2025-03-20",
         f"{sirens[0]}, {sirens[1]}", "", "", ""],
    ]  # fmt: skip
    data = write_csv(HEADERS, rows, encoding=encoding, bom=bom)
    response = _post(client, staff_headers, data)
    assert response.status_code == 200, response.json
    report = response.json["report"]
    assert (report["created"], report["failed"]) == (2, 0), report["errors"]
    loaded = select(Interaction).options(
        selectinload(Interaction.members), selectinload(Interaction.contacts)
    )
    first = session.scalars(loaded.where(Interaction.external_id == "INT-1")).one()
    assert (first.source, first.owner_id, first.minutes_spent) == ("import", owner.id, 90)
    assert first.occurred_at.isoformat().startswith("2025-03-15T13:30")  # Paris time, in UTC
    assert len(first.contacts) == 1
    second = session.scalars(loaded.where(Interaction.external_id == "INT-2")).one()
    assert {link.member_id for link in second.members} == {m.id for m in members}

    entries = _count(session, JournalEntry)
    again = _post(client, staff_headers, data).json["report"]
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0), again
    assert _count(session, JournalEntry) == entries

    rows[1][5] = sirens[1]  # one member fewer
    changed = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert (changed["updated"], changed["unchanged"]) == (1, 1), changed
    assert _count(session, JournalEntry) == entries + 1


def test_interaction_rows_report_each_problem(client, staff_headers, session, world):
    sirens, _, _ = world
    headers = [*HEADERS, "Humeur"]
    row = ["INT-1", "touchpoint", "call", "Appel", "15/03/2025", sirens[0], "", "", "", "bonne"]
    rows = [
        row,
        [*row[:5], sirens[1], "", "", "", ""],  # same reference
        ["INT-3", *row[1:5], "123456789", "", "", "", ""],  # no such member
        ["INT-4", *row[1:5], "", "inconnu@exemple.fr", "", "", ""],  # no such contact
        ["INT-5", *row[1:5], sirens[0], "", "personne@pole.fr", "", ""],  # no such user
        ["INT-6", "touchpoint", "call", "Appel", "31/02/2025", sirens[0], "", "", "", ""],
        ["INT-7", "touchpoint", "call", "Appel", "15/03/2025", "", "", "", "", ""],  # no link
    ]
    data = write_csv(headers, rows, blank_after=1)
    report = _post(client, staff_headers, data, "?atomic=false").json["report"]
    problems = {(p["line"], p["column"]) for p in report["errors"]}
    assert {
        (4, "Référence"), (5, "SIREN"), (6, "Courriel contact"), (7, "Responsable"),
        (8, "Date"), (9, "SIREN"),
    } <= problems, report["errors"]  # fmt: skip
    warnings = {(p["line"], p["column"]) for p in report["warnings"]}
    assert {(1, "Humeur"), (3, None)} <= warnings
    assert (report["created"], report["failed"]) == (1, 6), report
    assert _count(session, Interaction) == 1


def test_missing_columns_and_hidden_interactions(client, session, world):
    sirens, members, owner = world
    make_interaction(session, owner=owner, members=(members[0],), confidential=True,
                     external_id="SECRET-1")  # fmt: skip
    _, headers = user_with_headers(client, session)
    data = write_csv(["Référence", "Objet", "SIREN"], [["INT-1", "Appel", sirens[0]]])
    report = _post(client, headers, data).json["report"]
    assert {p["column"] for p in report["errors"] if p["line"] == 1} >= {"kind", "type"}
    row = ["SECRET-1", "touchpoint", "call", "Vu", "15/03/2025", sirens[0], "", "", ""]
    report = _post(client, headers, write_csv(HEADERS, [row])).json["report"]
    assert report["failed"] == 1
    assert report["errors"][0]["column"] == "Référence"
    assert session.scalars(select(Interaction.subject)).one() != "Vu"


def test_interaction_imports_need_the_interactions_scope(client, viewer_headers, staff_headers):
    data = write_csv(HEADERS, [["INT-1", "touchpoint", "call", "A", "15/03/2025", "", "", "", ""]])
    assert _post(client, viewer_headers, data).status_code == 403
    assert client.get(URL + "/template", headers=viewer_headers).status_code == 403
    template = client.get(URL + "/template", headers=staff_headers)
    assert template.text.startswith("external_id,kind,type")
    assert _post(client, staff_headers, data, "?key=email").status_code == 422
    assert _post(client, staff_headers, data, "?atomic=2").status_code == 422
