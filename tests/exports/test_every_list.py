"""Every list answers as CSV and NDJSON: the same rows as its JSON pages, all of them.

The lists are read from the spec (a 200 whose body has ``data`` and ``next_cursor`` or
``next_after``), so a list added later is checked without being named here. The internal page
size is made tiny so that each export needs several calls of the view.
"""

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

import api.list_exports
from models import ApiClient, Registration, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.events.factories import make_event
from tests.factories import make_user
from tests.interactions.factories import make_interaction
from tests.members.factories import domain_by_code, make_affiliation, make_contact, make_member
from tests.memberships.factories import make_membership, make_payment, make_plan, make_schedule
from tests.projects.factories import make_partner, make_project, make_submission

SPEC = json.loads(
    (Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text(encoding="utf-8")
)
# Their exports are the import template's columns, written by a faster path of their own
# (tests/imports/test_exports.py).
OWN_EXPORTS = {"/api/v1/members", "/api/v1/contacts"}


def _page_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref")
    if ref is None:
        return None
    return SPEC["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _lists() -> list[str]:
    paths = []
    for path, item in SPEC["paths"].items():
        schema = _page_schema(item.get("get", {}))
        properties = (schema or {}).get("properties", {})
        if "data" in properties and ({"next_cursor", "next_after"} & set(properties)):
            paths.append(path)
    return paths


LISTS = _lists()


def test_every_list_documents_its_files():
    assert len(LISTS) >= 36
    for path in LISTS:
        operation = SPEC["paths"][path]["get"]
        content = operation["responses"]["200"]["content"]
        assert {"application/json", "text/csv", "application/x-ndjson"} <= set(content), path
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"format", "excel"} <= names, path


@pytest.fixture
def records(session, admin_headers, client) -> dict[str, str]:
    """Two or more rows in most lists, and the ids their paths name."""
    now = datetime.now(UTC).replace(microsecond=0)
    member = make_member(session, name="Société Évry Santé", city="Évry")
    contact = make_contact(session, first_name="Hélène", last_name="Lefèvre")
    make_affiliation(session, member=member, contact=contact, is_primary=True)
    make_affiliation(session, member=make_member(session), contact=contact)
    make_affiliation(session, member=member)
    events = [make_event(session, title=f"Journée santé {n}") for n in range(3)]
    registrations = []
    for event in events:
        registration = Registration(
            event_id=event.id, contact_id=contact.id, status="registered", registered_at=now
        )
        session.add(registration)
        registrations.append(registration)
    second = make_contact(session)
    session.add(
        Registration(
            event_id=events[0].id, contact_id=second.id, status="registered", registered_at=now
        )
    )
    plan = make_plan(session)
    make_plan(session)
    make_schedule(session, plan=plan, year=2025)
    make_schedule(session, plan=plan, year=2026)
    membership = make_membership(session, member=member, plan=plan, start=date(2025, 1, 1))
    make_membership(session, member=member, plan=plan, start=date(2026, 1, 1))
    make_payment(session, membership=membership, amount_cents=50_000, paid_on=date(2025, 2, 1))
    make_payment(session, membership=membership, amount_cents=50_000, paid_on=date(2025, 3, 1))
    follower = make_user(session, role="staff")
    project = make_project(session, follower=follower, title="Thérapie génique")
    make_project(session, follower=follower, confidential=True)
    make_partner(session, project, member=member, role="coordinator")
    make_partner(session, project)
    make_submission(session, project, programme="anr")
    make_submission(session, project, programme="eic")
    interactions = [
        make_interaction(session, owner=follower, members=(member,), contacts=(contact,))
        for _ in range(3)
    ]
    api_client = ApiClient(name="Partner", scopes="members:read", secret_hash="0" * 64)
    session.add(api_client)
    subscription = WebhookSubscription(url="https://example.org/hook", secret="s" * 32)
    session.add(subscription)
    session.flush()
    for seq in (1, 2, 3):
        delivery = WebhookDelivery(
            subscription_id=subscription.id,
            journal_seq=seq,
            event_type="member.updated",
            payload={"seq": seq, "name": "Évry"},
        )
        session.add(delivery)
        session.flush()
        session.add(WebhookAttempt(delivery_id=delivery.id, status_code=500, error="Boom"))
    session.commit()
    # Changes made through the API, so that histories and the feed have entries.
    for name in ("Société Évry Santé 2", "Société Évry Santé 3"):
        response = client.patch(
            f"/api/v1/members/{member.id}", json={"name": name}, headers=admin_headers
        )
        assert response.status_code == 200, response.get_json()
    issued = client.post(f"/api/v1/memberships/{membership.id}/invoices", headers=admin_headers)
    assert issued.status_code == 201, issued.get_json()
    return {
        "member_id": str(member.id),
        "contact_id": str(contact.id),
        "event_id": str(events[0].id),
        "registration_id": str(registrations[0].id),
        "plan_id": str(plan.id),
        "membership_id": str(membership.id),
        "project_id": str(project.id),
        "interaction_id": str(interactions[0].id),
        "client_id": str(api_client.id),
        "subscription_id": str(subscription.id),
        "domain_id": str(domain_by_code(session, "imaging").id),
    }


def _json_rows(client, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every row of the list, page after page of 2."""
    rows: list[dict[str, Any]] = []
    separator = "&" if "?" in url else "?"
    following = f"{url}{separator}limit=2"
    while True:
        response = client.get(following, headers=headers)
        assert response.status_code == 200, (following, response.get_json())
        body = response.get_json()
        rows += body["data"]
        if "next_after" in body:
            if not body["has_more"]:
                return rows
            following = f"{url}{separator}limit=2&after={body['next_after']}"
        elif body["next_cursor"] is None:
            return rows
        else:
            following = f"{url}{separator}limit=2&cursor={body['next_cursor']}"


@pytest.mark.parametrize("path", [path for path in LISTS if path not in OWN_EXPORTS])
def test_a_list_exports_what_its_pages_show(client, admin_headers, records, monkeypatch, path):
    monkeypatch.setattr(api.list_exports, "EXPORT_PAGE_SIZE", 2)
    url = path.format(**records)
    expected = _json_rows(client, url, admin_headers)
    ndjson = client.get(url, headers={**admin_headers, "Accept": "application/x-ndjson"})
    assert ndjson.status_code == 200
    assert ndjson.mimetype == "application/x-ndjson"
    assert [orjson.loads(line) for line in ndjson.get_data().splitlines()] == expected

    as_csv = client.get(f"{url}?format=csv", headers=admin_headers)
    assert as_csv.status_code == 200
    assert as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    header, rows = lines[0], lines[1:]
    assert header, "a header row even without rows"
    assert len(rows) == len(expected)
    key = "seq" if "seq" in header else "id"
    if expected and key in header:
        assert [row[header.index(key)] for row in rows] == [str(item[key]) for item in expected]


def test_most_lists_have_several_rows_to_export(client, admin_headers, records):
    """The test above is only worth something if the lists it exports are not empty."""
    counts = {
        path: len(_json_rows(client, path.format(**records), admin_headers)) for path in LISTS
    }
    assert all(counts.values()), counts
    assert sum(count > 2 for count in counts.values()) >= 8, counts
