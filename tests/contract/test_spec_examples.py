"""Every request-body example the spec shows is accepted by the API.

Two kinds of example reach a reader: the named examples of an operation's body, and the
examples of single fields, which documentation tools assemble into one body (a field's example
must agree with the others: the VAT number's key is computed from the SIREN's). Each is sent,
with an admin token and on a fresh database holding the records its path names, and must get a
2xx answer.
"""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.operations import EXAMPLE_MEMBER_ID
from models import ApiClient, Registration
from tests.events.factories import make_event
from tests.factories import PASSWORD, make_user
from tests.members.factories import domain_by_code, make_affiliation, make_contact, make_member
from tests.projects.factories import make_partner, make_project, make_submission

SPEC = json.loads(
    (Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text(encoding="utf-8")
)
NONE = object()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def field_examples(schema: dict[str, Any]) -> Any:
    """The value documentation tools show for a schema, from its fields' examples (NONE when
    nothing in it has one)."""
    schema = _resolve(schema)
    if "examples" in schema:
        return schema["examples"][0]
    for choice in schema.get("anyOf", []):
        value = field_examples(choice)
        if value is not NONE:
            return value
    if "properties" in schema:
        found = {name: field_examples(sub) for name, sub in schema["properties"].items()}
        found = {name: value for name, value in found.items() if value is not NONE}
        return found or NONE
    if "items" in schema:
        item = field_examples(schema["items"])
        return [item] if item is not NONE else NONE
    return NONE


def _cases() -> list[tuple[str, str, str, str, Any]]:
    cases = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            named = {name: example["value"] for name, example in media.get("examples", {}).items()}
            for name, value in named.items():
                cases.append((operation["operationId"], method, path, name, value))
            fields = field_examples(media["schema"])
            if fields is not NONE:
                # The fields' examples over the operation's first example, for the fields the
                # examples leave out (a name, a category).
                base = next(iter(named.values()), {})
                cases.append(
                    (operation["operationId"], method, path, "field examples", base | fields)
                )
    return cases


CASES = _cases()


def test_the_spec_has_examples_to_check():
    operations = {case[0] for case in CASES}
    assert {"createMember", "updateMember", "createContact", "createAffiliation"} <= operations
    assert ("createMember", "field examples") in {(case[0], case[3]) for case in CASES}


def _records(session: Any, operation_id: str) -> dict[str, str]:
    """The records the paths name, in the state the operation needs; their ids by parameter."""
    now = datetime.now(UTC)
    archived = {"archived_at": now, "archive_reason": "Example."}
    member = make_member(
        session, name="Cardio Santé", **(archived if operation_id == "restoreMember" else {})
    )
    contact = make_contact(session, **(archived if operation_id == "restoreContact" else {}))
    affiliation = make_affiliation(session, member=member, contact=contact)
    make_member(session, name="Example member", id=uuid.UUID(EXAMPLE_MEMBER_ID))
    user = make_user(session, role="staff")
    make_user(session, role="admin", email="admin@example.org", password=PASSWORD)
    event = make_event(session)
    registration = Registration(
        event_id=event.id, contact_id=contact.id, status="registered", registered_at=now
    )
    session.add(registration)
    api_client = ApiClient(name="Partner", scopes="members:read", secret_hash="0" * 64)
    session.add(api_client)
    project = make_project(session, follower=user)
    partner = make_partner(session, project)
    submission = make_submission(session, project)
    session.commit()
    return {
        "member_id": str(member.id),
        "contact_id": str(contact.id),
        "affiliation_id": str(affiliation.id),
        "user_id": str(user.id),
        "client_id": str(api_client.id),
        "domain_id": str(domain_by_code(session, "imaging").id),
        "external_id": "import-0042",
        "event_id": str(event.id),
        "registration_id": str(registration.id),
        "project_id": str(project.id),
        "partner_id": str(partner.id),
        "submission_id": str(submission.id),
    }


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "name", "body"),
    CASES,
    ids=[f"{case[0]}-{case[3]}" for case in CASES],
)
def test_example_is_accepted(
    client, session, admin_headers, operation_id, method, path, name, body
):
    url = path.format(**_records(session, operation_id))
    operation = SPEC["paths"][path][method]
    headers = admin_headers if operation["security"] else {}
    response = client.open(url, method=method.upper(), json=body, headers=headers)
    assert 200 <= response.status_code < 300, (operation_id, name, body, response.get_json())
