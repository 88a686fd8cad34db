"""Each test's writes, committed by services, are rolled back before the next test."""

from sqlalchemy import func, select

from models import Contact

ISOLATION_EMAIL = "isolation@example.org"


def _count(session) -> int:
    return session.scalar(
        select(func.count()).select_from(Contact).where(Contact.email == ISOLATION_EMAIL)
    )


def test_a_committed_contact(client, staff_headers, session):
    response = client.post(
        "/api/v1/contacts",
        json={"first_name": "A", "last_name": "B", "email": ISOLATION_EMAIL},
        headers=staff_headers,
    )
    assert response.status_code == 201
    assert _count(session) == 1


def test_is_gone_in_the_next_test(session):
    assert _count(session) == 0
