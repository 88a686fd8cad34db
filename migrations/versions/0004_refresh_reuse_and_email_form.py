"""Logins remember the refresh token they rotated last; stored e-mails take the one normal form.

``auth_sessions.previous_refresh_jti`` lets a refresh retried within the reuse window get the
same new pair. E-mails of users and contacts were stored NFC and lower-cased; they are now
NFKC, email-validator's form and case-folded (``services/emails.py``), so each stored address is
rewritten to that form. An address whose new form another row already holds (a duplicate the
old rule let in) is left as it was and reported, for an admin to resolve.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:40:00
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from email_validator import EmailNotValidError, validate_email

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")


def _normal_form(address: str) -> str | None:
    """``services.emails.normalize_email`` as of this revision (frozen: the code may change)."""
    compatible = unicodedata.normalize("NFKC", address.strip())
    try:
        normalized = validate_email(compatible, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
    return unicodedata.normalize("NFKC", normalized.casefold())


def _renormalize(table: str, *, archivable: bool) -> None:
    """Rewrite each e-mail of ``table`` to its normal form unless an active row holds it.

    Users are all active here (unique e-mail); contacts only among those not archived.
    """
    connection = op.get_bind()
    archived_at = "archived_at" if archivable else "NULL"
    rows = connection.execute(
        sa.text(f"SELECT id, email, {archived_at} FROM {table} WHERE email IS NOT NULL")
    ).all()
    taken = {email for _id, email, archived in rows if archived is None}
    for row_id, email, archived in rows:
        new = _normal_form(email)
        if new is None or new == email:
            continue
        if archived is None:
            if new in taken:
                logger.warning("%s %s: e-mail left as is, its normal form is taken", table, row_id)
                continue
            taken.discard(email)
            taken.add(new)
        connection.execute(
            sa.text(f"UPDATE {table} SET email = :email WHERE id = :id"),
            {"email": new, "id": row_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_refresh_jti", sa.String(length=64), nullable=True))
    _renormalize("users", archivable=False)
    _renormalize("contacts", archivable=True)


def downgrade() -> None:
    # The e-mails keep their normal form: it is a valid spelling of the same addresses.
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("previous_refresh_jti")
