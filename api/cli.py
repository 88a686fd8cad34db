"""The ``mrm`` command: database upgrades, user creation and a one-step start."""

import os
import signal
import subprocess
import sys
from typing import Any

import click
import marshmallow as ma
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from api import create_app
from api.config import current_settings
from api.extensions import db
from api.jobs import app_jobs
from schemas.users import UserCreate
from services.bootstrap import ensure_first_admin
from services.errors import ServiceError
from services.journal import Origin, writing_as
from services.migrations import upgrade_database
from services.roles import Role
from services.users import create_user, reset_password

DEFAULT_ADMIN_EMAIL = "admin@example.org"


def _checked_account(fields: dict[str, Any], *, partial: tuple[str, ...] = ()) -> dict[str, Any]:
    """Hold accounts made here to the rules of ``POST /users`` (e-mail syntax, password length)."""
    try:
        return UserCreate().load(fields, partial=partial)
    except ma.ValidationError as exc:
        messages = exc.normalized_messages()
        details = "; ".join(
            f"{name}: {' '.join(map(str, errs))}" for name, errs in messages.items()
        )
        raise click.ClickException(f"Invalid account: {details}") from exc


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
    account = _checked_account(
        {"email": email, "password": password, "role": role, "full_name": full_name}
    )
    try:
        with writing_as(Origin(source="cli")):
            user = create_user(db.session, **account)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created {user.role} {user.email} ({user.id}).")


@main.command("reset-password")
@click.option("--email", required=True)
@click.password_option(envvar="MRM_NEW_USER_PASSWORD")
@with_appcontext
def reset_password_command(email: str, password: str) -> None:
    """Set a new password for an account, e.g. a lost admin password (prompted, or read from
    the environment). Its open logins end, and it is active and unlocked again."""
    account = _checked_account({"email": email, "password": password}, partial=("role",))
    try:
        user = reset_password(db.session, email=account["email"], password=account["password"])
    except ServiceError as exc:
        raise click.ClickException(f"No account with the e-mail {account['email']}.") from exc
    click.echo(f"New password set for {user.role} {user.email}.")


def _bootstrap() -> None:
    upgrade_database(db.engine)
    given = {
        "email": os.environ.get("MRM_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL,
        "password": os.environ.get("MRM_ADMIN_PASSWORD") or None,
        "role": Role.ADMIN.value,
    }
    if given["password"] is None:
        del given["password"]
    account = _checked_account(given, partial=("password",))
    with writing_as(Origin(source="cli")):
        result = ensure_first_admin(
            db.session, email=account["email"], password=account.get("password")
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


WORKER_COMMAND = [sys.executable, "-c", "from api.cli import main; main()", "worker"]
GUNICORN_COMMAND = [
    sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_config", "wsgi:app",
]  # fmt: skip


@main.command("start")
@with_appcontext
def start_command() -> None:
    """Migrate, create the first admin if needed, then serve with gunicorn and one job worker."""
    _bootstrap()
    db.engine.dispose()  # no connection may cross gunicorn's fork
    backend = current_settings().database_url.split(":")[0]
    click.echo(f"Serving on http://{os.environ.get('MRM_BIND', '127.0.0.1:8000')} ({backend})")
    sys.stdout.flush()
    worker = subprocess.Popen(WORKER_COMMAND)
    server = subprocess.Popen(GUNICORN_COMMAND)
    # A stop request (a service manager's SIGTERM) stops gunicorn gracefully, then the worker.
    signal.signal(signal.SIGTERM, lambda signum, _frame: server.send_signal(signum))
    try:
        code = server.wait()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    sys.exit(code)


@main.command("worker")
@click.option("--workers", default=1, show_default=True, help="Threads running jobs.")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the job consumer (webhook deliveries and the periodic sweep) until interrupted."""
    from huey.consumer import Consumer  # noqa: PLC0415 - only the worker needs it

    jobs = app_jobs(current_app)
    db.engine.dispose()
    Consumer(jobs.huey, workers=workers, worker_type="thread").run()


def _add_import_command() -> None:
    from api.cli_imports import import_command  # noqa: PLC0415 - keeps cli.py's imports light

    main.add_command(import_command)


_add_import_command()
