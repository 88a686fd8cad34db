"""First start: make sure someone can log in."""

import secrets
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import User
from services.roles import Role
from services.users import create_user


@dataclass(frozen=True)
class BootstrapResult:
    """The admin created on an empty database; ``generated_password`` is shown once."""

    email: str
    generated_password: str | None


def ensure_first_admin(
    session: Session, *, email: str, password: str | None
) -> BootstrapResult | None:
    """Create an admin when there is no user at all; do nothing otherwise."""
    if session.scalar(select(exists().where(User.id.is_not(None)))):
        return None
    generated = None if password else secrets.token_urlsafe(15)
    user = create_user(session, email=email, password=password or generated or "", role=Role.ADMIN)
    return BootstrapResult(email=user.email, generated_password=generated)
