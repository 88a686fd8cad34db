"""Sending requests at the same instant, for tests of concurrent transactions."""

import threading
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

Sender = Callable[[FlaskClient], TestResponse]


def send_together(app: Flask, *senders: Sender) -> list[TestResponse]:
    """Run each ``send(client)`` in its own thread, all released at the same instant; return
    the responses in the order of ``senders``. A sender that raises fails the test."""
    barrier = threading.Barrier(len(senders))
    responses: list[TestResponse | None] = [None] * len(senders)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            responses[index] = senders[index](client)
        except BaseException as exc:  # reported below, in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert all(response is not None for response in responses), "a request did not finish"
    return responses  # type: ignore[return-value]
