"""Plain factory functions: they add records and flush, never commit."""

import itertools
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import User
from services.passwords import hash_password

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def make_user(
    session: Session,
    *,
    role: str = "staff",
    email: str | None = None,
    password: str = PASSWORD,
    is_active: bool = True,
    full_name: str = "",
) -> User:
    user = User(
        email=email or f"user{next(_sequence)}@example.org",
        password_hash=hash_password(password),
        role=role,
        is_active=is_active,
        full_name=full_name,
    )
    session.add(user)
    session.flush()
    return user


def log_in(
    client: FlaskClient, email: str, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/token", json={"email": email, "password": password, **extra}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def headers_for(client: FlaskClient, session: Session, role: str) -> dict[str, str]:
    """Authorization headers of a new user with ``role``."""
    user = make_user(session, role=role)
    session.commit()
    return bearer(log_in(client, user.email)["access_token"])
