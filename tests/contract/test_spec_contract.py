"""What clients, code generators and linters rely on in the spec, checked on the generated one."""

import re

import jsonschema_rs
import pytest
from flask import Flask

from api.openapi import NO_NUL_PATTERN
from api.operations import OPERATION_IDS
from schemas.fields import NUL_REFUSED

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PUBLIC = {"issueToken", "refreshToken", "getLiveness", "getReadiness"}


@pytest.fixture
def spec(app: Flask) -> dict:
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def test_every_operation_has_a_unique_readable_id(spec, app):
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    missing = [(m, p) for m, p, operation in operations(spec) if "operationId" not in operation]
    assert not missing, f"add these operations to OPERATION_IDS in api/openapi.py: {missing}"
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", operation_id) for operation_id in ids)
    # no entry for an endpoint that is gone
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {endpoint for endpoint, _ in OPERATION_IDS} <= endpoints
    assert len(OPERATION_IDS) == len(ids)


def test_public_operations_say_so(spec):
    public = {op["operationId"] for _, _, op in operations(spec) if op["security"] == []}
    assert public == PUBLIC


def test_servers_and_no_unused_components(spec):
    assert spec["servers"][0]["url"] == "/"
    text = str(spec["paths"]) + str(spec["components"].get("responses"))
    unused = [name for name in spec["components"]["schemas"] if f"/schemas/{name}'" not in text]
    # Components only other components use (nested records, enumerations) are still used.
    text += str(spec["components"]["schemas"])
    assert [name for name in unused if f"/schemas/{name}'" not in text] == []
    assert "PaginationMetadata" not in spec["components"]["schemas"]


def test_no_deprecated_example_keyword(spec):
    assert "'example':" not in str(spec)


def _response_components(spec):
    names = set()
    for _, _, operation in operations(spec):
        for response in operation["responses"].values():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in schema:
                names.add(schema["$ref"].rsplit("/", 1)[1])
    return names


def test_response_bodies_list_their_fields_as_required(spec):
    schemas = spec["components"]["schemas"]
    names = _response_components(spec) | {"Problem", "MemberRef", "DomainRef", "AffiliationOut"}
    assert len(names) >= 15
    for name in names:
        properties = set(schemas[name]["properties"])
        required = set(schemas[name].get("required", []))
        optional = properties - required
        # refresh_token: the client-credentials grant has none (RFC 6749 section 4.4.3); error
        # and error_description: only on its refusals (RFC 6749 section 5.2).
        allowed = {"total", "database", "errors", "existing", "refresh_token"}
        allowed |= {"error", "error_description"}
        # client_secret: shown once, left out of an idempotent replay (never stored).
        allowed.add("client_secret")
        assert optional <= allowed, (name, optional)
    # nullable and required
    assert "legal_name" in schemas["MemberOut"]["required"]
    assert "null" in schemas["MemberOut"]["properties"]["legal_name"]["type"]
    # shared with a request body: keeps the request's rules
    assert schemas["ContactPhone"]["required"] == ["number"]


def test_enumerations_are_named_components(spec):
    """Inline enumerations make generated clients repeat a class per use (three for a
    nullable one)."""
    schemas = spec["components"]["schemas"]
    inline = [
        name
        for name, schema in schemas.items()
        if set(schema) != {"type", "enum"} and "'enum'" in str(schema)
    ]
    inline += re.findall(r"'enum'", str(spec["paths"]))
    assert inline == []
    band = schemas["MemberCreate"]["properties"]["headcount_band"]
    assert band["anyOf"] == [{"$ref": "#/components/schemas/HeadcountBand"}, {"type": "null"}]
    sorts = [
        p for p in spec["paths"]["/api/v1/members"]["get"]["parameters"] if p["name"] == "sort"
    ]
    assert sorts[0]["schema"]["$ref"] == "#/components/schemas/MemberSort"


def test_documented_constraints(spec):
    schemas = spec["components"]["schemas"]
    create = schemas["MemberCreate"]["properties"]
    assert create["website"]["format"] == "uri"
    assert create["website"]["minLength"] == 1
    assert create["name"]["pattern"] == NO_NUL_PATTERN
    assert create["country"]["pattern"] == "^[A-Z]{2}$"  # stricter, kept
    assert "Luhn" in create["siren"]["description"]
    assert "SIREN" in create["vat_number"]["description"]
    archived = {
        p["name"]: p["description"]
        for p in spec["paths"]["/api/v1/members"]["get"]["parameters"]
        if p["name"] in {"archived", "include_archived"}
    }
    assert all("not together" in text for text in archived.values())
    password = spec["components"]["securitySchemes"]["oauth2"]["flows"]["password"]
    assert password["tokenUrl"] == "/api/v1/auth/token"
    assert all(password["scopes"].values())


@pytest.mark.parametrize("value", ["ok", "", "é ü 中", "tab\there"])
def test_the_nul_pattern_matches_what_the_server_accepts(value):
    """Read as Python reads it and as JSON Schema (ECMA-262) validators do."""
    assert re.search(NO_NUL_PATTERN, value)
    assert jsonschema_rs.validator_for({"type": "string", "pattern": NO_NUL_PATTERN}).is_valid(
        value
    )


def test_the_nul_pattern_refuses_what_the_server_refuses(client, staff_headers):
    assert not re.search(NO_NUL_PATTERN, "a\x00b")
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": NO_NUL_PATTERN})
    assert not validator.is_valid("a\x00b")
    response = client.post(
        "/api/v1/members", json={"name": "a\x00b", "category": "sme"}, headers=staff_headers
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"name": [NUL_REFUSED]}


def test_links_lead_from_creation_to_reading(spec):
    created = spec["paths"]["/api/v1/members"]["post"]["responses"]["201"]["links"]["GetMember"]
    assert created == {
        "operationId": "getMember",
        "parameters": {"member_id": "$response.body#/id"},
        "description": "Read the member.",
    }
    ids = {op["operationId"] for _, _, op in operations(spec)}
    for _, _, operation in operations(spec):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids
