"""The Flask class mrm runs on: Flask's, with its per-call coroutine check remembered."""

import inspect
import types
from collections.abc import Callable
from typing import Any

from flask import Flask


class MrmFlask(Flask):
    """Flask asks ``inspect.iscoroutinefunction`` about every hook and view on every request
    (about twenty times a request here, some 30 us of CPU); the answer for a function never
    changes, so it is remembered per function. Bound methods (a view class's, new on every
    request) are remembered by their function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutine_functions: dict[types.FunctionType, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        function = getattr(func, "__func__", func)
        if not isinstance(function, types.FunctionType):
            return super().ensure_sync(func)
        is_coroutine = self._coroutine_functions.get(function)
        if is_coroutine is None:
            is_coroutine = inspect.iscoroutinefunction(function)
            self._coroutine_functions[function] = is_coroutine
        return self.async_to_sync(func) if is_coroutine else func
