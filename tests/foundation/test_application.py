"""``MrmFlask`` remembers which functions are coroutines, and still tells them apart."""

import pytest

from api.application import MrmFlask


def plain() -> str:
    return "plain"


async def coroutine() -> str:
    return "coroutine"


class View:
    def get(self) -> str:
        return "bound"


def test_plain_functions_and_bound_methods_are_returned_as_they_are():
    app = MrmFlask("check")
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain  # the remembered answer
    first, second = View().get, View().get
    assert app.ensure_sync(first) is first
    assert app.ensure_sync(second) is second
    assert len(app._coroutine_functions) == 2, "bound methods are remembered by their function"


def test_a_coroutine_still_goes_through_flask_s_async_wrapper(monkeypatch):
    app = MrmFlask("check")
    wrapped = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: wrapped.append(func) or "wrapped")
    assert app.ensure_sync(coroutine) == "wrapped"
    assert app.ensure_sync(coroutine) == "wrapped"
    assert wrapped == [coroutine, coroutine]
    assert app.ensure_sync(plain) is plain


@pytest.mark.parametrize("func", [len, print])
def test_builtins_are_asked_about_each_time(func):
    app = MrmFlask("check")
    assert app.ensure_sync(func) is func
    assert app._coroutine_functions == {}
