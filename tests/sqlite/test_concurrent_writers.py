"""Concurrent writers on the embedded SQLite default, served as ``mrm start`` serves it.

The test fixtures share one connection through SAVEPOINTs, which hides lock contention: this
test runs gunicorn (4 processes x 2 threads) on its own SQLite file, so that writers in
different processes really compete for SQLite's single write lock.
"""

import secrets

from bench.servers import free_port
from bench.sqlite_writes import log_in, prepare_database, run_write_load, start_server


def test_concurrent_writes_from_several_processes_are_all_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("MRM_WORKERS", "4")
    monkeypatch.setenv("MRM_THREADS", "2")
    database_url = f"sqlite:///{tmp_path / 'writers.sqlite3'}"
    secret = secrets.token_urlsafe(48)
    prepare_database(database_url, tmp_path, secret)
    server = start_server(database_url, tmp_path, secret, tmp_path, free_port())
    try:
        token = log_in(server.port)
        load = run_write_load(server.port, token, clients=16, writes=12)
    finally:
        server.stop()

    # Creates and PATCHes (without If-Match, some on one member at once) all succeed: a
    # writer waits for the lock instead of being refused with 503 "database is locked".
    assert load.statuses.keys() <= {200, 201}, load.summary()
    assert len(load.samples) == 16 * 12
