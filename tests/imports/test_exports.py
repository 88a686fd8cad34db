"""Lists as files: ``GET /members`` with ``Accept: text/csv``, ``format=csv|ndjson``."""

import csv
import io
import logging

import orjson

from tests.imports.files import write_csv
from tests.members.factories import make_member, valid_siren


def _members(session):
    make_member(
        session,
        name="Société Générale d'Imagerie",
        city="Évry",
        postal_code="91000",
        external_id="E-1",
        domains=["imaging"] if False else (),
    )
    make_member(session, name="Alpha Santé", category="startup", postal_code="75013")
    make_member(session, name="Archivée", category="startup")
    session.commit()


def test_csv_export_has_the_list_filters_and_sort(client, staff_headers, session):
    _members(session)
    response = client.get(
        "/api/v1/members?category=startup&sort=-name",
        headers={**staff_headers, "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["name"] for row in rows] == ["Archivée", "Alpha Santé"]
    assert rows[1]["departement"] == "75"
    assert rows[0]["created_at"].count("T") == 1


def test_excel_csv_has_bom_semicolons_and_crlf(client, staff_headers, session):
    _members(session)
    response = client.get("/api/v1/members?format=csv&excel=true", headers=staff_headers)
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.split("\r\n")[0].startswith("name;legal_name;category;")
    assert "Société Générale d'Imagerie;" in text


def test_ndjson_export(client, staff_headers, session):
    _members(session)
    response = client.get(
        "/api/v1/members", headers={**staff_headers, "Accept": "application/x-ndjson"}
    )
    assert response.mimetype == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.get_data().splitlines()]
    assert len(lines) == 3
    assert {"id", "name", "domains", "external_id"} <= set(lines[0])


def test_an_export_re_imports_unchanged(client, staff_headers, session):
    _members(session)
    exported = client.get("/api/v1/members?format=csv", headers=staff_headers).get_data()
    response = client.post(
        "/api/v1/imports/members?key=external_id",
        data=exported,
        headers={**staff_headers, "Content-Type": "text/csv"},
    )
    report = response.json["report"]
    # Only the member with an external_id can be matched; the others are reported.
    assert report["unchanged"] == 1
    assert report["failed"] == 2


def test_exports_are_logged(client, staff_headers, session, caplog):
    _members(session)
    with caplog.at_level(logging.INFO, logger="mrm.exports"):
        client.get("/api/v1/members?format=csv&category=startup", headers=staff_headers)
    record = next(r for r in caplog.records if r.name == "mrm.exports")
    assert record.fields["rows"] == 2
    assert record.fields["filters"]["category"] == "startup"
    assert record.fields["user_id"]


def test_export_needs_the_read_scope_and_valid_arguments(client, staff_headers):
    assert client.get("/api/v1/members?format=csv").status_code == 401
    assert client.get("/api/v1/members?format=xml", headers=staff_headers).status_code == 422
    assert client.get("/api/v1/members?excel=1", headers=staff_headers).status_code == 422


def test_contact_export_re_imports_unchanged_and_is_logged(client, staff_headers, session, caplog):
    member = make_member(session, siren=valid_siren())
    session.commit()
    rows = [["Hélène", "Lefèvre", "helene@exemple.fr", "01 64 12 34 56", member.siren,
             "Directrice", "oui"]]  # fmt: skip
    headers = ["Prénom", "Nom", "Courriel", "Téléphone", "SIREN", "Fonction", "Contact principal"]
    created = client.post(
        "/api/v1/imports/contacts",
        data=write_csv(headers, rows),
        headers={**staff_headers, "Content-Type": "text/csv"},
    ).json["report"]
    assert created["created"] == 1
    with caplog.at_level(logging.INFO, logger="mrm.exports"):
        exported = client.get(
            "/api/v1/contacts?format=csv&excel=true", headers=staff_headers
        ).get_data()
    text = exported.decode("utf-8-sig")
    assert "Hélène;Lefèvre;helene@exemple.fr;+33164123456;" in text
    record = next(r for r in caplog.records if r.name == "mrm.exports")
    assert (record.fields["resource"], record.fields["rows"]) == ("contacts", 1)
    again = client.post(
        "/api/v1/imports/contacts",
        data=exported,
        headers={**staff_headers, "Content-Type": "text/csv"},
    ).json["report"]
    assert (again["unchanged"], again["failed"]) == (1, 0), again


def test_contact_export_with_affiliation_filters(client, staff_headers, session):
    member = make_member(session, siren=valid_siren())
    session.commit()
    response = client.get(
        f"/api/v1/contacts?format=csv&role=primary&member_id={member.id}&q=x&archived=true",
        headers=staff_headers,
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("first_name,last_name,")


def test_csv_export_has_the_values_the_ndjson_export_has(client, staff_headers, session):
    """Quotes, separators, line breaks, accents and a "%" come out of the CSV (written by
    PostgreSQL's COPY there) as the rows have them, with filters that need parameters."""
    tricky = 'Labo "Ouest", 100% santé\nsite de Brest; bât. B'
    make_member(session, name="Zeta Médical", description=tricky, category="sme", city="Brest")
    make_member(session, name="Zeta Autre", description="", category="sme", city="Brest")
    make_member(session, name="Zeta Ailleurs", category="startup", city="Brest")
    session.commit()
    query = "/api/v1/members?category=sme&q=zeta%20brest&sort=name"
    exported = client.get(f"{query}&format=csv", headers=staff_headers).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    ndjson = client.get(f"{query}&format=ndjson", headers=staff_headers).get_data()
    objects = [orjson.loads(line) for line in ndjson.splitlines()]
    assert [row["name"] for row in rows] == ["Zeta Autre", "Zeta Médical"]
    assert rows[1]["description"] == tricky
    for row, expected in zip(rows, objects, strict=True):
        assert row == {k: "" if v is None else str(v) for k, v in expected.items()}
