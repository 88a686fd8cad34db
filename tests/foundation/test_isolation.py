"""Each test's writes vanish with its SAVEPOINT: the second test must not see the first's user.

The two tests run in file order for each backend; the second fails if the first did not run.
"""

from sqlalchemy import select

from models import User
from tests.factories import make_user

EMAIL = "isolation-probe@example.org"
_written_on: set[str] = set()


def test_first_writes_and_commits_a_user(client, admin_headers, backend):
    response = client.post(
        "/api/v1/users",
        json={"email": EMAIL, "password": "long enough password", "role": "viewer"},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.get_json()
    _written_on.add(backend)


def test_second_does_not_see_it(session, backend):
    assert backend in _written_on, "the writing test must run first"
    assert session.scalar(select(User).where(User.email == EMAIL)) is None
    # and the email is free again
    make_user(session, email=EMAIL)
    session.commit()
