"""The compiled dumpers give exactly what marshmallow's ``Schema.dump`` gives, for every body."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import marshmallow as ma
import pytest
from flask import Flask

from api.dumpers import compile_dumper
from schemas.auth import MeOut, TokenOut
from tests.members.factories import make_affiliation, make_contact, make_member, valid_siren


def response_schemas(app: Flask) -> list[ma.Schema]:
    """Every schema instance the app's operations dump their bodies with."""
    found: dict[int, ma.Schema] = {}
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        for method in getattr(view_class, "methods", None) or ():
            handler = getattr(view_class, method.lower())
            responses = getattr(handler, "_apidoc", {}).get("response", {}).get("responses", {})
            for docs in responses.values():
                for doc in docs:
                    schema = doc.get("schema") if isinstance(doc, dict) else None
                    if isinstance(schema, ma.Schema):
                        found[id(schema)] = schema
    return list(found.values())


def test_every_response_schema_dumps_with_a_compiled_function(app):
    schemas = response_schemas(app)
    names = {type(schema).__name__ for schema in schemas}
    for expected in ("MemberOut", "MemberPage", "ContactPage", "AffiliationOut", "UserPage"):
        assert expected in names
    # Alternative responses (an upsert's 201) only document; the operation's ``response`` dumps.
    compiled = {type(schema).__name__ for schema in schemas if "dump" in vars(schema)}
    assert compiled == names


@pytest.fixture
def records(session, admin_headers):
    parent = make_member(session, name="Groupe Parent", siren=valid_siren(11))
    member = make_member(
        session,
        name="Société Générale de Santé",
        legal_name="SGS SAS",
        siren=valid_siren(12),
        postal_code="69003",
        city="Lyon",
        website="https://example.org",
        year_founded=2001,
        parent_id=parent.id,
        domains=["diagnostics", "medical_devices"],
        external_id="ext-1",
    )
    make_member(
        session,
        name="Archived",
        archived_at=datetime(2026, 1, 1, tzinfo=UTC),
        archive_reason="closed",
    )
    contact = make_contact(
        session, email="jeanne@example.org", phones=[{"number": "+33612345678", "kind": "mobile"}]
    )
    affiliation = make_affiliation(
        session,
        member=member,
        contact=contact,
        job_title="CEO",
        roles=["primary", "board"],
        start_date=date(2020, 1, 1),
        is_primary=True,
    )
    make_affiliation(session, member=parent, contact=contact, end_date=date(2021, 1, 1))
    # Recorded before its primary affiliation: the body must still list the primary first.
    later_primary = make_contact(session, email="paul@example.org")
    make_affiliation(session, member=parent, contact=later_primary)
    make_affiliation(session, member=member, contact=later_primary, is_primary=True)
    session.commit()
    return SimpleNamespace(
        member=member, contact=contact, affiliation=affiliation, later_primary=later_primary
    )


def _paths(records, admin_headers, client):
    member, contact, affiliation = records.member, records.contact, records.affiliation
    users = client.get("/api/v1/users", headers=admin_headers).get_json()["data"]
    domains = client.get("/api/v1/domains", headers=admin_headers).get_json()["data"]
    return [
        "/healthz",
        "/api/v1/auth/me",
        "/api/v1/members?limit=2&include_total=true",
        "/api/v1/members?include_archived=true",
        f"/api/v1/members/{member.id}",
        "/api/v1/contacts?include_total=true",
        f"/api/v1/contacts/{contact.id}",
        f"/api/v1/contacts/{records.later_primary.id}",
        f"/api/v1/contacts/{contact.id}/affiliations",
        f"/api/v1/contacts/{contact.id}/affiliations/{affiliation.id}",
        f"/api/v1/members/{member.id}/contacts",
        "/api/v1/users?limit=1",
        f"/api/v1/users/{users[0]['id']}",
        "/api/v1/domains",
        f"/api/v1/domains/{domains[0]['id']}",
    ]


def test_bodies_are_what_marshmallow_dumps(app, client, records, admin_headers, monkeypatch):
    paths = _paths(records, admin_headers, client)
    compiled = {}
    for path in paths:
        response = client.get(path, headers=admin_headers)
        assert response.status_code == 200, (path, response.get_json())
        compiled[path] = response.get_data()
    for schema in response_schemas(app):  # back to marshmallow's own ``dump``
        if "dump" in vars(schema):
            monkeypatch.delattr(schema, "dump")
    for path in paths:
        assert client.get(path, headers=admin_headers).get_data() == compiled[path], path
    later_primary = client.get(
        f"/api/v1/contacts/{records.later_primary.id}", headers=admin_headers
    )
    assert [row["is_primary"] for row in later_primary.json["affiliations"]] == [True, False]


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (
            TokenOut(),
            {
                "access_token": "a",
                "refresh_token": "r",
                "token_type": "Bearer",
                "expires_in": 900,
                "scope": "members:read",
            },
        ),
        (TokenOut(), {"access_token": "a"}),
        (MeOut(), SimpleNamespace(id=None, email="a@b.fr", scopes=["x"])),
    ],
)
def test_plain_values(schema, value):
    assert compile_dumper(schema)(value) == type(schema)().dump(value)


class _Hooked(ma.Schema):
    name = ma.fields.String()

    @ma.post_dump
    def shout(self, data, **_kwargs):
        return {key: value.upper() for key, value in data.items()}


class _Odd(ma.Schema):
    renamed = ma.fields.String(attribute="source", data_key="out")
    number = ma.fields.Integer(as_string=True)
    flag = ma.fields.Boolean(dump_default=True)
    method = ma.fields.Method("compute")
    dotted = ma.fields.String(attribute="inner.value")
    numbers = ma.fields.List(ma.fields.Integer())
    secret = ma.fields.String(load_only=True)

    def compute(self, obj):
        return "computed"


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (_Hooked(), {"name": "x"}),
        (_Odd(), {"source": "s", "number": 3, "inner": {"value": "v"}, "numbers": [1, 2.7]}),
        (_Odd(), SimpleNamespace(source=None, number=None, flag=0, numbers=None, secret="x")),
        (_Odd(many=True), [{"source": 1}, {}]),
    ],
)
def test_fields_it_does_not_inline_are_left_to_marshmallow(schema, value):
    plain = type(schema)(many=schema.many)
    assert compile_dumper(schema)(value) == plain.dump(value)
