"""The HTTP layer: ``create_app()`` wires configuration, extensions, errors and blueprints."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from api.application import MrmFlask
from api.auth import configure_jwt
from api.conditional import register_conditional_reads
from api.config import SETTINGS_KEY, Settings
from api.docs import docs_blueprint
from api.errors import register_error_handlers
from api.extensions import api, cors, db
from api.jobs import init_jobs
from api.journal_origin import install_origin_provider
from api.json_provider import OrjsonProvider
from api.openapi import BEARER_SCHEME, OAUTH2_SCHEME, TOKEN_URL, ContractPlugin
from api.rate_limits import LIMIT_HEADERS, init_rate_limits
from api.request_context import configure_logging, register_request_hooks
from api.resources import (
    api_clients,
    auth,
    changes,
    contacts,
    domains,
    events,
    health,
    imports,
    interactions,
    invoices,
    members,
    membership_plans,
    memberships,
    projects,
    users,
    webhooks,
)
from api.security_headers import register_security_headers
from services.passwords import configure_password_hashing
from services.roles import ALL_SCOPES, SCOPE_DESCRIPTIONS

API_DESCRIPTION = """Member relationship management for a health-technology cluster.

Authenticate with `POST /api/v1/auth/token`, then send `Authorization: Bearer <access_token>`.
Each operation lists the scope it needs. Errors are `application/problem+json` (RFC 9457).
Lists are keyset-paginated: follow `next_cursor` (or the `Link: rel="next"` header).
"""


def _security_schemes() -> dict[str, object]:
    """One OAuth 2 scheme lists the scopes (each operation names the one it needs); the plain
    bearer scheme is the same token pasted by hand (Swagger UI's "Authorize")."""
    return {
        OAUTH2_SCHEME: {
            "type": "oauth2",
            "description": "People get a token from `POST /api/v1/auth/token` with a JSON body "
            '`{"email", "password", "scopes"?}` (not the form-encoded OAuth 2 password grant); '
            "API clients send the form-encoded OAuth 2 client-credentials grant there. Then "
            "send `Authorization: Bearer <access_token>`.",
            "flows": {
                "password": {
                    "tokenUrl": TOKEN_URL,
                    "refreshUrl": "/api/v1/auth/refresh",
                    "scopes": {scope: SCOPE_DESCRIPTIONS[scope] for scope in sorted(ALL_SCOPES)},
                },
                "clientCredentials": {
                    "tokenUrl": TOKEN_URL,
                    "scopes": {scope: SCOPE_DESCRIPTIONS[scope] for scope in sorted(ALL_SCOPES)},
                },
            },
        },
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access_token` of `POST /api/v1/auth/token`; the scopes are "
            "those of the `oauth2` scheme.",
        },
    }


def _openapi_config(settings: Settings) -> dict[str, object]:
    return {
        "API_TITLE": "mrm",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "api/v1/openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": API_DESCRIPTION},
            "servers": [{"url": "/", "description": "The server that serves this document."}],
            "components": {"securitySchemes": _security_schemes()},
        },
    }


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; nothing connects to the database until a request needs it."""
    settings = settings or Settings.from_env()
    app = MrmFlask("mrm", instance_path=str(settings.instance_dir))
    app.extensions[SETTINGS_KEY] = settings
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.env == "test",
        **_openapi_config(settings),
    )
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count)  # type: ignore[method-assign]

    configure_logging(settings.log_level)
    configure_password_hashing(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        concurrency=settings.password_hash_concurrency,
    )
    db.init_app(app, settings)
    configure_jwt(app, settings)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": list(settings.cors_origins)}},
        expose_headers=[
            "ETag",
            "Link",
            "Location",
            "X-Request-ID",
            "Retry-After",
            "Idempotent-Replayed",
            *LIMIT_HEADERS,
        ],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        max_age=600,
    )
    register_request_hooks(app)
    init_rate_limits(app, settings)
    register_security_headers(app)
    register_conditional_reads(app)
    contract = ContractPlugin()
    api.init_app(app, spec_kwargs={"extra_plugins": [contract]})
    contract.register_attribute_functions(api.ma_plugin.converter)
    register_error_handlers(app)
    install_origin_provider()
    init_jobs(app, settings)
    for module in (
        health,
        auth,
        users,
        members,
        domains,
        contacts,
        interactions,
        projects,
        membership_plans,
        memberships,
        invoices,
        events,
        changes,
        webhooks,
        api_clients,
        imports,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs_blueprint)
    return app
