"""The interactive API docs at ``/docs``, with Swagger UI served from an installed package.

No CDN: the page works on a machine without internet access.
"""

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
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "{spec}",
        dom_id: "#swagger-ui",
        deepLinking: true,
        persistAuthorization: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout"
      }});
    }};
  </script>
</body>
</html>
"""


@docs_blueprint.get("/docs")
def docs_page() -> Response:
    assets = url_for("docs.docs_asset", filename="x").rsplit("/", 1)[0]
    page = _PAGE.format(assets=assets, spec=url_for("api-docs.openapi_json"))
    return Response(page, mimetype="text/html")


@docs_blueprint.get("/docs/assets/<path:filename>")
def docs_asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_DIST, filename, max_age=86400)
