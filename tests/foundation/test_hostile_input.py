"""Input built to break the server or trick a rule: refused with a 4xx naming what is wrong,
never a 500, and cheaply (small answers, no per-item work on huge lists), on both databases.
"""

import base64
import io
import json
import time

import pytest
from sqlalchemy import select

from api.problems import MAX_ERROR_FIELDS
from models import Member, User
from schemas.fields import MAX_SEARCH_WORDS
from services.roles import ALL_SCOPES
from tests.members.factories import make_member

JSON = "application/json"
ID = "3a50809f-bb56-4629-87cd-a27033f346bf"


def _post_raw(client, url, text, headers=None):
    return client.post(url, data=text.encode(), content_type=JSON, headers=headers or {})


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Lone UTF-16 surrogates: no database and no UTF-8 answer can hold one.


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"email": "\\ud800@example.org", "password": "x"}', "email"),
        ('{"email": "a@example.org", "password": "pass\\udfff"}', "password"),
        ('{"email": "a@example.org", "password": "x", "scopes": ["\\ud83d"]}', "scopes.0"),
    ],
)
def test_a_lone_surrogate_in_the_login_body_is_422_naming_the_field(client, text, field):
    response = _post_raw(client, "/api/v1/auth/token", text)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize(
    ("url", "text", "field"),
    [
        ("/api/v1/members", '{"name": "Acme \\udc00", "category": "sme"}', "name"),
        (
            "/api/v1/contacts",
            '{"first_name": "A", "last_name": "B", "phones": [{"number": "\\ud800"}]}',
            "phones.0.number",
        ),
    ],
)
def test_a_lone_surrogate_in_a_body_is_422_naming_the_field(
    client, staff_headers, url, text, field
):
    response = _post_raw(client, url, text, staff_headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == [field]


def test_a_lone_surrogate_in_a_key_is_400(client, staff_headers):
    response = _post_raw(
        client, "/api/v1/members", '{"name": "A", "category": "sme", "\\ud800": 1}', staff_headers
    )
    assert response.status_code == 400, response.get_data(as_text=True)


def test_a_lone_surrogate_in_a_body_where_none_is_expected_is_422(client, staff_headers):
    response = client.post(
        "/api/v1/auth/logout", data=b'{"x": "\\ud800"}', content_type=JSON, headers=staff_headers
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == ["x"]


def test_a_valid_surrogate_pair_is_a_character(client, staff_headers):
    response = _post_raw(
        client,
        "/api/v1/members",
        '{"name": "Acme \\ud83d\\ude00", "category": "sme"}',
        staff_headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "Acme \U0001f600"


def test_a_lone_surrogate_in_a_cursor_is_422_on_cursor(client, staff_headers):
    cursor = _cursor('{"s":"name","v":["\\ud800","' + ID + '"]}')
    response = client.get(f"/api/v1/members?cursor={cursor}", headers=staff_headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == ["cursor"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=%FF", "q"),
        ("q=%ED%A0%80", "q"),  # a surrogate encoded as UTF-8 bytes
        ("external_id=ab%C3", "external_id"),
        ("cursor=%80", "cursor"),
        ("%FF=1", "query"),
    ],
)
def test_invalid_utf8_in_a_query_string_is_422_naming_the_argument(
    client, staff_headers, query, field
):
    response = client.get("/api/v1/members", query_string=query, headers=staff_headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == [field]


def test_valid_utf8_in_a_query_string_is_accepted(client, staff_headers, session):
    make_member(session, name="Société Générale")
    response = client.get("/api/v1/members?q=soci%C3%A9t%C3%A9", headers=staff_headers)
    assert response.status_code == 200
    assert [m["name"] for m in response.get_json()["data"]] == ["Société Générale"]


# Integers too long for Python, nesting too deep, duplicate keys, NaN.


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/api/v1/auth/token", '{"email": "a@example.org", "password": "x", "n": %s}'),
        ("/api/v1/members", '{"name": "A", "category": "sme", "year_founded": %s}'),
    ],
)
def test_an_integer_of_5000_digits_is_400(client, staff_headers, url, text):
    response = _post_raw(client, url, text % ("9" * 5000), staff_headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "digits" in response.get_json()["errors"]["body"][0]


def test_a_large_integer_is_still_a_422_on_its_field(client, staff_headers):
    body = '{"name": "A", "category": "sme", "year_founded": %s}' % ("9" * 90)
    response = _post_raw(client, "/api/v1/members", body, staff_headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == ["year_founded"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(client, staff_headers, constant):
    body = '{"name": "A", "category": "sme", "year_founded": ' + constant + "}"
    response = _post_raw(client, "/api/v1/members", body, staff_headers)
    assert response.status_code == 400, response.get_data(as_text=True)


def test_a_cursor_nested_deeply_is_422_on_cursor(client, staff_headers):
    """1,400 opening brackets fit in the 2,000 characters a cursor may have."""
    cursor = _cursor('{"s":"name","v":' + "[" * 1400)
    assert len(cursor) <= 2000
    response = client.get("/api/v1/members", query_string={"cursor": cursor}, headers=staff_headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == ["cursor"]


@pytest.mark.parametrize(
    "raw",
    [
        '{"s":"name","v":["a","' + ID + '"],"x":1}',
        '{"s":"name","v":["a","' + ID + '",3]}',
        '{"s":"name","s":"name","v":["a","' + ID + '"]}',
        '["name"]',
        '{"s":"name","v":{"a":1}}',
    ],
)
def test_a_cursor_of_another_shape_is_422_on_cursor(client, staff_headers, raw):
    response = client.get(
        "/api/v1/members", query_string={"cursor": _cursor(raw)}, headers=staff_headers
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == ["cursor"]


def test_duplicate_keys_are_400_and_create_nothing(client, admin_headers, session):
    text = (
        '{"email": "dup@example.org", "password": "correct horse battery", '
        '"role": "viewer", "role": "admin"}'
    )
    response = _post_raw(client, "/api/v1/users", text, admin_headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["errors"]["body"] == ['Duplicate key "role" in an object.']
    assert session.scalar(select(User).where(User.email == "dup@example.org")) is None


def test_duplicate_keys_in_a_nested_object_are_400(client, staff_headers):
    text = (
        '{"first_name": "A", "last_name": "B", '
        '"phones": [{"number": "0142685300", "kind": "work", "kind": "mobile"}]}'
    )
    response = _post_raw(client, "/api/v1/contacts", text, staff_headers)
    assert response.status_code == 400, response.get_data(as_text=True)


# Cheap denial of service: the work and the answer are bounded whatever the request holds.


def test_a_login_with_200000_scopes_is_refused_cheaply(client):
    body = {"email": "a@example.org", "password": "x", "scopes": ["x"] * 200_000}
    text = json.dumps(body, separators=(",", ":"))  # 0.8 MB, under the body limit
    started = time.perf_counter()
    response = _post_raw(client, "/api/v1/auth/token", text)
    elapsed = time.perf_counter() - started
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "scopes": [f"Longer than maximum length {len(ALL_SCOPES)}."]
    }
    assert len(response.get_data()) < 2000
    assert elapsed < 2, elapsed  # about 6 s when every item was checked


def test_an_object_with_80000_unknown_keys_is_refused_cheaply(client, staff_headers):
    text = json.dumps({f"k{i}": 1 for i in range(80_000)}, separators=(",", ":"))
    response = _post_raw(client, "/api/v1/members", text, staff_headers)
    assert response.status_code == 400
    assert len(response.get_data()) < 2000


def test_many_invalid_fields_answer_a_bounded_error_body(client, staff_headers):
    body = {"name": "A", "category": "sme", **{f"unknown{i:03}": 1 for i in range(900)}}
    response = client.post("/api/v1/members", json=body, headers=staff_headers)
    assert response.status_code == 422
    problem = response.get_json()
    assert len(problem["errors"]) == MAX_ERROR_FIELDS
    assert f"{900 - MAX_ERROR_FIELDS} more were left out" in problem["detail"]
    assert len(response.get_data()) < 5000


def test_a_huge_unknown_field_name_is_shortened_in_the_answer(client, staff_headers):
    body = {"name": "A", "category": "sme", "x" * 500_000: 1}
    response = client.post("/api/v1/members", json=body, headers=staff_headers)
    assert response.status_code == 422
    assert len(response.get_data()) < 2000


def _request_bodies_and_parameters(spec):
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                yield parameter.get("schema", {})
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                yield media["schema"]


def _arrays(schema, components, seen):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        schema = components[name]
    if schema.get("type") == "array" or "array" in (schema.get("type") or []):
        yield schema
    for child in schema.get("properties", {}).values():
        yield from _arrays(child, components, seen)
    if "items" in schema:
        yield from _arrays(schema["items"], components, seen)


def test_every_list_a_client_sends_has_max_items_in_the_spec(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    components = spec["components"]["schemas"]
    arrays = [
        array
        for schema in _request_bodies_and_parameters(spec)
        for array in _arrays(schema, components, set())
    ]
    assert arrays  # scopes, domains, phones, roles
    assert all("maxItems" in array for array in arrays), arrays


# q: repeated words cost nothing, and the number of distinct words is bounded.


def test_a_repeated_search_word_is_tested_once(client, staff_headers, session, count_queries):
    make_member(session, name="Acme Biotech")
    make_member(session, name="Other")
    with count_queries() as statements:
        response = client.get(
            "/api/v1/members", query_string={"q": " ".join(["a"] * 50)}, headers=staff_headers
        )
    assert response.status_code == 200
    assert [m["name"] for m in response.get_json()["data"]] == ["Acme Biotech"]
    listing = [s for s in statements if "search_text" in s]
    assert listing
    assert all(s.count("LIKE") == 1 for s in listing), listing


def test_a_word_inside_another_is_not_tested_again(client, staff_headers, count_queries):
    with count_queries() as statements:
        response = client.get(
            "/api/v1/contacts", query_string={"q": "mart martin MARTIN"}, headers=staff_headers
        )
    assert response.status_code == 200
    listing = [s for s in statements if "search_text" in s]
    assert listing
    assert all(s.count("LIKE") == 1 for s in listing), listing


@pytest.mark.parametrize("url", ["/api/v1/members", "/api/v1/contacts"])
def test_too_many_distinct_search_words_are_422(client, staff_headers, url):
    words = " ".join(f"w{i}" for i in range(MAX_SEARCH_WORDS + 1))
    response = client.get(url, query_string={"q": words}, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["q"]
    allowed = " ".join(f"w{i}" for i in range(MAX_SEARCH_WORDS)) + " w0 W1"
    assert client.get(url, query_string={"q": allowed}, headers=staff_headers).status_code == 200


# Booleans: JSON true/false in bodies, exactly true/false in query strings.


@pytest.mark.parametrize("value", [0, 1, "yes", "on", "0", "true", None])
def test_a_body_boolean_must_be_a_json_boolean(client, admin_headers, value):
    body = {"code": "robotics", "label": "Robotics", "is_active": value}
    response = client.post("/api/v1/domains", json=body, headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == ["is_active"]


def test_a_json_boolean_is_accepted(client, admin_headers):
    body = {"code": "robotics", "label": "Robotics", "is_active": False}
    response = client.post("/api/v1/domains", json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["is_active"] is False


@pytest.mark.parametrize("value", ["1", "0", "yes", "on", "True", "t", ""])
def test_a_query_boolean_must_be_true_or_false(client, staff_headers, value):
    response = client.get(
        "/api/v1/members", query_string={"include_total": value}, headers=staff_headers
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["include_total"]


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_query_boolean_true_or_false_is_accepted(client, staff_headers, value):
    response = client.get(
        "/api/v1/members", query_string={"include_total": value}, headers=staff_headers
    )
    assert response.status_code == 200
    assert ("total" in response.get_json()) is (value == "true")


# A body streamed without Content-Length is held to the same limit.


def _chunked_post(client, url, data, headers):
    return client.post(
        url,
        input_stream=io.BytesIO(data),
        headers={**headers, "Transfer-Encoding": "chunked", "Content-Type": JSON},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_413(client, staff_headers):
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    data = json.dumps({"name": "A", "category": "sme", "description": "x" * limit}).encode()
    response = _chunked_post(client, "/api/v1/members", data, staff_headers)
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_a_chunked_body_within_the_limit_is_read(client, staff_headers):
    data = json.dumps({"name": "Chunked", "category": "sme"}).encode()
    response = _chunked_post(client, "/api/v1/members", data, staff_headers)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_chunked_body_of_exactly_the_limit_is_not_413(joined_app, staff_headers):
    app = joined_app(max_content_length=64)
    data = b'{"name": "A", "category": "sme"}'
    data = data[:-1] + b" " * (64 - len(data)) + b"}"
    assert len(data) == 64
    response = _chunked_post(app.test_client(), "/api/v1/members", data, staff_headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    over = _chunked_post(app.test_client(), "/api/v1/members", data + b" ", staff_headers)
    assert over.status_code == 413


# One rule for text on both databases.


@pytest.mark.parametrize("resource", ["members", "contacts"])
def test_a_restore_reason_with_a_nul_is_422(client, staff_headers, resource):
    body = (
        {"name": "Acme", "category": "sme"}
        if resource == "members"
        else {"first_name": "A", "last_name": "B"}
    )
    record = client.post(f"/api/v1/{resource}", json=body, headers=staff_headers).get_json()
    archived = client.post(
        f"/api/v1/{resource}/{record['id']}/archive",
        json={"reason": "duplicate"},
        headers=staff_headers,
    )
    assert archived.status_code == 200, archived.get_json()
    response = client.post(
        f"/api/v1/{resource}/{record['id']}/restore",
        json={"reason": "a\x00b"},
        headers=staff_headers,
    )
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == ["reason"]


def test_the_member_upsert_trims_its_external_id(client, staff_headers, session):
    body = {"name": "Acme", "category": "sme"}
    created = client.put(
        "/api/v1/members/by-external-id/%20crm-1%20", json=body, headers=staff_headers
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["external_id"] == "crm-1"
    again = client.put("/api/v1/members/by-external-id/crm-1", json=body, headers=staff_headers)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == created.get_json()["id"]
    blank = client.put("/api/v1/members/by-external-id/%20%20", json=body, headers=staff_headers)
    assert blank.status_code == 422
    assert list(blank.get_json()["errors"]) == ["external_id"]


@pytest.mark.parametrize("resource", ["members", "contacts"])
def test_a_path_that_is_not_utf8_is_404(client, staff_headers, session, resource):
    """``/crm%FF`` and ``/crm%FE`` would both be read as ``crm\ufffd``: one record.

    The test client decodes the path itself (replacing bad bytes), so the raw ``PATH_INFO``
    a WSGI server passes (bytes as latin-1) is given as is.
    """
    body = (
        {"name": "Acme", "category": "sme"}
        if resource == "members"
        else {"first_name": "A", "last_name": "B"}
    )
    for raw in ("crm\xff", "crm\xfe"):
        response = client.put(
            f"/api/v1/{resource}/by-external-id/crm",
            json=body,
            headers=staff_headers,
            environ_overrides={"PATH_INFO": f"/api/v1/{resource}/by-external-id/{raw}"},
        )
        assert response.status_code == 404, response.get_json()
        assert response.mimetype == "application/problem+json"
    assert session.scalar(select(Member).where(Member.external_id.like("crm%"))) is None


def test_a_path_in_valid_utf8_is_read(client, staff_headers):
    raw = "/api/v1/members/by-external-id/" + "crm-é".encode().decode("latin-1")
    body = {"name": "Acme", "category": "sme"}
    response = client.put(
        "/x", json=body, headers=staff_headers, environ_overrides={"PATH_INFO": raw}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["external_id"] == "crm-é"


def test_a_blank_archive_reason_says_blank(client, staff_headers):
    member = client.post(
        "/api/v1/members", json={"name": "Acme", "category": "sme"}, headers=staff_headers
    ).get_json()
    response = client.post(
        f"/api/v1/members/{member['id']}/archive", json={"reason": "   "}, headers=staff_headers
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"reason": ["Must not be blank."]}
