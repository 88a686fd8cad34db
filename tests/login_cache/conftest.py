"""An app that commits for real and remembers its login checks, and a second "worker" beside it.

The second app shares the database but not the cache, and it has none of its own: a change it
commits reaches the first app only the way a change from another process does, through
PostgreSQL's notification.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from api import create_app
from api.extensions import db
from tests.conftest import make_settings
from tests.factories import bearer, log_in, make_user


@pytest.fixture
def other_worker(committing_app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(make_settings(database_url, tmp_path, login_cache=False))
    yield application
    db.state(application).engine.dispose()


@pytest.fixture
def admin_on_other_worker(other_worker: Flask, real_session: Session) -> dict[str, str]:
    admin = make_user(real_session, role="admin")
    real_session.commit()
    return bearer(log_in(other_worker.test_client(), admin.email)["access_token"])
