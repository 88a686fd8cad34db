"""The ``mrm`` command: database upgrades, user creation and a one-step start."""

import os
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from api import create_app
from api.config import current_settings
from api.extensions import db
from services.bootstrap import ensure_first_admin
from services.errors import ServiceError
from services.migrations import upgrade_database
from services.roles import Role
from services.users import create_user

DEFAULT_ADMIN_EMAIL = "admin@example.org"


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=True)
def main() -> None:
    """mrm: member relationship management API."""


@main.group("db")
def db_group() -> None:
    """Database commands."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply pending migrations."""
    upgrade_database(db.engine)
    click.echo("Database is up to date.")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
@click.option("--full-name", default="")
@click.password_option(envvar="MRM_NEW_USER_PASSWORD")
@with_appcontext
def create_user_command(email: str, role: str, full_name: str, password: str) -> None:
    """Create a user with a role (the password is prompted for, or read from the environment)."""
    try:
        user = create_user(
            db.session, email=email, password=password, role=role, full_name=full_name
        )
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created {user.role} {user.email} ({user.id}).")


def _bootstrap() -> None:
    upgrade_database(db.engine)
    result = ensure_first_admin(
        db.session,
        email=os.environ.get("MRM_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
        password=os.environ.get("MRM_ADMIN_PASSWORD") or None,
    )
    if result is None:
        return
    click.echo(f"Created the first admin: {result.email}")
    if result.generated_password:
        click.echo(f"Generated password (shown once): {result.generated_password}")


@main.command("bootstrap")
@with_appcontext
def bootstrap_command() -> None:
    """Migrate, and on an empty database create the first admin."""
    _bootstrap()


@main.command("start")
@with_appcontext
def start_command() -> None:
    """Migrate, create the first admin if needed, then serve with gunicorn."""
    _bootstrap()
    db.engine.dispose()  # no connection may cross gunicorn's fork
    backend = current_settings().database_url.split(":")[0]
    click.echo(f"Serving on http://{os.environ.get('MRM_BIND', '127.0.0.1:8000')} ({backend})")
    sys.stdout.flush()
    os.execvp(
        sys.executable,
        [sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_config", "wsgi:app"],
    )
