"""Pooled PostgreSQL connections are pinged only after sitting idle; a dead one is replaced."""

import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.config import Settings
from api.database import IdleConnectionPinger, build_engine

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def make_engine(database_url, tmp_path):
    engines = []

    def factory(idle_seconds: int):
        settings = Settings.from_env(
            {},
            env="test",
            database_url=database_url,
            jwt_secret_key="k" * 40,
            instance_dir=tmp_path,
            db_ping_after_idle_seconds=idle_seconds,
        )
        engines.append(build_engine(settings))
        return engines[-1]

    yield factory
    for engine in engines:
        engine.dispose()


def _terminate(database_url: str, pid: int) -> None:
    url = make_url(database_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_killed_while_idle_is_replaced(make_engine, database_url):
    engine = make_engine(1)
    with engine.connect() as connection:
        first_pid = connection.scalar(text("SELECT pg_backend_pid()"))
    _terminate(database_url, first_pid)
    time.sleep(1.1)  # idle past the threshold: the next checkout pings, fails, reconnects
    with engine.connect() as connection:
        second_pid = connection.scalar(text("SELECT pg_backend_pid()"))
    assert second_pid != first_pid


def test_only_connections_idle_past_the_threshold_are_pinged(make_engine, monkeypatch):
    pings: list[object] = []
    original = IdleConnectionPinger.ping
    monkeypatch.setattr(
        IdleConnectionPinger,
        "ping",
        staticmethod(lambda conn: pings.append(conn) or original(conn)),
    )
    engine = make_engine(1)
    for _ in range(3):  # a new connection, then the same one reused at once
        with engine.connect() as connection:
            connection.scalar(text("SELECT 1"))
    assert pings == []
    time.sleep(1.1)
    with engine.connect() as connection:
        connection.scalar(text("SELECT 1"))
    assert len(pings) == 1
