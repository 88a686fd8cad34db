"""The /domains vocabulary: read with members:read, written only by admins."""

import pytest

URL = "/api/v1/domains"


def test_list_seeded_domains(client, viewer_headers):
    response = client.get(URL, query_string={"limit": 200}, headers=viewer_headers)
    assert response.status_code == 200
    codes = [row["code"] for row in response.get_json()["data"]]
    assert codes == sorted(codes)
    assert {"diagnostics", "therapeutics", "medical_devices", "imaging", "biotech"} <= set(codes)


def test_admin_adds_relabels_and_deactivates_a_domain(client, admin_headers, viewer_headers):
    created = client.post(
        URL, json={"code": "genomics", "label": "Genomics"}, headers=admin_headers
    )
    assert created.status_code == 201, created.get_json()
    domain = created.get_json()
    assert domain["is_active"] is True
    assert created.headers["Location"].endswith(domain["id"])
    url = f"{URL}/{domain['id']}"
    patched = client.patch(
        url, json={"label": "Genomics and sequencing", "is_active": False}, headers=admin_headers
    )
    assert patched.status_code == 200
    assert patched.get_json()["label"] == "Genomics and sequencing"
    assert patched.headers["ETag"] == '"v2"'
    inactive = client.get(URL, query_string={"is_active": "false"}, headers=viewer_headers)
    assert [row["code"] for row in inactive.get_json()["data"]] == ["genomics"]


def test_domain_errors(client, admin_headers):
    assert (
        client.post(URL, json={"code": "imaging", "label": "X"}, headers=admin_headers).status_code
        == 409
    )
    for body, field in (
        ({"code": "Bad Code", "label": "X"}, "code"),
        ({"code": "x", "label": "X"}, "code"),
        ({"code": "ok_code", "label": ""}, "label"),
        ({"code": "ok_code", "label": "X", "colour": "red"}, "colour"),
    ):
        response = client.post(URL, json=body, headers=admin_headers)
        assert response.status_code == 422, body
        assert list(response.get_json()["errors"]) == [field]
    domain = client.get(URL, headers=admin_headers).get_json()["data"][0]
    url = f"{URL}/{domain['id']}"
    renamed = client.patch(url, json={"code": "other"}, headers=admin_headers)
    assert renamed.status_code == 422
    assert list(renamed.get_json()["errors"]) == ["code"]
    stale = client.patch(url, json={"label": "X"}, headers={**admin_headers, "If-Match": '"v9"'})
    assert stale.status_code == 412
    missing = f"{URL}/00000000-0000-4000-8000-000000000000"
    assert client.patch(missing, json={"label": "X"}, headers=admin_headers).status_code == 404
    assert (
        client.get(URL, query_string={"sort": "colour"}, headers=admin_headers).status_code == 422
    )


@pytest.mark.parametrize("role_headers", ["staff_headers", "viewer_headers"])
def test_only_admins_edit_the_vocabulary(client, request, role_headers, admin_headers):
    headers = request.getfixturevalue(role_headers)
    body = {"code": "genomics", "label": "Genomics"}
    assert client.post(URL, json=body, headers=headers).status_code == 403
    domain = client.get(URL, headers=admin_headers).get_json()["data"][0]
    response = client.patch(f"{URL}/{domain['id']}", json={"label": "X"}, headers=headers)
    assert response.status_code == 403


def test_domains_need_a_token(client):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"code": "genomics", "label": "G"}).status_code == 401
