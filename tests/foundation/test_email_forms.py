"""Every spelling of one e-mail address meets the same user or contact.

Created with one spelling, an account must log in with another (NFD, punycode domain,
fullwidth letters, any case), and a second record with another spelling is a duplicate.
"""

import unicodedata

import pytest

from services.emails import normalize_email
from tests.factories import PASSWORD, log_in

USERS_URL = "/api/v1/users"
CONTACTS_URL = "/api/v1/contacts"
STORED = "bob@exämple.fr"
SPELLINGS = {
    "nfc-capitals": "Bob@EXÄMPLE.fr",
    "nfd": unicodedata.normalize("NFD", "bob@exämple.fr"),
    "punycode": "bob@xn--exmple-cua.fr",
    "fullwidth": "ｂｏｂ@exämple.fr",
    "spaces": "  bob@exämple.fr ",
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_one_normal_form(spelling):
    assert normalize_email(spelling) == STORED
    assert normalize_email(normalize_email(spelling)) == STORED


def test_case_folding_goes_beyond_lower_case():
    assert normalize_email("STRAßE@example.org") == normalize_email("strasse@example.org")


def _create_user(client, headers, email):
    body = {"email": email, "password": PASSWORD, "role": "staff"}
    return client.post(USERS_URL, json=body, headers=headers)


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_user_logs_in_with_any_spelling(client, admin_headers, spelling):
    created = _create_user(client, admin_headers, "Bob@Exämple.fr")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["email"] == STORED
    assert log_in(client, spelling)["access_token"]


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_another_spelling_is_the_same_user(client, admin_headers, spelling):
    assert _create_user(client, admin_headers, STORED).status_code == 201
    response = _create_user(client, admin_headers, spelling)
    assert response.status_code == 409, response.get_json()
    assert "email" in response.get_json()["errors"]


def test_failed_logins_count_under_one_key_whatever_the_spelling(client, admin_headers):
    assert _create_user(client, admin_headers, STORED).status_code == 201
    for spelling in SPELLINGS.values():
        response = client.post(
            "/api/v1/auth/token", json={"email": spelling, "password": "wrong password"}
        )
        assert response.status_code == 401
    locked = client.post("/api/v1/auth/token", json={"email": STORED, "password": PASSWORD})
    assert locked.status_code == 429


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_another_spelling_is_the_same_contact(client, staff_headers, spelling):
    first = {"first_name": "Bob", "last_name": "Martin", "email": STORED}
    assert client.post(CONTACTS_URL, json=first, headers=staff_headers).status_code == 201
    second = {**first, "email": spelling}
    response = client.post(CONTACTS_URL, json=second, headers=staff_headers)
    assert response.status_code == 409, response.get_json()
    assert "email" in response.get_json()["errors"]
