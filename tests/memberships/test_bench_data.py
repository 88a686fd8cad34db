"""The benchmark generator's memberships are read by the application as its own."""

import pytest

pytest.importorskip("faker", reason="the benchmark needs the bench extra")

from sqlalchemy import func, select  # noqa: E402

from bench.generate import generate, wipe_bench_data  # noqa: E402
from models import Member, Membership, MembershipPayment  # noqa: E402


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_generated_memberships_follow_the_rules(client, session, admin_headers):
    report = generate(session, members=80, contacts=10, seed=11)
    session.commit()
    assert report.memberships == _count(session, Membership) > 80
    assert report.payments == _count(session, MembershipPayment) > 0
    years = set(session.scalars(select(Membership.year).distinct()))
    assert years == {2024, 2025, 2026}
    active = client.get(
        "/api/v1/members",
        query_string={"membership_status": "active", "as_of": "2025-06-30", "limit": 200},
        headers=admin_headers,
    )
    assert active.status_code == 200, active.get_json()
    rows = active.get_json()["data"]
    assert rows
    assert all(row["membership"]["status"] == "active" for row in rows)
    assert all(row["member_since"] <= "2025-06-30" for row in rows)
    membership = session.scalars(select(Membership).limit(1)).one()
    response = client.get(f"/api/v1/memberships/{membership.id}", headers=admin_headers)
    assert response.status_code == 200
    # Renewals chain without overlaps: the next period starts the day after.
    for renewal in session.scalars(select(Membership).where(Membership.renewal_of_id.is_not(None))):
        original = session.get(Membership, renewal.renewal_of_id)
        assert (renewal.start_date - original.end_date).days == 1


def test_wipe_removes_memberships_with_their_members(session):
    generate(session, members=30, contacts=5, seed=12)
    session.flush()
    wipe_bench_data(session)
    session.flush()
    assert _count(session, Membership) == 0
    assert _count(session, Member) == 0
