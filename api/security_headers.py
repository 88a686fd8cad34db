"""Headers every response carries so that browsers and caches handle it safely.

- ``X-Content-Type-Options: nosniff`` everywhere: a browser never reads a JSON body as HTML.
- ``Cache-Control: no-store`` on every ``/api/v1`` answer except the OpenAPI document, unless
  the view chose its own: tokens (RFC 6749 §5.1) and personal data (names, e-mails, phones) must
  not stay in a shared or browser cache. One rule for the whole API is safer than a list of the
  answers that hold personal data, which would fall behind as resources are added.
- ``/docs`` sets its own Content-Security-Policy and framing rules (api/docs.py).
"""

from flask import Flask, Response, request

API_PREFIX = "/api/v1/"
CACHEABLE_PATHS = frozenset({"/api/v1/openapi.json"})


def _add_security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if (
        request.path.startswith(API_PREFIX)
        and request.path not in CACHEABLE_PATHS
        and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = "no-store"
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(_add_security_headers)
