"""Rows committed by one test (through the API or the session) are gone in the next one.

The two tests run in file order, once per backend. On SQLite this failed until the engine took
over BEGIN from the sqlite3 driver (see ``api/database.py``).
"""

from sqlalchemy import func, select

from models import Member, User


def test_write_through_the_api_and_the_session(client, staff_headers, session):
    response = client.post(
        "/api/v1/members", json={"name": "Leak probe", "category": "sme"}, headers=staff_headers
    )
    assert response.status_code == 201
    session.add(User(email="probe@example.org", password_hash="x", role="viewer"))
    session.commit()


def test_previous_writes_are_gone(session):
    assert session.scalar(select(func.count()).select_from(Member)) == 0
    assert session.scalar(select(func.count()).select_from(User)) == 0
