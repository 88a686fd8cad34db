"""PUT /memberships/by-external-id/{id}: create at the schedule's fee, then record approval
and notes; the terms of an existing membership never change; one journal entry per write."""

import pytest
from sqlalchemy import func, select

from models import Membership
from tests.journal.helpers import entries_after, last_seq, summary
from tests.memberships.factories import make_member, make_plan, make_schedule

URL = "/api/v1/memberships/by-external-id"


@pytest.fixture
def member(session):
    plan = make_plan(session, code="full", grace_days=30)
    make_schedule(session, plan=plan, year=2025)
    member = make_member(session, category="sme")
    session.commit()
    return member


def _body(member, **changes):
    return {"member_id": str(member.id), "plan": "full", "start_date": "2025-01-01", **changes}


def _count(session):
    return session.scalar(select(func.count()).select_from(Membership))


def test_upsert_creates_then_updates(client, session, member, staff_headers):
    start = last_seq(session)
    created = client.put(f"{URL}/erp-1", json=_body(member), headers=staff_headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/memberships/{body['id']}")
    assert (body["external_id"], body["fee_cents"], body["end_date"]) == (
        "erp-1", 100_000, "2025-12-31",
    )  # fmt: skip
    assert summary(entries_after(session, start)) == [("membership.created", None)]

    # The same full row again, with the approval and notes: 200, only those change.
    again = client.put(
        f"{URL}/erp-1",
        json=_body(member, end_date="2025-12-31", approved_on="2025-01-05", notes="Signed"),
        headers=staff_headers,
    )
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == body["id"]
    assert again.headers["ETag"] == '"v2"'
    assert (again.get_json()["approved_on"], again.get_json()["notes"]) == ("2025-01-05", "Signed")
    found = entries_after(session, start)
    assert [entry.event_type for entry in found] == ["membership.created", "membership.approved"]
    assert _count(session) == 1

    # Nothing changed: no new version, no entry.
    same = client.put(f"{URL}/erp-1", json=_body(member, notes="Signed"), headers=staff_headers)
    assert same.status_code == 200
    assert same.headers["ETag"] == '"v2"'
    assert len(entries_after(session, start)) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_date": "2025-02-01"}, "start_date"),
        ({"end_date": "2025-06-30"}, "end_date"),
        ({"plan": "other"}, "plan"),
        ({"exemption": "founding_member"}, "exemption"),
    ],
)
def test_upsert_never_changes_the_terms(client, session, member, staff_headers, change, field):
    assert client.put(f"{URL}/erp-2", json=_body(member), headers=staff_headers).status_code == 201
    start = last_seq(session)
    response = client.put(
        f"{URL}/erp-2", json=_body(member, notes="x", **change), headers=staff_headers
    )
    assert response.status_code == 409, response.get_json()
    assert list(response.get_json()["errors"]) == [field]
    assert entries_after(session, start) == []
    stored = session.scalar(select(Membership).where(Membership.external_id == "erp-2"))
    session.refresh(stored)
    assert stored.notes is None


def test_upsert_bad_input_names_the_field_and_writes_nothing(
    client, session, member, staff_headers
):
    start = last_seq(session)
    cases = [
        (_body(member, plan="unknown"), "plan", 422),
        (_body(member, end_date="2024-12-31"), "end_date", 422),
        (_body(member, fee_cents=1000.5, fee_override_reason="x"), "fee_cents", 422),
        ({"plan": "full", "start_date": "2025-01-01"}, "member_id", 422),
    ]
    for body, field, status in cases:
        response = client.put(f"{URL}/erp-3", json=body, headers=staff_headers)
        assert response.status_code == status, response.get_json()
        assert field in response.get_json()["errors"], response.get_json()
    too_long = client.put(f"{URL}/{'x' * 101}", json=_body(member), headers=staff_headers)
    assert too_long.status_code == 422
    assert "external_id" in too_long.get_json()["errors"]
    assert _count(session) == 0
    assert entries_after(session, start) == []


def test_upsert_fee_override_needs_the_admin_scope(
    client, session, member, staff_headers, admin_headers, viewer_headers
):
    body = _body(member, fee_cents=5_000, fee_override_reason="Start-up discount")
    assert client.put(f"{URL}/erp-4", json=body, headers=viewer_headers).status_code == 403
    assert client.put(f"{URL}/erp-4", json=body, headers=staff_headers).status_code == 403
    created = client.put(f"{URL}/erp-4", json=body, headers=admin_headers)
    assert created.status_code == 201
    assert (created.get_json()["fee_cents"], created.get_json()["schedule_fee_cents"]) == (
        5_000, 100_000,
    )  # fmt: skip


def test_upsert_honours_if_match(client, session, member, staff_headers):
    assert client.put(f"{URL}/erp-5", json=_body(member), headers=staff_headers).status_code == 201
    stale = client.put(
        f"{URL}/erp-5",
        json=_body(member, notes="late"),
        headers={**staff_headers, "If-Match": '"v9"'},
    )
    assert stale.status_code == 412
    fresh = client.put(
        f"{URL}/erp-5",
        json=_body(member, notes="on time"),
        headers={**staff_headers, "If-Match": '"v1"'},
    )
    assert fresh.status_code == 200
