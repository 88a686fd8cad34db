"""The HTTP layer: ``create_app()`` wires configuration, extensions, errors and blueprints."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from api.auth import configure_jwt
from api.blueprint import BEARER_SCHEME
from api.config import SETTINGS_KEY, Settings
from api.docs import docs_blueprint
from api.errors import register_error_handlers
from api.extensions import api, cors, db
from api.request_context import configure_logging, register_request_hooks
from api.resources import auth, contacts, domains, health, interactions, members, users
from services.passwords import configure_password_hashing
from services.roles import ALL_SCOPES

API_DESCRIPTION = """Member relationship management for a health-technology cluster.

Authenticate with `POST /api/v1/auth/token`, then send `Authorization: Bearer <access_token>`.
Each operation lists the scope it needs. Errors are `application/problem+json` (RFC 9457).
Lists are keyset-paginated: follow `next_cursor` (or the `Link: rel="next"` header).
"""


def _openapi_config(settings: Settings) -> dict[str, object]:
    return {
        "API_TITLE": "mrm",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "api/v1/openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": API_DESCRIPTION},
            "components": {
                "securitySchemes": {
                    BEARER_SCHEME: {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "Scopes: " + ", ".join(sorted(ALL_SCOPES)),
                    }
                }
            },
        },
    }


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; nothing connects to the database until a request needs it."""
    settings = settings or Settings.from_env()
    app = Flask("mrm", instance_path=str(settings.instance_dir))
    app.extensions[SETTINGS_KEY] = settings
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.env == "test",
        **_openapi_config(settings),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count)  # type: ignore[method-assign]

    configure_logging(settings.log_level)
    configure_password_hashing(
        time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
    )
    db.init_app(app, settings)
    configure_jwt(app, settings)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": list(settings.cors_origins)}},
        expose_headers=["ETag", "Link", "Location", "X-Request-ID", "Retry-After"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "X-Request-ID",
        ],
        max_age=600,
    )
    register_request_hooks(app)
    api.init_app(app)
    register_error_handlers(app)
    for module in (health, auth, users, members, domains, contacts, interactions):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs_blueprint)
    return app
