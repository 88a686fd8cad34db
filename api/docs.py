"""The interactive API docs at ``/docs``, with Swagger UI served from an installed package.

No CDN and no validator badge (``validatorUrl: null``): the page never calls anything but this
server, and works on a machine without internet access. Its Content-Security-Policy allows only
this server's scripts plus the page's own inline start-up script (by nonce), and no framing.
"""

import secrets
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, send_from_directory, url_for

SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

docs_blueprint = Blueprint("docs", __name__)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>mrm API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{assets}/swagger-ui-standalone-preset.js"></script>
  <script nonce="{nonce}">
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "{spec}",
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        persistAuthorization: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout"
      }});
    }};
  </script>
</body>
</html>
"""


def content_security_policy(nonce: str) -> str:
    """What Swagger UI needs: its scripts and styles from here, inline styles it sets on
    elements, images as data: URIs, and fetches of the spec and "Try it out" to this server."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@docs_blueprint.get("/docs")
def docs_page() -> Response:
    assets = url_for("docs.docs_asset", filename="x").rsplit("/", 1)[0]
    nonce = secrets.token_urlsafe(16)
    page = _PAGE.format(assets=assets, spec=url_for("api-docs.openapi_json"), nonce=nonce)
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"  # the nonce must be new on every load
    return response


@docs_blueprint.get("/docs/assets/<path:filename>")
def docs_asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_DIST, filename, max_age=86400)
