"""Membership plans and their yearly fee schedules, and the quote staff show a member."""

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import FeeSchedule, LateJoinPolicy, Member, MembershipPlan, PeriodType
from services.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from services.journal import JournalSpec, record_action, record_history, register
from services.membership_fees import Quote, compute_quote
from services.pagination import Page, attribute_key, datetime_key
from services.transactions import check_version, commit

PLAN_SORT_KEYS = {
    "code": attribute_key(MembershipPlan.code),
    "created_at": datetime_key(MembershipPlan.created_at),
    "updated_at": datetime_key(MembershipPlan.updated_at),
}
SCHEDULE_SORT_KEYS = {
    "year": attribute_key(FeeSchedule.year),
    "updated_at": datetime_key(FeeSchedule.updated_at),
}
PLAN_FIELDS = (
    "code",
    "name",
    "period_type",
    "grace_days",
    "late_join_policy",
    "late_join_month",
    "benefits",
    "is_active",
)
SCHEDULE_FIELDS = ("currency", "rules", "floor_cents", "cap_cents", "exemptions")

register(MembershipPlan, JournalSpec("membership_plan", "memberships:read"))
# A schedule goes only with its plan (never deleted alone): its entries are its own.
register(
    FeeSchedule,
    JournalSpec("fee_schedule", "memberships:read", owner=("membership_plan", "plan_id")),
)


def _plan_ref(plan_id: uuid.UUID) -> dict[str, str]:
    return {"id": str(plan_id), "href": f"/api/v1/membership-plans/{plan_id}"}


def _duplicate_code(session: Session, code: str) -> Conflict:
    existing = session.scalar(select(MembershipPlan.id).where(MembershipPlan.code == code))
    return Conflict(
        "A plan already has this code.",
        field="code",
        existing=_plan_ref(existing) if existing else None,
    )


def _check_policy(plan: MembershipPlan) -> None:
    """A late-join policy needs its month, and only calendar-year plans have one: a rolling
    period starts whenever the member joins, so nobody joins it late."""
    if plan.late_join_policy == LateJoinPolicy.NONE:
        plan.late_join_month = None
        return
    if plan.period_type == PeriodType.ROLLING_12_MONTHS:
        raise InvalidInput(
            {"late_join_policy": ["Rolling 12-month plans take no late-join policy."]}
        )
    if plan.late_join_month is None:
        raise InvalidInput({"late_join_month": ["Give the month from which the policy applies."]})


def _commit_plan(session: Session, plan: MembershipPlan) -> None:
    try:
        _check_policy(plan)
        with session.no_autoflush:
            taken = select(MembershipPlan.id).where(
                MembershipPlan.code == plan.code, MembershipPlan.id != plan.id
            )
            if session.scalar(taken) is not None:
                raise _duplicate_code(session, plan.code)
    except (Conflict, InvalidInput):
        session.rollback()
        raise
    code = plan.code
    commit(session, {"uq_membership_plans_code": lambda: _duplicate_code(session, code)})


def list_plans(
    *,
    is_active: bool | None = None,
    code: str | None = None,
    updated_since: datetime | None = None,
) -> Select[tuple[MembershipPlan]]:
    """Plans matching every filter."""
    stmt = select(MembershipPlan)
    if is_active is not None:
        stmt = stmt.where(MembershipPlan.is_active.is_(is_active))
    if code is not None:
        stmt = stmt.where(MembershipPlan.code == code)
    if updated_since is not None:
        stmt = stmt.where(MembershipPlan.updated_at >= updated_since)
    return stmt


def get_plan(session: Session, plan_id: uuid.UUID, *, lock: bool = False) -> MembershipPlan:
    stmt = select(MembershipPlan).where(MembershipPlan.id == plan_id)
    if lock:
        stmt = stmt.with_for_update()
    plan = session.scalar(stmt)
    if plan is None:
        raise NotFound("membership plan", plan_id)
    return plan


def plan_by_code(session: Session, code: str, *, field: str = "plan") -> MembershipPlan:
    """The plan with this code; an unknown code is a 422 on ``field``."""
    plan = session.scalar(select(MembershipPlan).where(MembershipPlan.code == code))
    if plan is None:
        raise InvalidInput({field: [f"No membership plan has the code {code!r}."]})
    return plan


def create_plan(session: Session, **values: Any) -> MembershipPlan:
    """Add a plan; its code is unique."""
    plan = MembershipPlan(id=uuid.uuid4(), **values)
    session.add(plan)
    _commit_plan(session, plan)
    return plan


def update_plan(
    session: Session,
    *,
    plan_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> MembershipPlan:
    """Change a plan. Memberships already created keep their period, grace and fee."""
    plan = get_plan(session, plan_id)
    check_version(plan.version, if_match)
    for name in PLAN_FIELDS:
        if name in changes:
            setattr(plan, name, changes[name])
    _commit_plan(session, plan)
    return plan


def list_schedules(
    session: Session, *, plan_id: uuid.UUID, updated_since: datetime | None = None
) -> Select[tuple[FeeSchedule]]:
    """The fee schedules of a plan."""
    get_plan(session, plan_id)
    stmt = select(FeeSchedule).where(FeeSchedule.plan_id == plan_id)
    if updated_since is not None:
        stmt = stmt.where(FeeSchedule.updated_at >= updated_since)
    return stmt


# The years a schedule may have (the API's path bounds them too).
LAST_SCHEDULE_YEAR = 2199


def find_schedule(session: Session, *, plan_id: uuid.UUID, year: int) -> FeeSchedule | None:
    return session.scalar(
        select(FeeSchedule).where(FeeSchedule.plan_id == plan_id, FeeSchedule.year == year)
    )


def get_schedule(session: Session, *, plan_id: uuid.UUID, year: int) -> FeeSchedule:
    get_plan(session, plan_id)
    schedule = find_schedule(session, plan_id=plan_id, year=year)
    if schedule is None:
        raise NotFound("fee schedule", f"{plan_id}/{year}")
    return schedule


def _check_schedule(schedule: FeeSchedule) -> None:
    if (
        schedule.floor_cents is not None
        and schedule.cap_cents is not None
        and schedule.floor_cents > schedule.cap_cents
    ):
        raise InvalidInput({"cap_cents": ["The cap is below the floor."]})


def put_schedule(
    session: Session,
    *,
    plan_id: uuid.UUID,
    year: int,
    values: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> tuple[FeeSchedule, bool]:
    """Create or replace the schedule of ``plan_id`` for ``year``; True if created.

    Memberships copy their fee when they are created, so replacing a schedule never changes
    the fee of an existing membership.
    """
    get_plan(session, plan_id, lock=True)  # one writer per plan: no duplicate-year race
    schedule = find_schedule(session, plan_id=plan_id, year=year)
    created = schedule is None
    if schedule is None:
        if if_match is not None:
            # As for upserts by external id: an If-Match names a version that does not exist.
            raise PreconditionFailed(f"The plan has no {year} schedule yet.")
        schedule = FeeSchedule(id=uuid.uuid4(), plan_id=plan_id, year=year)
        session.add(schedule)
    else:
        check_version(schedule.version, if_match)
    for name in SCHEDULE_FIELDS:
        if name in values:
            setattr(schedule, name, values[name])
    try:
        _check_schedule(schedule)
    except InvalidInput:
        session.rollback()
        raise
    commit(session, {"uq_fee_schedules_plan_id_year": lambda: _schedule_exists(year)})
    return schedule, created


def _schedule_exists(year: int) -> Conflict:
    return Conflict(f"The plan already has a {year} schedule.", field="year")


def copy_schedule_forward(session: Session, *, plan_id: uuid.UUID, year: int) -> FeeSchedule:
    """Start next year's schedule as a copy of ``year``'s; 409 if next year already has one."""
    source = get_schedule(session, plan_id=plan_id, year=year)
    if year + 1 > LAST_SCHEDULE_YEAR:
        raise Conflict(f"No schedule can follow {year}: the last year is {year}.", field="year")
    get_plan(session, plan_id, lock=True)
    if find_schedule(session, plan_id=plan_id, year=year + 1) is not None:
        raise _schedule_exists(year + 1)
    copy = FeeSchedule(
        id=uuid.uuid4(),
        plan_id=plan_id,
        year=year + 1,
        **{name: getattr(source, name) for name in SCHEDULE_FIELDS},
    )
    session.add(copy)
    record_action(session, copy, "copied", {"copied_from_year": [None, year]})
    commit(session, {"uq_fee_schedules_plan_id_year": lambda: _schedule_exists(year + 1)})
    return copy


def plan_history(
    session: Session, *, plan_id: uuid.UUID, limit: int, cursor: str | None = None
) -> Page:
    """A plan's journal entries, newest first (its schedules have their own)."""
    return record_history(
        session, model=MembershipPlan, record_id=plan_id, limit=limit, cursor=cursor
    )


def member_for_fee(session: Session, member_id: uuid.UUID) -> Member:
    """The member a fee is computed for; unknown or archived members are a 422."""
    member = session.get(Member, member_id)
    if member is None:
        raise InvalidInput({"member_id": [f"No member with id {member_id}."]})
    if member.archived_at is not None:
        raise InvalidInput({"member_id": ["This member is archived."]})
    return member


def schedule_for_period(
    session: Session, plan: MembershipPlan, year: int, *, field: str = "start_date"
) -> FeeSchedule:
    """The schedule pricing a period of ``year``; none is a 422 on the start date (``field``)."""
    schedule = find_schedule(session, plan_id=plan.id, year=year)
    if schedule is None:
        raise InvalidInput(
            {field: [f"Plan {plan.code!r} has no fee schedule for {year}."]},
            "No fee schedule covers this date.",
        )
    return schedule


def quote_fee(
    session: Session,
    *,
    plan_id: uuid.UUID,
    member_id: uuid.UUID,
    start: date,
    turnover_cents: int | None = None,
    exemption: str | None = None,
) -> Quote:
    """The fee, period and rule a membership of this member would get, without creating it."""
    plan = get_plan(session, plan_id)
    member = member_for_fee(session, member_id)
    schedule = schedule_for_period(session, plan, start.year, field="start")
    return compute_quote(
        plan=plan,
        schedule=schedule,
        member=member,
        start=start,
        turnover_cents=turnover_cents,
        exemption=exemption,
    )
