"""Readiness: can we reach the database?"""

from sqlalchemy import text
from sqlalchemy.orm import Session


def check_database(session: Session) -> None:
    """Run a trivial query; a failure raises ``OperationalError`` (answered with 503)."""
    session.execute(text("SELECT 1"))
