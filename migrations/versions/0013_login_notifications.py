"""Login notifications: PostgreSQL tells every API process when a login check may have changed.

Each API process keeps the answers of its login checks in memory (``services/login_cache.py``)
and forgets them when told: triggers on ``users``, ``auth_sessions`` and ``api_clients`` send
``pg_notify('mrm_logins', '<kind>:<id>')`` for every deleted row and every update of a
column the checks read (``u`` a user, ``s`` a login, ``c`` an API client). Inserts notify
nothing: only rows read as existing are remembered, so a new row cannot make a remembered
answer wrong (an id deleted and inserted again was notified by its delete), and a login's
notification would only make every process forget the login it is about to use. PostgreSQL
delivers a notification when its transaction commits, and never when it rolls back, so a
process forgets exactly what committed. SQLite has no notifications: it keeps checking every
request in the database, and this revision does nothing there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 19:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "mrm_logins"

# table -> (payload prefix, the columns a login check reads)
WATCHED = {
    "users": ("u", ("id", "is_active", "role")),
    "auth_sessions": ("s", ("id", "user_id", "revoked_at")),
    "api_clients": ("c", ("id", "is_active", "scopes", "expires_at")),
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for table, (kind, columns) in WATCHED.items():
        function = f"mrm_notify_{table}_login"
        op.execute(
            f"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    PERFORM pg_notify('{CHANNEL}', '{kind}:' || OLD.id::text);
                    RETURN OLD;
                END IF;
                IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN
                    PERFORM pg_notify('{CHANNEL}', '{kind}:' || OLD.id::text);
                END IF;
                PERFORM pg_notify('{CHANNEL}', '{kind}:' || NEW.id::text);
                RETURN NEW;
            END
            $$
            """
        )
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns)
        op.execute(
            f"CREATE TRIGGER {table}_login_rows AFTER DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
        # Refreshing a login or recording a client's last use changes no check: only the
        # columns the checks read notify, so routine updates cost nothing.
        op.execute(
            f"CREATE TRIGGER {table}_login_columns AFTER UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    if not _postgresql():
        return
    for table in WATCHED:
        op.execute(f"DROP TRIGGER {table}_login_columns ON {table}")
        op.execute(f"DROP TRIGGER {table}_login_rows ON {table}")
        op.execute(f"DROP FUNCTION mrm_notify_{table}_login()")
