"""Importing contacts with their affiliation, from a French spreadsheet."""

from sqlalchemy import func, select

from models import Affiliation, Contact, JournalEntry
from tests.imports.files import write_csv
from tests.members.factories import make_member, valid_siren

URL = "/api/v1/imports/contacts"
HEADERS = ["Prénom", "Nom", "Courriel", "Téléphone", "SIREN", "Fonction", "Contact principal"]


def _post(client, headers, data, query=""):
    return client.post(URL + query, data=data, headers={**headers, "Content-Type": "text/csv"})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_contacts_are_created_with_their_affiliation(client, staff_headers, session):
    siren = valid_siren()
    member = make_member(session, siren=siren)
    session.commit()
    rows = [
        [
            "Hélène",
            "Lefèvre",
            "helene.lefevre@exemple.fr",
            "01 64 12 34 56",
            siren,
            "Directrice R&D",
            "oui",
        ],
        ["François", "Martin", "f.martin@exemple.fr", "", "", "", ""],
    ]
    report = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert (report["created"], report["failed"]) == (2, 0), report
    helene = session.scalars(select(Contact).where(Contact.last_name == "Lefèvre")).one()
    assert helene.phones == [{"number": "+33164123456", "kind": "work"}]
    affiliation = session.scalars(select(Affiliation)).one()
    assert affiliation.member_id == member.id
    assert affiliation.job_title == "Directrice R&D"
    assert affiliation.is_primary is True

    entries = _count(session, JournalEntry)
    again = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)
    assert _count(session, JournalEntry) == entries

    rows[0][5] = "Directrice générale"
    changed = _post(client, staff_headers, write_csv(HEADERS, rows)).json["report"]
    assert (changed["updated"], changed["unchanged"]) == (1, 1)


def test_contact_rows_report_each_problem(client, staff_headers, session):
    rows = [
        ["Anne", "Durand", "anne@exemple.fr", "", "", "", ""],
        ["Anne", "Durand", "ANNE@exemple.fr", "", "", "", ""],  # same e-mail
        ["Paul", "", "paul@exemple.fr", "", "", "", ""],  # no last name
        ["Marc", "Petit", "marc@exemple.fr", "", "123456789", "", ""],  # bad SIREN ref
        ["Lise", "Roy", "pas-un-courriel", "", "", "", ""],
    ]
    report = _post(client, staff_headers, write_csv(HEADERS, rows), "?atomic=false").json["report"]
    problems = {(p["line"], p["column"]) for p in report["errors"]}
    assert (3, "Courriel") in problems
    assert (4, "Nom") in problems
    assert (5, "SIREN") in problems
    assert (6, "Courriel") in problems
    assert report["created"] == 1
    assert _count(session, Contact) == 1


def test_contacts_import_needs_the_contacts_scope(client, viewer_headers):
    data = write_csv(HEADERS, [["A", "B", "a@b.fr", "", "", "", ""]])
    assert _post(client, viewer_headers, data).status_code == 403
    assert client.get(URL + "/template", headers=viewer_headers).status_code == 403
