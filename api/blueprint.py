"""flask-smorest's Blueprint, adjusted to the API's conventions.

- Unknown query parameters and body fields are rejected (422), never silently ignored.
- ``Blueprint.auth(scope)`` checks a token and a scope, and documents both in the spec.
- ``Blueprint.if_match`` documents optimistic concurrency on writes.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser

from api.auth import authorize

BEARER_SCHEME = "bearerAuth"


class StrictParser(FlaskParser):
    """A webargs parser that refuses what the schema does not know, in every location."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
        "json": ma.RAISE,
    }


class Blueprint(flask_smorest.Blueprint):
    """A resource's routes; see the module docstring for what it adds."""

    ARGUMENTS_PARSER = StrictParser()

    def auth(self, scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Require a valid access token granting ``scope``; document 401 and 403."""

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                authorize(scope)
                return func(*args, **kwargs)

            documented = self.doc(security=[{BEARER_SCHEME: [scope]}])(wrapper)
            documented = self.alt_response(401, response="UNAUTHORIZED")(documented)
            return self.alt_response(403, response="FORBIDDEN")(documented)

        return decorator

    def if_match(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Document the optional ``If-Match`` header and its 412 answer."""
        documented = self.doc(parameters=["IF_MATCH"])(func)
        return self.alt_response(412, response="PRECONDITION_FAILED")(documented)

    def authenticated(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Require a valid access token, whatever its scopes."""

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(None)
            return func(*args, **kwargs)

        documented = self.doc(security=[{BEARER_SCHEME: []}])(wrapper)
        return self.alt_response(401, response="UNAUTHORIZED")(documented)
