"""The member list read at a day: membership status filter, current membership, member_since."""

from datetime import date

from tests.memberships.factories import make_member, make_membership, make_payment, make_plan

URL = "/api/v1/members"
D = date.fromisoformat


def _rows(client, headers, **query):
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {row["name"]: row for row in response.get_json()["data"]}


def test_filter_by_membership_status_on_a_day(client, session, staff_headers):
    plan = make_plan(session, grace_days=30)
    for name, start, approved in (
        ("Active", "2025-01-01", "2025-01-01"),
        ("Unpaid", "2025-01-01", None),
        ("Lapsed", "2024-01-01", "2024-01-01"),
    ):
        member = make_member(session, name=name)
        make_membership(session, member=member, plan=plan, start=D(start),
                        approved_on=D(approved) if approved else None)  # fmt: skip
    make_member(session, name="Never")
    session.commit()
    assert set(_rows(client, staff_headers, membership_status="active", as_of="2025-12-31")) == {
        "Active"
    }
    assert set(_rows(client, staff_headers, membership_status="grace", as_of="2025-01-30")) == {
        "Lapsed"
    }
    assert set(_rows(client, staff_headers, membership_status="pending", as_of="2025-06-01")) == {
        "Unpaid"
    }
    bad = client.get(URL, query_string={"membership_status": "member"}, headers=staff_headers)
    assert bad.status_code == 422
    assert "membership_status" in bad.get_json()["errors"]


def test_rows_carry_the_current_membership_only_when_read_at_a_day(client, session, staff_headers):
    plan = make_plan(session)
    member = make_member(session, name="Active")
    membership = make_membership(session, member=member, plan=plan, start=D("2025-01-01"),
                                 approved_on=D("2025-01-01"))  # fmt: skip
    session.commit()
    row = _rows(client, staff_headers, as_of="2025-06-30")["Active"]
    assert row["membership"] == {
        "id": str(membership.id),
        "plan_id": str(plan.id),
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
        "status": "active",
    }
    assert row["member_since"] == "2025-01-01"
    plain = _rows(client, staff_headers)["Active"]
    assert "membership" not in plain
    assert "member_since" not in plain


def test_member_since_survives_a_renewal_paid_within_grace(client, session, staff_headers):
    plan = make_plan(session, grace_days=30)  # grace until 30 January
    member = make_member(session, name="Loyal")
    make_membership(session, member=member, plan=plan, start=D("2024-03-10"),
                    end=D("2024-12-31"), approved_on=D("2024-03-15"))  # fmt: skip
    renewal = make_membership(session, member=member, plan=plan, start=D("2025-01-01"))
    make_payment(session, membership=renewal, amount_cents=100_000, paid_on=D("2025-01-30"))
    session.commit()
    days = ("2024-03-14", "2024-03-15", "2025-01-29", "2025-01-30", "2025-06-30")
    on = {day: _rows(client, staff_headers, as_of=day)["Loyal"]["member_since"] for day in days}
    assert on == {
        "2024-03-14": None,  # not yet approved
        "2024-03-15": "2024-03-15",
        "2025-01-29": "2024-03-15",  # in grace, renewal not yet paid
        "2025-01-30": "2024-03-15",  # renewal paid on the last grace day
        "2025-06-30": "2024-03-15",
    }


def test_member_since_starts_again_after_expiry(client, session, staff_headers):
    plan = make_plan(session, grace_days=30)
    member = make_member(session, name="Late")
    make_membership(session, member=member, plan=plan, start=D("2024-01-01"),
                    approved_on=D("2024-01-01"))  # fmt: skip
    renewal = make_membership(session, member=member, plan=plan, start=D("2025-01-01"))
    make_payment(session, membership=renewal, amount_cents=100_000, paid_on=D("2025-02-01"))
    session.commit()

    def since(day):
        return _rows(client, staff_headers, as_of=day)["Late"]["member_since"]

    assert since("2025-01-30") == "2024-01-01"  # last grace day
    assert since("2025-01-31") is None  # expired, renewal unpaid
    assert since("2025-02-01") == "2025-02-01"  # a new run
    assert _rows(client, staff_headers, as_of="2025-01-31")["Late"]["membership"]["status"] == (
        "pending"
    )


def test_a_fixed_number_of_statements_whatever_the_page_size(
    client, session, staff_headers, count_queries
):
    plan = make_plan(session)
    for index in range(12):
        member = make_member(session, name=f"M{index:02d}")
        first = make_membership(session, member=member, plan=plan, start=D("2024-01-01"))
        make_payment(session, membership=first, amount_cents=100_000, paid_on=D("2024-01-05"))
        second = make_membership(session, member=member, plan=plan, start=D("2025-01-01"),
                                 approved_on=D("2025-01-02"))  # fmt: skip
        make_payment(session, membership=second, amount_cents=50_000, paid_on=D("2025-02-01"))
    session.commit()
    counts = []
    for limit in (2, 12):
        with count_queries() as statements:
            response = client.get(
                URL,
                query_string={"limit": limit, "membership_status": "active", "as_of": "2025-06-30"},
                headers=staff_headers,
            )
        rows = response.get_json()["data"]
        assert len(rows) == limit
        assert all(row["member_since"] == "2024-01-05" for row in rows)
        counts.append(len(statements))
    assert counts[0] == counts[1]
