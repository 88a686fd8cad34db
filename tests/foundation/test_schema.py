"""The migrated database matches the models, and the checked-in OpenAPI file matches the code."""

import json
from pathlib import Path

import flask
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.extensions import db
from models import Base
from services.migrations import objects_for_dialect
from services.roles import ALL_SCOPES

SPEC_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
STALE = "openapi/openapi.json is stale: run `mrm openapi write openapi/openapi.json`"
PUBLIC_OPERATIONS = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/openapi.json"),
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_migrated_schema_matches_the_models(app):
    """Every difference autogenerate sees (types included) is a failure; only indexes the models
    reserve to the other database (PostgreSQL trigram indexes) are left out on SQLite."""
    with db.state(app).engine.connect() as connection:
        options = {
            "compare_type": True,
            "include_object": objects_for_dialect(connection.dialect.name),
        }
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def smorest_spec(app):
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def test_openapi_file_is_current(app):
    generated = smorest_spec(app)
    assert SPEC_FILE.exists(), STALE
    if json.loads(SPEC_FILE.read_text(encoding="utf-8")) != generated:
        pytest.fail(STALE, pytrace=False)
    # byte for byte what `mrm openapi write` produces (indent 2, keys unsorted)
    with app.app_context():
        text = flask.json.dumps(generated, indent=2, sort_keys=False) + "\n"
    assert SPEC_FILE.read_text(encoding="utf-8") == text, STALE


def test_served_spec_is_the_generated_spec(client, app):
    assert client.get("/api/v1/openapi.json").get_json() == smorest_spec(app)


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def test_every_protected_operation_declares_its_scope_and_401(app):
    spec = smorest_spec(app)
    schemes = spec["components"]["securitySchemes"]
    scopes = set(schemes["oauth2"]["flows"]["password"]["scopes"])
    assert scopes == ALL_SCOPES
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    seen = 0
    for method, path, operation in operations(spec):
        assert operation.get("summary"), (method, path)
        if (method, path) in PUBLIC_OPERATIONS:
            assert operation["security"] == [], (method, path)
            continue
        seen += 1
        security = operation.get("security")
        assert security, (method, path)
        # one token, obtained through the OAuth 2 scheme or pasted as a bearer token
        assert [set(requirement) for requirement in security] == [{"oauth2"}, {"bearerAuth"}]
        needed = security[0]["oauth2"]
        assert security[1]["bearerAuth"] == needed, (method, path)
        assert len(needed) <= 1, (method, path)
        assert set(needed) <= scopes, (method, path)
        assert "401" in operation["responses"], (method, path)
        if needed:
            assert "403" in operation["responses"], (method, path)
    assert seen >= 7
    # logging out and asking who you are need a token but no particular scope
    assert spec["paths"]["/api/v1/auth/me"]["get"]["security"][0] == {"oauth2": []}
    for method in ("get", "post"):
        assert spec["paths"]["/api/v1/users"][method]["security"][0] == {"oauth2": ["users:admin"]}


def test_errors_are_documented_as_problems(app):
    spec = smorest_spec(app)
    for name, response in spec["components"]["responses"].items():
        assert list(response["content"]) == ["application/problem+json"], name


def _record_schema(response):
    """The component name of a single-record body, or None for pages, problems and no body."""
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    name = ref.rsplit("/", 1)[1] if ref else None
    return name if name and not name.endswith("Page") and name.endswith("Out") else None


def _is_resource(path):
    """Records of the API's resources (not probes, tokens or who-am-I)."""
    return path.startswith("/api/v1/") and not path.startswith("/api/v1/auth/")


def test_response_headers_are_documented(app):
    """Single records carry an ETag, creations a Location too, lists a Link to the next page."""
    spec = smorest_spec(app)
    assert set(spec["components"]["headers"]) >= {"ETAG", "LOCATION", "LINK"}
    seen = {"etag": 0, "location": 0, "link": 0}
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            if status == "201":
                assert headers.get("Location") == {"$ref": "#/components/headers/LOCATION"}, (
                    method,
                    path,
                )
                seen["location"] += 1
            if status in ("200", "201") and _record_schema(response) and _is_resource(path):
                assert headers.get("ETag") == {"$ref": "#/components/headers/ETAG"}, (
                    method,
                    path,
                    status,
                )
                seen["etag"] += 1
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if status == "200" and schema.get("$ref", "").endswith("Page"):
                assert headers.get("Link") == {"$ref": "#/components/headers/LINK"}, (method, path)
                seen["link"] += 1
    assert seen["etag"] >= 15
    assert seen["location"] >= 6
    assert seen["link"] >= 6


def test_shared_error_responses_are_documented(app):
    """Unknown query arguments are refused everywhere (422); a JSON body may be malformed (400),
    too large (413) or of another media type (415)."""
    spec = smorest_spec(app)
    for method, path, operation in operations(spec):
        if path == "/api/v1/openapi.json":
            continue
        responses = operation["responses"]
        assert "422" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), (method, path)
