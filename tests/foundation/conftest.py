"""Helpers for the foundation tests: extra apps beside the session's, and token crafting."""

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from api.extensions import db
from tests.conftest import make_settings


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Create another app (other settings) on the test database; engines disposed afterwards."""
    apps: list[Flask] = []

    def factory(url: str | None = None, **overrides: object) -> Flask:
        application = create_app(
            make_settings(url or database_url, tmp_path / f"instance{len(apps)}", **overrides)
        )
        apps.append(application)
        return application

    yield factory
    for application in apps:
        db.state(application).engine.dispose()


@pytest.fixture
def joined_app(make_app: Callable[..., Flask], session: Session) -> Callable[..., Flask]:
    """An app with other settings whose requests join the test's SAVEPOINT transaction."""

    def factory(**overrides: object) -> Flask:
        application = make_app(**overrides)
        db.state(application).session_factory = sessionmaker(
            bind=session.get_bind(),
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        return application

    return factory


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def token_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return _load(header), _load(payload), signature


def _load(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
