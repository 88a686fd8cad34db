"""Waiting for the login listener, and another "worker" that writes without this process's cache."""

import time
from collections.abc import Callable

from flask import Flask

from api.auth import login_listener
from services.login_listener import LoginListener

# The promise: a change is refused everywhere within this many seconds of its commit.
WITHIN_SECONDS = 1.0


def eventually(predicate: Callable[[], bool], seconds: float = WITHIN_SECONDS) -> bool:
    """Whether ``predicate`` holds within ``seconds`` (checked every few milliseconds)."""
    deadline = time.monotonic() + seconds
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def listening(app: Flask) -> LoginListener:
    """The app's listener, started in this process and listening (or the test fails)."""
    listener = login_listener(app)
    assert listener is not None
    cache = listener.running_cache()
    assert eventually(lambda: cache.listening, 10), "the login listener did not connect"
    return listener
