"""PATCH, archive, restore, DELETE and the importers' PUT on /members."""

from datetime import date

import pytest

from tests.members.factories import make_affiliation, make_member, valid_siren, valid_siret

URL = "/api/v1/members"
SIREN = "552120222"


@pytest.fixture
def member(session):
    created = make_member(session, name="Acme Santé", siren=SIREN, domains=["imaging"])
    session.commit()
    return created


def test_patch_changes_only_the_fields_sent(client, staff_headers, member):
    response = client.patch(
        f"{URL}/{member.id}",
        json={"city": "Évry", "postal_code": "91000", "domains": ["biotech", "diagnostics"]},
        headers=staff_headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Acme Santé"
    assert body["siren"] == SIREN
    assert body["departement"] == "91"
    assert [domain["code"] for domain in body["domains"]] == ["biotech", "diagnostics"]
    assert response.headers["ETag"] == '"v2"'
    assert body["updated_at"] > body["created_at"]


def test_patch_of_domains_alone_bumps_the_etag(client, staff_headers, member):
    response = client.patch(f"{URL}/{member.id}", json={"domains": []}, headers=staff_headers)
    assert response.status_code == 200
    assert response.get_json()["domains"] == []
    assert response.headers["ETag"] == '"v2"'


def test_patch_that_changes_nothing_keeps_the_etag_and_updated_at(client, staff_headers, member):
    before = client.get(f"{URL}/{member.id}", headers=staff_headers)
    assert before.get_json()["updated_at"] == before.get_json()["created_at"]
    same = {"name": "Acme Santé", "domains": ["imaging"]}
    for body in ({}, same):
        response = client.patch(f"{URL}/{member.id}", json=body, headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        assert response.headers["ETag"] == before.headers["ETag"]
        assert response.get_json()["updated_at"] == before.get_json()["updated_at"]


def test_patch_null_clears_an_optional_field(client, staff_headers, member):
    response = client.patch(f"{URL}/{member.id}", json={"siren": None}, headers=staff_headers)
    assert response.status_code == 200
    assert response.get_json()["siren"] is None


@pytest.mark.parametrize("field", ["name", "category"])
def test_patch_cannot_clear_required_fields(client, staff_headers, member, field):
    response = client.patch(f"{URL}/{member.id}", json={field: None}, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]


def test_patch_siret_alone_must_match_the_stored_siren(client, staff_headers, member):
    wrong = valid_siret(valid_siren())
    response = client.patch(f"{URL}/{member.id}", json={"siret": wrong}, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["siret"]
    right = valid_siret(SIREN, 2)
    response = client.patch(f"{URL}/{member.id}", json={"siret": right}, headers=staff_headers)
    assert response.status_code == 200, response.get_json()


def test_patch_vat_alone_must_match_the_stored_siren(client, staff_headers, member):
    response = client.patch(
        f"{URL}/{member.id}", json={"vat_number": "FR40303265045"}, headers=staff_headers
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["vat_number"]


def test_patch_postal_code_of_a_foreign_member_is_not_french(client, staff_headers, session):
    foreign = make_member(session, country="BE", postal_code="1050")
    session.commit()
    response = client.patch(
        f"{URL}/{foreign.id}", json={"country": "BE", "postal_code": "1000"}, headers=staff_headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["departement"] is None
    # Moving it to France requires a French postal code.
    response = client.patch(f"{URL}/{foreign.id}", json={"country": "FR"}, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["postal_code"]


def test_patch_to_a_siren_already_used_is_409(client, staff_headers, member, session):
    other = make_member(session, name="Other")
    session.commit()
    response = client.patch(f"{URL}/{other.id}", json={"siren": SIREN}, headers=staff_headers)
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == str(member.id)


def test_patch_keeping_its_own_siren_is_fine(client, staff_headers, member):
    response = client.patch(f"{URL}/{member.id}", json={"siren": SIREN}, headers=staff_headers)
    assert response.status_code == 200


def test_parent_cycles_are_422(client, staff_headers, session):
    group = make_member(session, name="Group")
    subsidiary = make_member(session, name="Subsidiary", parent_id=group.id)
    lab = make_member(session, name="Lab", parent_id=subsidiary.id)
    session.commit()
    for parent in (group, subsidiary, lab):
        response = client.patch(
            f"{URL}/{group.id}", json={"parent_id": str(parent.id)}, headers=staff_headers
        )
        assert response.status_code == 422, parent.name
        assert list(response.get_json()["errors"]) == ["parent_id"]
    other = make_member(session, name="Other group")
    session.commit()
    response = client.patch(
        f"{URL}/{subsidiary.id}", json={"parent_id": str(other.id)}, headers=staff_headers
    )
    assert response.status_code == 200
    assert response.get_json()["parent"] == {"id": str(other.id), "name": "Other group"}


def test_if_match(client, staff_headers, member):
    url = f"{URL}/{member.id}"
    stale = client.patch(url, json={"city": "Lyon"}, headers={**staff_headers, "If-Match": '"v9"'})
    assert stale.status_code == 412
    assert stale.content_type == "application/problem+json"
    etag = client.get(url, headers=staff_headers).headers["ETag"]
    fresh = client.patch(url, json={"city": "Lyon"}, headers={**staff_headers, "If-Match": etag})
    assert fresh.status_code == 200
    again = client.patch(url, json={"city": "Nice"}, headers={**staff_headers, "If-Match": etag})
    assert again.status_code == 412


def test_patch_errors(client, staff_headers, viewer_headers, member):
    url = f"{URL}/{member.id}"
    assert client.patch(url, json={"city": "X"}).status_code == 401
    assert client.patch(url, json={"city": "X"}, headers=viewer_headers).status_code == 403
    unknown = client.patch(url, json={"colour": "red"}, headers=staff_headers)
    assert unknown.status_code == 422
    assert list(unknown.get_json()["errors"]) == ["colour"]
    missing = f"{URL}/00000000-0000-4000-8000-000000000000"
    assert client.patch(missing, json={"city": "X"}, headers=staff_headers).status_code == 404


def test_archive_and_restore(client, staff_headers, member):
    url = f"{URL}/{member.id}"
    archived = client.post(
        f"{url}/archive", json={"reason": "Left the cluster"}, headers=staff_headers
    )
    assert archived.status_code == 200, archived.get_json()
    body = archived.get_json()
    assert body["is_archived"] is True
    assert body["archive_reason"] == "Left the cluster"
    assert body["archived_at"] is not None
    again = client.post(f"{url}/archive", json={"reason": "x"}, headers=staff_headers)
    assert again.status_code == 409
    restored = client.post(f"{url}/restore", headers=staff_headers)
    assert restored.status_code == 200
    assert restored.get_json()["is_archived"] is False
    assert restored.get_json()["archive_reason"] is None
    assert client.post(f"{url}/restore", headers=staff_headers).status_code == 409


def test_restore_keeps_an_optional_reason(client, staff_headers, member):
    url = f"{URL}/{member.id}"
    client.post(f"{url}/archive", json={"reason": "Membership lapsed"}, headers=staff_headers)
    restored = client.post(
        f"{url}/restore", json={"reason": "Renewed for 2027"}, headers=staff_headers
    )
    assert restored.status_code == 200, restored.get_json()
    body = restored.get_json()
    assert body["restore_reason"] == "Renewed for 2027"
    assert body["restored_at"] is not None
    client.post(f"{url}/archive", json={"reason": "Again"}, headers=staff_headers)
    too_long = client.post(f"{url}/restore", json={"reason": "x" * 501}, headers=staff_headers)
    assert too_long.status_code == 422
    assert "reason" in too_long.get_json()["errors"]
    unknown = client.post(f"{url}/restore", json={"why": "x"}, headers=staff_headers)
    assert unknown.status_code == 422


def test_archive_errors(client, staff_headers, viewer_headers, member):
    url = f"{URL}/{member.id}/archive"
    assert client.post(url, json={}, headers=staff_headers).status_code == 422
    assert client.post(url, json={"reason": " "}, headers=staff_headers).status_code == 422
    extra = client.post(url, json={"reason": "x", "when": "now"}, headers=staff_headers)
    assert list(extra.get_json()["errors"]) == ["when"]
    assert client.post(url, json={"reason": "x"}, headers=viewer_headers).status_code == 403
    assert client.post(url, json={"reason": "x"}).status_code == 401
    stale = client.post(url, json={"reason": "x"}, headers={**staff_headers, "If-Match": '"v7"'})
    assert stale.status_code == 412
    missing = f"{URL}/00000000-0000-4000-8000-000000000000/archive"
    assert client.post(missing, json={"reason": "x"}, headers=staff_headers).status_code == 404
    restore = f"{URL}/{member.id}/restore"
    assert client.post(restore, headers=viewer_headers).status_code == 403


def test_delete_a_member_with_nothing_attached(client, staff_headers, member):
    url = f"{URL}/{member.id}"
    stale = client.delete(url, headers={**staff_headers, "If-Match": '"v5"'})
    assert stale.status_code == 412
    response = client.delete(url, headers={**staff_headers, "If-Match": '"v1"'})
    assert response.status_code == 204
    assert client.get(url, headers=staff_headers).status_code == 404
    assert client.delete(url, headers=staff_headers).status_code == 404


def test_delete_is_refused_when_contacts_are_attached(client, staff_headers, member, session):
    make_affiliation(session, member=member, end_date=date(2020, 1, 1))
    session.commit()
    response = client.delete(f"{URL}/{member.id}", headers=staff_headers)
    assert response.status_code == 409
    assert "archive" in response.get_json()["detail"]
    assert client.get(f"{URL}/{member.id}", headers=staff_headers).status_code == 200


def test_delete_is_refused_when_subsidiaries_exist(client, staff_headers, member, session):
    make_member(session, parent_id=member.id)
    session.commit()
    response = client.delete(f"{URL}/{member.id}", headers=staff_headers)
    assert response.status_code == 409
    assert "subsidiaries" in response.get_json()["detail"]


def test_delete_permissions(client, viewer_headers, member):
    assert client.delete(f"{URL}/{member.id}").status_code == 401
    assert client.delete(f"{URL}/{member.id}", headers=viewer_headers).status_code == 403


def test_upsert_by_external_id(client, staff_headers):
    url = f"{URL}/by-external-id/crm-7"
    body = {"name": "Biotech X", "category": "startup", "city": "Paris", "postal_code": "75013"}
    created = client.put(url, json=body, headers=staff_headers)
    assert created.status_code == 201, created.get_json()
    member = created.get_json()
    assert member["external_id"] == "crm-7"
    assert created.headers["Location"].endswith(member["id"])
    updated = client.put(
        url, json={"name": "Biotech X SAS", "category": "sme"}, headers=staff_headers
    )
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["id"] == member["id"]
    assert updated.get_json()["name"] == "Biotech X SAS"
    assert updated.get_json()["city"] == "Paris"  # fields not sent are kept
    assert updated.headers["ETag"] == '"v2"'


def test_upsert_errors(client, staff_headers, viewer_headers, member):
    url = f"{URL}/by-external-id/crm-8"
    body = {"name": "B", "category": "sme"}
    assert client.put(url, json=body).status_code == 401
    assert client.put(url, json=body, headers=viewer_headers).status_code == 403
    assert client.put(url, json={"name": "B"}, headers=staff_headers).status_code == 422
    with_id = client.put(url, json={**body, "external_id": "x"}, headers=staff_headers)
    assert list(with_id.get_json()["errors"]) == ["external_id"]
    duplicate = client.put(url, json={**body, "siren": SIREN}, headers=staff_headers)
    assert duplicate.status_code == 409
    assert duplicate.get_json()["existing"]["id"] == str(member.id)
    too_long = client.put(f"{URL}/by-external-id/{'x' * 101}", json=body, headers=staff_headers)
    assert too_long.status_code == 422
    assert list(too_long.get_json()["errors"]) == ["external_id"]


def test_patch_postal_code_alone_of_a_foreign_member_is_not_checked_as_french(
    client, staff_headers, session
):
    # The body has no country, but the member's stored country (BE) is what counts.
    foreign = make_member(session, country="BE", postal_code="1050")
    session.commit()
    response = client.patch(
        f"{URL}/{foreign.id}", json={"postal_code": "1000"}, headers=staff_headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["postal_code"] == "1000"
    assert response.get_json()["departement"] is None


def test_upsert_accepts_external_ids_with_slashes(client, staff_headers):
    # Importers' keys often look like paths (ERP/2024/17); contacts accept them too.
    response = client.put(
        f"{URL}/by-external-id/erp/2024/17",
        json={"name": "Biotech X", "category": "startup"},
        headers=staff_headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["external_id"] == "erp/2024/17"
