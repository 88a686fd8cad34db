"""POST /members: validation, normalisation, duplicates, permissions."""

from datetime import date

import pytest

from tests.members.factories import make_member, valid_siren, valid_siret

URL = "/api/v1/members"
SIREN = "552120222"
FULL_BODY = {
    "name": "Société Générale Santé",
    "legal_name": "SOCIETE GENERALE SANTE SA",
    "category": "large_company",
    "siren": "552 120 222",
    "siret": "552 120 222 00013",
    "vat_number": "FR 27 552120222",
    "headcount_band": "53",
    "year_founded": 1864,
    "website": "www.example.fr",
    "email": "contact@example.fr",
    "phone": "01 42 14 20 00",
    "street": "29 boulevard Haussmann",
    "postal_code": "75009",
    "city": "Paris",
    "description": "A bank's health branch.",
    "external_id": "crm-42",
    "domains": ["imaging", "diagnostics", "imaging"],
}


def test_create_member_normalises_and_derives_fields(client, staff_headers):
    response = client.post(URL, json=FULL_BODY, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert response.headers["ETag"] == '"v1"'
    assert body["siren"] == SIREN
    assert body["siret"] == "55212022200013"
    assert body["vat_number"] == "FR27552120222"
    assert body["phone"] == "+33142142000"
    assert body["website"] == "https://www.example.fr"
    assert body["country"] == "FR"
    assert body["departement"] == "75"
    assert body["domains"] == [
        {"code": "diagnostics", "label": "Diagnostics"},
        {"code": "imaging", "label": "Medical imaging"},
    ]
    assert body["contacts_count"] == 0
    assert body["is_archived"] is False
    assert body["parent"] is None
    fetched = client.get(f"{URL}/{body['id']}", headers=staff_headers)
    assert fetched.get_json() == body
    assert fetched.headers["ETag"] == '"v1"'


def test_create_member_with_only_the_required_fields(client, staff_headers):
    response = client.post(
        URL, json={"name": "  Lab X ", "category": "academic_lab"}, headers=staff_headers
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["name"] == "Lab X"
    assert body["domains"] == []
    assert body["siren"] is None
    assert body["departement"] is None


@pytest.mark.parametrize(
    ("postal_code", "departement"),
    [("20167", "2A"), ("20200", "2B"), ("97411", "974"), ("92100", "92")],
)
def test_departement_is_derived_from_the_postal_code(
    client, staff_headers, postal_code, departement
):
    body = {"name": "A", "category": "sme", "postal_code": postal_code}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["departement"] == departement


def test_foreign_address_keeps_its_postal_code_without_departement(client, staff_headers):
    body = {"name": "A", "category": "sme", "postal_code": "1050", "country": "be"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["country"] == "BE"
    assert response.get_json()["departement"] is None


NEXT_YEAR = date.today().year + 1


@pytest.mark.parametrize(
    ("field", "value", "message_part"),
    [
        ("siren", "552120223", "checksum"),
        ("siren", "55212022", "length"),
        ("siren", "abcdefghi", "SIREN"),
        ("siret", "55212022200014", "checksum"),
        ("vat_number", "FR00552120222", "VAT"),
        ("vat_number", "XX123", "VAT"),
        ("email", "not-an-email", "e-mail"),
        ("email", "a@b", "e-mail"),
        ("phone", "12345", "telephone"),
        ("phone", "+33 1 23", "telephone"),
        ("phone", "hello", "telephone"),
        ("postal_code", "96000", "postal code"),
        ("postal_code", "7501", "postal code"),
        ("postal_code", "75O15", "postal code"),
        ("postal_code", "97700", "postal code"),
        ("website", "ftp://example.fr", "URL"),
        ("website", "https://exa mple.fr", "URL"),
        ("year_founded", 1700, "1800"),
        ("year_founded", NEXT_YEAR, "1800"),
        ("year_founded", 1999.5, "integer"),
        ("year_founded", "1999", "integer"),
        ("headcount_band", "99", "one of"),
        ("category", "bank", "one of"),
        ("country", "France", "ISO"),
        ("name", "", "blank"),
        ("name", "   ", "blank"),
        ("name", "x" * 201, "Length"),
        ("external_id", "", "blank"),
        ("domains", "imaging", "list"),
        ("parent_id", "not-a-uuid", "UUID"),
    ],
)
def test_invalid_values_are_422_naming_the_field(client, staff_headers, field, value, message_part):
    body = {"name": "Acme", "category": "sme", field: value}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.content_type == "application/problem+json"
    assert list(problem["errors"]) == [field]
    assert message_part.lower() in " ".join(problem["errors"][field]).lower()


def test_siret_must_start_with_the_siren(client, staff_headers):
    other = valid_siren()
    body = {"name": "A", "category": "sme", "siren": SIREN, "siret": valid_siret(other)}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert "SIREN" in response.get_json()["errors"]["siret"][0]


def test_french_vat_number_must_contain_the_siren(client, staff_headers):
    body = {"name": "A", "category": "sme", "siren": SIREN, "vat_number": "FR40303265045"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["vat_number"]


def test_foreign_vat_number_is_accepted(client, staff_headers):
    body = {"name": "A", "category": "sme", "siren": SIREN, "vat_number": "DE 136695976"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["vat_number"] == "DE136695976"


def test_missing_required_fields(client, staff_headers):
    response = client.post(URL, json={}, headers=staff_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"name", "category"}


def test_unknown_fields_are_refused(client, staff_headers):
    body = {"name": "A", "category": "sme", "departement": "75", "nickname": "x"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"departement", "nickname"}


def test_malformed_json_is_400(client, staff_headers):
    response = client.post(
        URL, data="{", headers={**staff_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("codes", [["imaging", "astrology"], ["no_such_domain"]])
def test_unknown_domain_codes_are_422(client, staff_headers, codes):
    body = {"name": "A", "category": "sme", "domains": codes}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["domains"]
    assert codes[-1] in errors["domains"][0]


def test_inactive_domain_is_422(client, staff_headers, admin_headers):
    domain = client.post(
        "/api/v1/domains", json={"code": "retired", "label": "Retired"}, headers=admin_headers
    ).get_json()
    client.patch(
        f"/api/v1/domains/{domain['id']}", json={"is_active": False}, headers=admin_headers
    )
    body = {"name": "A", "category": "sme", "domains": ["retired"]}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert "Inactive" in response.get_json()["errors"]["domains"][0]


def test_unknown_parent_is_422(client, staff_headers):
    body = {"name": "A", "category": "sme", "parent_id": "00000000-0000-4000-8000-000000000000"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["parent_id"]


def test_parent_is_embedded(client, staff_headers, session):
    parent = make_member(session, name="Groupe Santé")
    session.commit()
    body = {"name": "Filiale", "category": "sme", "parent_id": str(parent.id)}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["parent"] == {"id": str(parent.id), "name": "Groupe Santé"}


def test_duplicate_siren_is_409_pointing_at_the_existing_member(client, staff_headers, session):
    existing = make_member(session, name="Première", siren=SIREN)
    session.commit()
    response = client.post(
        URL,
        json={"name": "Seconde", "category": "sme", "siren": "552 120 222"},
        headers=staff_headers,
    )
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["errors"] == {"siren": ["A member with this SIREN already exists."]}
    assert problem["existing"] == {
        "id": str(existing.id),
        "name": "Première",
        "href": f"{URL}/{existing.id}",
    }
    assert client.get(problem["existing"]["href"], headers=staff_headers).status_code == 200


def test_duplicate_external_id_is_409(client, staff_headers, session):
    existing = make_member(session, external_id="crm-1")
    session.commit()
    response = client.post(
        URL, json={"name": "B", "category": "sme", "external_id": "crm-1"}, headers=staff_headers
    )
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == str(existing.id)
    assert list(response.get_json()["errors"]) == ["external_id"]


def test_permissions(client, viewer_headers, staff_headers):
    body = {"name": "A", "category": "sme"}
    assert client.post(URL, json=body).status_code == 401
    assert client.get(URL).status_code == 401
    refused = client.post(URL, json=body, headers=viewer_headers)
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    assert client.get(URL, headers=viewer_headers).status_code == 200


def test_get_unknown_member_is_404(client, viewer_headers):
    response = client.get(f"{URL}/00000000-0000-4000-8000-000000000000", headers=viewer_headers)
    assert response.status_code == 404
    assert client.get(f"{URL}/not-a-uuid", headers=viewer_headers).status_code == 404


@pytest.mark.parametrize("body", [FULL_BODY, {"name": "Bare", "category": "sme"}])
def test_the_create_answers_what_a_later_read_returns(client, staff_headers, session, body):
    """The row is written without the unit of work: what its defaults gave it (id, times,
    version, country) and its domain links must be what the database holds."""
    parent = make_member(session, name="Parent Group")
    session.flush()
    created = client.post(URL, json={**body, "parent_id": str(parent.id)}, headers=staff_headers)
    assert created.status_code == 201, created.get_json()
    read = client.get(f"{URL}/{created.get_json()['id']}", headers=staff_headers)
    assert read.status_code == 200
    assert created.get_json() == read.get_json()
    assert created.headers["ETag"] == read.headers["ETag"]
    assert created.get_json()["created_at"] == created.get_json()["updated_at"]
