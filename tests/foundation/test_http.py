"""The shared HTTP machinery: one error shape, request ids, content negotiation, limits."""

import json
import logging
import re

import pytest

from tests.factories import PASSWORD, make_user
from tests.members.factories import make_member

URL = "/api/v1/users"
TOKEN_URL = "/api/v1/auth/token"
PROBLEM_KEYS = {"type", "title", "status", "detail", "request_id"}


def problem(response, status):
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.data)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    error = client.get("/nowhere", headers={"X-Request-ID": "abc-456"})
    assert problem(error, 404)["request_id"] == "abc-456"


def test_request_id_is_generated(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    error = client.get("/nowhere")
    assert re.fullmatch(r"[0-9a-f]{32}", problem(error, 404)["request_id"])


@pytest.mark.parametrize("given", ["has space", "x" * 129, "line\tbreak", "é"])
def test_unsafe_request_id_is_replaced(client, given):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_malformed_json_is_400(client, admin_headers):
    response = client.post(
        URL, data='{"email": ', content_type="application/json", headers=admin_headers
    )
    body = problem(response, 400)
    assert body["type"].endswith("malformed-request")
    problem(client.post(TOKEN_URL, data="{", content_type="application/json"), 400)


@pytest.mark.parametrize("payload", ["[]", '[{"email": "a@example.org"}]', '"text"', "42", "null"])
def test_non_object_json_is_422(client, payload):
    body = problem(client.post(TOKEN_URL, data=payload, content_type="application/json"), 422)
    assert body["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"email": "a@example.org"}', "text/plain"),
        ("email=a%40example.org&password=x", "application/x-www-form-urlencoded"),
        ("<user/>", "application/xml"),
    ],
)
def test_wrong_content_type_is_415(client, admin_headers, data, content_type):
    if content_type == "application/x-www-form-urlencoded":
        # The token endpoint also takes the form-encoded OAuth 2 client-credentials grant,
        # which refuses a password login as an invalid request (RFC 6749 section 5.2).
        body = problem(client.post(TOKEN_URL, data=data, content_type=content_type), 400)
        assert body["error"] == "invalid_request"
    else:
        problem(client.post(TOKEN_URL, data=data, content_type=content_type), 415)
    problem(client.post(URL, data=data, content_type=content_type, headers=admin_headers), 415)


def test_multipart_is_415(client):
    form = {"email": "a@example.org", "password": "x"}
    problem(client.post(TOKEN_URL, data=form, content_type="multipart/form-data"), 415)


def test_json_with_charset_is_accepted(client, session):
    user = make_user(session)
    session.commit()
    response = client.post(
        TOKEN_URL,
        data=json.dumps({"email": user.email, "password": PASSWORD}),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_missing_body_is_422(client):
    body = problem(client.post(TOKEN_URL), 422)
    assert body["errors"]


def test_body_over_the_limit_is_413(client):
    payload = json.dumps({"email": "a@example.org", "password": "x" * (1024 * 1024 + 10)})
    problem(client.post(TOKEN_URL, data=payload, content_type="application/json"), 413)


def test_body_over_a_small_limit_is_413(make_app):
    client = make_app(max_content_length=100).test_client()
    payload = json.dumps({"email": "a@example.org", "password": "x" * 200})
    problem(client.post(TOKEN_URL, data=payload, content_type="application/json"), 413)


def test_unknown_route_is_404(client):
    body = problem(client.get("/api/v1/nothing-here"), 404)
    assert body["type"].endswith("not-found")


@pytest.mark.parametrize("path", ["/api/v1/users/", "/healthz/", "/api/v1/auth/me/"])
def test_trailing_slash_is_404_not_a_redirect(client, admin_headers, path):
    problem(client.get(path, headers=admin_headers), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.put(URL, json={})
    problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "PUT" not in response.headers["Allow"]
    response = client.delete(TOKEN_URL)
    problem(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("foo=1", "foo"), ("limit=10&Limit=3", "Limit"), ("cursor=%%%", "cursor")],
)
def test_bad_query_arguments_are_named(client, admin_headers, query, field):
    body = problem(client.get(f"{URL}?{query}", headers=admin_headers), 422)
    assert field in body["errors"]


def test_unknown_query_parameter_on_an_endpoint_without_arguments(client, admin_headers):
    """Endpoints without declared query arguments also refuse unknown ones (or ignore none)."""
    response = client.get("/api/v1/auth/me?debug=1", headers=admin_headers)
    assert "debug" in problem(response, 422)["errors"]


def test_unknown_body_field_is_named(client):
    body = problem(
        client.post(TOKEN_URL, json={"email": "a@example.org", "password": "x", "admin": True}), 422
    )
    assert "admin" in body["errors"]


@pytest.fixture
def crashing_app(make_app):
    application = make_app()

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    return application


def test_unexpected_error_is_a_generic_500(crashing_app):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("mrm.errors")
    logger.addHandler(handler)
    try:
        response = crashing_app.test_client().get("/boom", headers={"X-Request-ID": "trace-me-1"})
    finally:
        logger.removeHandler(handler)
    body = problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert body["request_id"] == "trace-me-1"
    (record,) = [r for r in records if r.levelno >= logging.ERROR]
    assert record.fields["request_id"] == "trace-me-1"
    assert record.exc_info is not None


def test_a_service_error_from_monkeypatched_code_is_500(client, admin_headers, monkeypatch):
    def explode(**_filters):
        raise RuntimeError("the list broke")

    monkeypatch.setattr("api.resources.users.list_users", explode)
    body = problem(client.get(URL, headers=admin_headers), 500)
    assert "broke" not in body["detail"]


def test_cors_for_an_allowed_origin(make_app):
    client = make_app(cors_origins=("https://front.example",)).test_client()
    response = client.get("/api/v1/auth/me", headers={"Origin": "https://front.example"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://front.example"
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options(
        "/api/v1/users",
        headers={
            "Origin": "https://front.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, If-Match, Content-Type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://front.example"
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "if-match" in allowed
    other = client.get("/api/v1/auth/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_cors_without_configured_origins(client):
    response = client.get("/api/v1/auth/me", headers={"Origin": "https://front.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(make_app):
    application = make_app("postgresql+psycopg://postgres@127.0.0.1:1/none")
    client = application.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    body = problem(response, 503)
    assert "psycopg" not in response.get_data(as_text=True)
    assert "127.0.0.1" not in body["detail"]
    assert response.headers["Retry-After"]


def test_docs_page_and_spec_are_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.get_data(as_text=True)
    assert "cdn" not in page.get_data(as_text=True).lower()
    asset = page.get_data(as_text=True).split('src="')[1].split('"')[0]
    with client.get(asset) as asset_response:
        assert asset_response.status_code == 200
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.get_json()["openapi"].startswith("3.")


def test_json_keeps_schema_order(client, admin_headers):
    body = client.get(URL, headers=admin_headers).get_json()
    text = client.get(URL, headers=admin_headers).get_data(as_text=True)
    assert list(body) == ["data", "next_cursor"]
    assert text.index('"id"') < text.index('"email"')


@pytest.mark.parametrize("path", ["/api/v1/members", "/api/v1/members/{id}/restore"])
def test_json_nested_too_deeply_to_parse_is_400(client, staff_headers, session, path):
    """Python's JSON parser gives up (RecursionError) long before the size limit: still a
    malformed body, on an operation that takes a body and on one that takes none."""
    member = make_member(session)
    session.commit()
    data = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(
        path.format(id=member.id), data=data, content_type="application/json", headers=staff_headers
    )
    body = problem(response, 400)
    assert body["type"].endswith("malformed-request")


def test_if_match_with_a_huge_version_is_412(client, staff_headers, session):
    """Python refuses to parse an integer of more than 4300 digits: such a tag is simply not
    one of ours, so it matches nothing."""
    member = make_member(session)
    session.commit()
    response = client.patch(
        f"/api/v1/members/{member.id}",
        json={"city": "Paris"},
        headers={**staff_headers, "If-Match": '"v' + "9" * 5000 + '"'},
    )
    problem(response, 412)


def test_malformed_json_is_400_also_where_no_body_is_expected(client, staff_headers, session):
    """A broken body is reported, not ignored, on an operation that takes none."""
    member = make_member(session)
    session.commit()
    response = client.post(
        f"/api/v1/members/{member.id}/restore",
        data='{"reason": ',
        content_type="application/json",
        headers=staff_headers,
    )
    body = problem(response, 400)
    assert body["type"].endswith("malformed-request")
