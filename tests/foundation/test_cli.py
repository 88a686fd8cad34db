"""The ``mrm`` command on a fresh SQLite database under a temporary instance directory."""

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api import create_app
from api.cli import main
from api.extensions import db
from models import JournalEntry, User
from tests.conftest import make_settings
from tests.factories import bearer, log_in


@pytest.fixture
def instance(tmp_path):
    return tmp_path


@pytest.fixture
def run(instance):
    env = {
        "MRM_INSTANCE_DIR": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'cli.sqlite3'}",
        "MRM_ENV": "development",
        "JWT_SECRET_KEY": None,
        "MRM_ARGON2_TIME_COST": "1",
        "MRM_ARGON2_MEMORY_KIB": "64",
        "MRM_LOG_LEVEL": "WARNING",
        "MRM_ADMIN_EMAIL": None,
        "MRM_ADMIN_PASSWORD": None,
        "MRM_NEW_USER_PASSWORD": None,
    }

    def invoke(*args, **extra_env):
        return CliRunner().invoke(
            main, list(args), env={**env, **extra_env}, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def database(instance):
    """An app on the CLI's database, to check what the commands did."""
    url = f"sqlite:///{instance / 'cli.sqlite3'}"
    application = create_app(make_settings(url, instance / "check"))
    yield application
    db.state(application).engine.dispose()


def users(application):
    with application.app_context():
        return db.session.scalars(select(User).order_by(User.email)).all()


def test_bootstrap_creates_an_admin_with_a_generated_password(run, database):
    result = run("bootstrap")
    assert result.exit_code == 0, result.output
    assert "Created the first admin: admin@example.org" in result.output
    password = re.search(r"Generated password \(shown once\): (\S+)", result.output).group(1)
    assert len(password) >= 16
    (admin,) = users(database)
    assert (admin.email, admin.role, admin.is_active) == ("admin@example.org", "admin", True)
    assert password not in admin.password_hash
    tokens = log_in(database.test_client(), "admin@example.org", password)
    assert "users:admin" in tokens["scope"].split()

    again = run("bootstrap")
    assert again.exit_code == 0, again.output
    assert "Created" not in again.output
    assert "password" not in again.output.lower()
    assert len(users(database)) == 1


def test_bootstrap_uses_the_given_credentials(run, database):
    result = run(
        "bootstrap", MRM_ADMIN_EMAIL="Boss@Example.org", MRM_ADMIN_PASSWORD="a chosen passphrase"
    )
    assert result.exit_code == 0, result.output
    assert "Created the first admin: boss@example.org" in result.output
    assert "Generated password" not in result.output
    assert "a chosen passphrase" not in result.output
    log_in(database.test_client(), "boss@example.org", "a chosen passphrase")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"MRM_ADMIN_PASSWORD": "short"}, "password"),
        ({"MRM_ADMIN_EMAIL": "not an e-mail"}, "e-mail"),
    ],
)
def test_bootstrap_refuses_bad_credentials(run, database, extra, message):
    result = run("bootstrap", **extra)
    assert result.exit_code != 0
    assert message in result.output
    assert users(database) == []


def test_create_user(run, database):
    assert run("db", "upgrade").exit_code == 0
    result = run(
        "create-user",
        "--email",
        "Viewer@Example.org",
        "--role",
        "viewer",
        "--full-name",
        "A Viewer",
        MRM_NEW_USER_PASSWORD="viewer passphrase",
    )
    assert result.exit_code == 0, result.output
    assert "Created viewer viewer@example.org" in result.output
    (user,) = users(database)
    assert (user.email, user.role, user.full_name) == ("viewer@example.org", "viewer", "A Viewer")
    tokens = log_in(database.test_client(), "viewer@example.org", "viewer passphrase")
    assert "members:write" not in tokens["scope"].split()
    with database.app_context():
        entry = db.session.scalars(select(JournalEntry).order_by(JournalEntry.seq.desc())).first()
        assert (entry.event_type, entry.resource_id, entry.source, entry.actor_user_id) == (
            "user.created",
            user.id,
            "cli",
            None,
        )

    duplicate = run(
        "create-user", "--email", "viewer@example.org", MRM_NEW_USER_PASSWORD="viewer passphrase"
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    assert len(users(database)) == 1


@pytest.mark.parametrize(
    ("args", "password"),
    [
        (["--email", "bad address"], "long enough pass"),
        (["--email", "weak@example.org"], "weak"),
        (["--email", "x@example.org", "--role", "root"], "long enough pass"),
    ],
)
def test_create_user_refuses_bad_input(run, database, args, password):
    assert run("db", "upgrade").exit_code == 0
    result = run("create-user", *args, MRM_NEW_USER_PASSWORD=password)
    usage_error = "--role" in args  # click itself refuses an unknown choice
    assert result.exit_code == (2 if usage_error else 1), result.output
    assert users(database) == []


def test_reset_password_brings_a_lost_admin_back(run, database):
    result = run("bootstrap")
    old = re.search(r"Generated password \(shown once\): (\S+)", result.output).group(1)
    client = database.test_client()
    tokens = log_in(client, "admin@example.org", old)
    for _ in range(6):  # and the account got locked by guesses meanwhile
        client.post("/api/v1/auth/token", json={"email": "admin@example.org", "password": "x"})

    reset = run(
        "reset-password", "--email", "Admin@Example.org", MRM_NEW_USER_PASSWORD="a new passphrase"
    )
    assert reset.exit_code == 0, reset.output
    assert "New password set for admin admin@example.org" in reset.output
    assert "a new passphrase" not in reset.output
    log_in(client, "admin@example.org", "a new passphrase")
    refused = client.post(
        "/api/v1/auth/token", json={"email": "admin@example.org", "password": old}
    )
    assert refused.status_code == 401
    # the logins opened with the old password are over
    me = client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("nobody@example.org", "long enough pass", "No account"),
        ("admin@example.org", "weak", "password"),
    ],
)
def test_reset_password_refuses(run, database, email, password, message):
    assert run("bootstrap").exit_code == 0
    result = run("reset-password", "--email", email, MRM_NEW_USER_PASSWORD=password)
    assert result.exit_code == 1
    assert message in result.output
