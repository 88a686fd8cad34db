"""Contacts' names, e-mails and phones never reach the logs."""

import io
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.request_context import JsonFormatter

NAME, EMAIL, PHONE = "Zéphyrine", "zephyrine.secret@example.org", "+33612345678"


@pytest.fixture
def mrm_log():
    """Everything the "mrm" loggers write, at every level, as the JSON lines they produce."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("mrm")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_contact_requests_do_not_log_personal_data(client, staff_headers, mrm_log):
    body = {"first_name": NAME, "last_name": "Quist", "email": EMAIL, "phones": [{"number": PHONE}]}
    created = client.post("/api/v1/contacts", json=body, headers=staff_headers)
    assert created.status_code == 201
    invalid = client.post(
        "/api/v1/contacts",
        json={**body, "email": f"{NAME}@", "phones": [{"number": f"{PHONE}99"}]},
        headers=staff_headers,
    )
    assert invalid.status_code == 422
    duplicate = client.post("/api/v1/contacts", json=body, headers=staff_headers)
    assert duplicate.status_code == 409
    search = client.get("/api/v1/contacts", query_string={"q": NAME}, headers=staff_headers)
    assert search.status_code == 200
    contact_id = created.get_json()["id"]
    client.patch(f"/api/v1/contacts/{contact_id}", json={"email": "x"}, headers=staff_headers)

    logged = mrm_log.getvalue()
    assert "/api/v1/contacts" in logged  # the access log did record the requests
    assert contact_id in logged or "POST" in logged
    for secret in (NAME, "Quist", EMAIL, PHONE, "zephyrine"):
        assert secret not in logged
        assert secret.lower() not in logged.lower()


def test_database_errors_do_not_carry_statement_values(session):
    """Logged database errors (503s, unexpected ones) must not quote a contact's values."""
    with pytest.raises(DBAPIError) as caught:
        session.execute(
            text("SELECT email FROM no_such_table WHERE email = :email"), {"email": EMAIL}
        )
    session.rollback()
    assert EMAIL not in str(caught.value)
