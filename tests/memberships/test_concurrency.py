"""Concurrent writes to memberships, in real transactions on PostgreSQL."""

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from api.extensions import db
from models import Membership, MembershipPayment
from services.transactions import violated_constraint
from tests.concurrency import send_together
from tests.memberships.factories import make_member, make_membership, make_plan, make_schedule

pytestmark = pytest.mark.postgres_only
URL = "/api/v1/memberships"


def test_two_payments_that_together_exceed_the_balance(
    committing_app, real_session, real_staff_headers
):
    membership = make_membership(
        real_session, member=make_member(real_session), plan=make_plan(real_session),
        start=date(2025, 1, 1), fee_cents=100_000,
    )  # fmt: skip
    real_session.commit()
    url = f"{URL}/{membership.id}/payments"
    body = {"amount_cents": 60_000, "paid_on": "2025-02-01", "method": "transfer"}
    responses = send_together(
        committing_app,
        lambda client: client.post(url, json=body, headers=real_staff_headers),
        lambda client: client.post(url, json=body, headers=real_staff_headers),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    total = real_session.scalar(
        select(func.sum(MembershipPayment.amount_cents)).where(
            MembershipPayment.membership_id == membership.id
        )
    )
    assert total == 60_000


def test_two_overlapping_memberships_at_once(committing_app, real_session, real_staff_headers):
    plan = make_plan(real_session, code="full")
    make_schedule(real_session, plan=plan, year=2025)
    member = make_member(real_session)
    real_session.commit()
    responses = send_together(
        committing_app,
        *(
            lambda client, start=start: client.post(
                URL,
                json={"member_id": str(member.id), "plan": "full", "start_date": start},
                headers=real_staff_headers,
            )
            for start in ("2025-01-01", "2025-06-01")
        ),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    count = select(func.count()).select_from(Membership).where(Membership.member_id == member.id)
    assert real_session.scalar(count) == 1


def test_database_refuses_overlaps_from_writers_that_skip_the_check(committing_app, real_session):
    """The exclusion constraint holds even without the service's lock and check."""
    plan = make_plan(real_session)
    member = make_member(real_session)
    make_membership(real_session, member=member, plan=plan, start=date(2025, 1, 1))
    real_session.commit()
    insert = text(
        "INSERT INTO memberships (id, member_id, plan_id, year, start_date, end_date,"
        " grace_until, fee_cents, currency, schedule_fee_cents, fee_basis, created_at,"
        " updated_at, version) VALUES (gen_random_uuid(), :member, :plan, 2025, '2025-12-31',"
        " '2026-12-30', '2026-12-30', 0, 'EUR', 0, '{}', now(), now(), 1)"
    )
    engine = db.state(committing_app).engine
    with engine.connect() as connection, pytest.raises(IntegrityError) as error:
        connection.execute(insert, {"member": member.id, "plan": plan.id})
    assert violated_constraint(error.value) == "ex_memberships_member_period"


def test_twenty_concurrent_renewals_create_one(committing_app, real_session, real_staff_headers):
    plan = make_plan(real_session)
    make_schedule(real_session, plan=plan, year=2026)
    membership = make_membership(
        real_session, member=make_member(real_session), plan=plan, start=date(2025, 1, 1)
    )
    real_session.commit()
    url = f"{URL}/{membership.id}/renew"
    responses = send_together(
        committing_app,
        *(lambda client: client.post(url, headers=real_staff_headers) for _ in range(20)),
    )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    renewals = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.renewal_of_id == membership.id)
    )
    assert real_session.scalar(renewals) == 1


def test_fifty_concurrent_invoices_get_fifty_consecutive_numbers(
    committing_app, real_session, real_staff_headers
):
    plan = make_plan(real_session)
    memberships = [
        make_membership(
            real_session, member=make_member(real_session), plan=plan, start=date(2025, 1, 1)
        )
        for _ in range(50)
    ]
    real_session.commit()
    responses = send_together(
        committing_app,
        *(
            lambda client, m=m: client.post(f"{URL}/{m.id}/invoices", headers=real_staff_headers)
            for m in memberships
        ),
    )
    assert [r.status_code for r in responses] == [201] * 50
    year = date.today().year
    numbers = sorted(r.get_json()["number"] for r in responses)
    assert numbers == [f"{year}-{n:05d}" for n in range(1, 51)]


UPSERTS = 10


def test_concurrent_first_upserts_of_one_external_id_create_one_membership(
    committing_app, real_session, real_staff_headers
):
    """The requests that lose the race to create it update it instead: no 409, one row."""
    plan = make_plan(real_session, code="race-plan")
    make_schedule(real_session, plan=plan, year=2025)
    member = make_member(real_session)
    real_session.commit()
    url = f"{URL}/by-external-id/erp-race-1"
    body = {"member_id": str(member.id), "plan": "race-plan", "start_date": "2025-01-01"}
    responses = send_together(
        committing_app,
        *[
            lambda client, n=n: client.put(
                url, json={**body, "notes": f"import {n}"}, headers=real_staff_headers
            )
            for n in range(UPSERTS)
        ],
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (UPSERTS - 1) + [201], [r.get_json() for r in responses]
    count = real_session.scalar(
        select(func.count()).select_from(Membership).where(Membership.member_id == member.id)
    )
    assert count == 1


def test_concurrent_campaign_runs_renew_each_membership_once(
    committing_app, real_session, real_staff_headers
):
    """Five runs of one year's campaign at once: one creates it, the others answer it or ask
    to try again (409), and every eligible membership is renewed exactly once."""
    plan = make_plan(real_session)
    make_schedule(real_session, plan=plan, year=2026)
    originals = [
        make_membership(
            real_session, member=make_member(real_session), plan=plan, start=date(2025, 1, 1),
            approved_on=date(2025, 1, 1),
        )
        for _ in range(6)
    ]  # fmt: skip
    real_session.commit()
    responses = send_together(
        committing_app,
        *(
            lambda client: client.post(
                "/api/v1/membership-campaigns", json={"year": 2026}, headers=real_staff_headers
            )
            for _ in range(5)
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, [r.get_json() for r in responses]
    renewed = real_session.scalars(
        select(Membership.renewal_of_id).where(
            Membership.renewal_of_id.in_([m.id for m in originals])
        )
    ).all()
    assert sorted(renewed) == sorted(m.id for m in originals)
    rerun = committing_app.test_client().post(
        "/api/v1/membership-campaigns", json={"year": 2026}, headers=real_staff_headers
    )
    assert rerun.status_code == 200
    assert (rerun.get_json()["created_count"], rerun.get_json()["skipped_count"]) == (0, 6)
