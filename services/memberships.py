"""Memberships: a member's adhesion to a plan for a period, at the fee fixed at creation."""

import functools
import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Select, Uuid, bindparam, exists, select
from sqlalchemy.orm import Session, joinedload, with_expression

from models import Member, Membership, MembershipStatus
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.identifiers import external_id_from_path
from services.journal import JournalSpec, record_action, record_history, register
from services.membership_fees import compute_quote
from services.membership_plans import member_for_fee, plan_by_code, schedule_for_period
from services.membership_status import as_of_expression, paid_cents_expression, status_condition
from services.pagination import Page, SortKey, datetime_key
from services.transactions import check_version, commit, retry_on_version_conflict

MEMBERSHIPS_PATH = "/api/v1/memberships"
OVERRIDE_SCOPE = "memberships:admin"

# Entries name the domain actions: membership.created, .renewed (the new period's entry),
# .approved, .cancelled, .paid and .refunded (a payment is journaled on its membership, with
# the payment's id and the total paid before and after), else .updated.
register(
    Membership,
    JournalSpec("membership", "memberships:read", exclude=frozenset({"paid_cents", "as_of"})),
)


def _decode_date(value: Any) -> date:
    if not isinstance(value, str):
        raise TypeError("cursor date is not a string")
    return date.fromisoformat(value)


def date_key(attribute: Any) -> SortKey:
    """Sort on a date column; the cursor holds the date as ``YYYY-MM-DD``."""
    return SortKey(
        attribute,
        value_of=lambda row: getattr(row, attribute.key).isoformat(),
        decode=_decode_date,
    )


MEMBERSHIP_SORT_KEYS = {
    "start_date": date_key(Membership.start_date),
    "end_date": date_key(Membership.end_date),
    "created_at": datetime_key(Membership.created_at),
    "updated_at": datetime_key(Membership.updated_at),
}


def membership_ref(membership_id: uuid.UUID) -> dict[str, str]:
    return {"id": str(membership_id), "href": f"{MEMBERSHIPS_PATH}/{membership_id}"}


def _as_of_options(as_of: date) -> tuple[Any, ...]:
    """Load the plan and, for the day of the read, what was paid by then and the day itself."""
    return (
        joinedload(Membership.plan),
        with_expression(Membership.paid_cents, paid_cents_expression(as_of)),
        with_expression(Membership.as_of, as_of_expression(as_of)),
    )


def _filter(
    session: Session,
    stmt: Select[tuple[Membership]],
    *,
    as_of: date,
    status: str | None = None,
    plan: str | None = None,
    year: int | None = None,
    member_id: uuid.UUID | None = None,
    ends_before: date | None = None,
    external_id: str | None = None,
    updated_since: datetime | None = None,
) -> Select[tuple[Membership]]:
    if status is not None:
        stmt = stmt.where(status_condition(MembershipStatus(status), as_of))
    if plan is not None:
        stmt = stmt.where(Membership.plan_id == plan_by_code(session, plan).id)
    if year is not None:
        stmt = stmt.where(Membership.year == year)
    if member_id is not None:
        stmt = stmt.where(Membership.member_id == member_id)
    if ends_before is not None:
        stmt = stmt.where(Membership.end_date < ends_before)
    if external_id is not None:
        stmt = stmt.where(Membership.external_id == external_id)
    if updated_since is not None:
        stmt = stmt.where(Membership.updated_at >= updated_since)
    return stmt


def list_memberships(session: Session, *, as_of: date, **filters: Any) -> Select[tuple[Membership]]:
    """Memberships matching every filter; ``status`` is their status on ``as_of``."""
    stmt = select(Membership).options(*_as_of_options(as_of))
    return _filter(session, stmt, as_of=as_of, **filters)


def list_member_memberships(
    session: Session, *, member_id: uuid.UUID, as_of: date, **filters: Any
) -> Select[tuple[Membership]]:
    """One member's memberships."""
    if session.get(Member, member_id) is None:
        raise NotFound("member", member_id)
    return list_memberships(session, as_of=as_of, member_id=member_id, **filters)


def get_membership(
    session: Session, membership_id: uuid.UUID, *, as_of: date, lock: bool = False
) -> Membership:
    """The membership as it stood on ``as_of``; ``lock`` holds its row until the commit."""
    params = {"membership_id": membership_id, "as_of": as_of}
    membership = session.scalar(_membership_by_id(lock), params)
    if membership is None:
        raise NotFound("membership", membership_id)
    return membership


@functools.cache
def _membership_by_id(lock: bool) -> Select[tuple[Membership]]:
    """Built once per process, the id and the day as bound parameters: building the loader
    options (a subquery) on every read cost more than running the query."""
    as_of: Any = bindparam("as_of", type_=Date())
    stmt = (
        select(Membership)
        .where(Membership.id == bindparam("membership_id", type_=Uuid()))
        .options(
            joinedload(Membership.plan),
            with_expression(Membership.paid_cents, paid_cents_expression(as_of)),
            with_expression(Membership.as_of, as_of),
        )
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=Membership) if lock else stmt


def find_overlap(session: Session, member_id: uuid.UUID, start: date, end: date) -> Conflict | None:
    clash = session.scalar(
        select(Membership.id).where(
            Membership.member_id == member_id,
            Membership.start_date <= end,
            Membership.end_date >= start,
        )
    )
    if clash is None:
        return None
    return Conflict(
        "This period overlaps another membership of the member.",
        field="start_date",
        existing=membership_ref(clash),
    )


def _duplicate_external_id(session: Session, external_id: str | None) -> Conflict:
    existing = session.scalar(select(Membership.id).where(Membership.external_id == external_id))
    return Conflict(
        "A membership already has this external_id.",
        field="external_id",
        existing=membership_ref(existing) if existing else None,
    )


def commit_membership(session: Session, membership: Membership) -> None:
    """Commit, answering a clash the database found (concurrent writers) as the checks do."""
    member_id, start, end = membership.member_id, membership.start_date, membership.end_date
    external_id = membership.external_id

    def overlap() -> Conflict:
        return find_overlap(session, member_id, start, end) or Conflict(
            "This period overlaps another membership of the member.", field="start_date"
        )

    commit(
        session,
        {
            "ex_memberships_member_period": overlap,
            "uq_memberships_external_id": lambda: _duplicate_external_id(session, external_id),
            "uq_memberships_renewal_of_id": lambda: Conflict(
                "This membership is already renewed.", field="renewal_of_id"
            ),
        },
    )


def create_membership(
    session: Session,
    *,
    member_id: uuid.UUID,
    plan: str,
    start_date: date,
    end_date: date | None = None,
    approved_on: date | None = None,
    turnover_cents: int | None = None,
    exemption: str | None = None,
    fee_cents: int | None = None,
    fee_override_reason: str | None = None,
    notes: str | None = None,
    external_id: str | None = None,
    may_override_fee: bool = False,
    as_of: date,
) -> Membership:
    """Enrol a member in a plan from ``start_date``, at the fee its schedule gives for that year.

    The fee is copied onto the membership: later schedule changes never move it. A fee set by
    hand needs the memberships:admin scope and a reason, and the schedule's fee is kept beside
    it. Periods of one member never overlap (409).
    """
    membership = stage_membership(
        session,
        member_id=member_id,
        plan=plan,
        start_date=start_date,
        end_date=end_date,
        approved_on=approved_on,
        turnover_cents=turnover_cents,
        exemption=exemption,
        fee_cents=fee_cents,
        fee_override_reason=fee_override_reason,
        notes=notes,
        external_id=external_id,
        may_override_fee=may_override_fee,
    )
    commit_membership(session, membership)
    return get_membership(session, membership.id, as_of=as_of)


def stage_membership(
    session: Session,
    *,
    member_id: uuid.UUID,
    plan: str,
    start_date: date,
    end_date: date | None = None,
    approved_on: date | None = None,
    turnover_cents: int | None = None,
    exemption: str | None = None,
    fee_cents: int | None = None,
    fee_override_reason: str | None = None,
    notes: str | None = None,
    external_id: str | None = None,
    may_override_fee: bool = False,
) -> Membership:
    """``create_membership``'s checks and the new membership, added to the session but not
    committed (an import commits a whole chunk)."""
    if fee_cents is not None and not may_override_fee:
        raise PermissionDenied(f"Setting the fee by hand needs the {OVERRIDE_SCOPE!r} scope.")
    membership_plan = plan_by_code(session, plan)
    if not membership_plan.is_active:
        raise InvalidInput({"plan": [f"Plan {plan!r} is not open to new memberships."]})
    member = member_for_fee(session, member_id)
    schedule = schedule_for_period(session, membership_plan, start_date.year)
    quote = compute_quote(
        plan=membership_plan,
        schedule=schedule,
        member=member,
        start=start_date,
        turnover_cents=turnover_cents,
        exemption=exemption,
    )
    end = end_date or quote.period.end
    # Lock the member: two creations for one member then check overlaps one after the other.
    session.execute(select(Member.id).where(Member.id == member_id).with_for_update())
    if clash := find_overlap(session, member_id, start_date, end):
        raise clash
    membership = Membership(
        id=uuid.uuid4(),
        member_id=member_id,
        plan_id=membership_plan.id,
        year=quote.period.year,
        start_date=start_date,
        end_date=end,
        grace_until=end + timedelta(days=membership_plan.grace_days),
        approved_on=approved_on,
        fee_cents=quote.fee_cents if fee_cents is None else fee_cents,
        currency=quote.currency,
        schedule_fee_cents=quote.fee_cents,
        fee_basis=quote.basis,
        fee_override_reason=fee_override_reason if fee_cents is not None else None,
        declared_turnover_cents=turnover_cents,
        exemption=exemption,
        notes=notes,
        external_id=external_id,
    )
    if external_id is not None and session.scalar(
        select(exists().where(Membership.external_id == external_id))
    ):
        raise _duplicate_external_id(session, external_id)
    session.add(membership)
    return membership


def update_membership(
    session: Session,
    *,
    membership_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
    as_of: date,
) -> Membership:
    """Record the approval, notes or external id of a membership (its period and fee stay).

    Without ``if_match`` the last write wins: a concurrent change is not an error.
    """
    return retry_on_version_conflict(
        lambda lock: _update_membership(
            session,
            membership_id=membership_id,
            changes=changes,
            if_match=if_match,
            as_of=as_of,
            lock=lock,
        ),
        if_match=if_match,
    )


def _update_membership(
    session: Session,
    *,
    membership_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
    as_of: date,
    lock: bool,
) -> Membership:
    membership = get_membership(session, membership_id, as_of=as_of, lock=lock)
    check_version(membership.version, if_match)
    external_id = changes.get("external_id")
    if external_id is not None and session.scalar(
        select(
            exists().where(Membership.external_id == external_id, Membership.id != membership_id)
        )
    ):
        session.rollback()
        raise _duplicate_external_id(session, external_id)
    approving = membership.approved_on is None and changes.get("approved_on") is not None
    for name in ("approved_on", "notes", "external_id"):
        if name in changes:
            setattr(membership, name, changes[name])
    if approving:
        record_action(session, membership, "approved")
    commit_membership(session, membership)
    return get_membership(session, membership_id, as_of=as_of)


# What a membership was created with and never changes: an upsert that sends another value
# is refused (cancel the membership and create another).
_TERMS = ("member_id", "plan", "start_date", "end_date", "fee_cents", "turnover_cents", "exemption")


def _terms(membership: Membership) -> dict[str, Any]:
    return {
        "member_id": membership.member_id,
        "plan": membership.plan.code,
        "start_date": membership.start_date,
        "end_date": membership.end_date,
        "fee_cents": membership.fee_cents,
        "turnover_cents": membership.declared_turnover_cents,
        "exemption": membership.exemption,
    }


def _external_id_holder(session: Session, external_id: str) -> uuid.UUID | None:
    return session.scalar(select(Membership.id).where(Membership.external_id == external_id))


def upsert_membership_by_external_id(
    session: Session,
    *,
    external_id: str,
    fields: Mapping[str, Any],
    if_match: Collection[int] | None,
    may_override_fee: bool,
    as_of: date,
) -> tuple[Membership, bool]:
    """Create the membership an importer knows as ``external_id``, or record the approval and
    notes it sent; True if created.

    An existing membership keeps its terms (member, plan, period, fee): a different value
    for one of them is a 409 naming it, an equal one is accepted, so an importer may send the
    same full row again. Of several first requests at once, one creates it and the others
    update it.
    """
    external_id = external_id_from_path(external_id)
    existing_id = _external_id_holder(session, external_id)
    if existing_id is None:
        try:
            membership = create_membership(
                session,
                **{**fields, "external_id": external_id},
                may_override_fee=may_override_fee,
                as_of=as_of,
            )
            return membership, True
        except Conflict:
            # Another request created it since the lookup (its period then overlaps, or its
            # external_id is taken): update it, as if it had been found.
            session.rollback()
            existing_id = _external_id_holder(session, external_id)
            if existing_id is None:
                raise
    terms = _terms(get_membership(session, existing_id, as_of=as_of))
    for name in _TERMS:
        if name in fields and fields[name] != terms[name]:
            session.rollback()
            raise Conflict(
                f"A membership's {name} is fixed when it is created; cancel it and create "
                "another to change it.",
                field=name,
                existing=membership_ref(existing_id),
            )
    changes = {name: fields[name] for name in ("approved_on", "notes") if name in fields}
    membership = update_membership(
        session, membership_id=existing_id, changes=changes, if_match=if_match, as_of=as_of
    )
    return membership, False


def cancel_membership(
    session: Session,
    *,
    membership_id: uuid.UUID,
    on: date,
    reason: str,
    if_match: Collection[int] | None,
    as_of: date,
) -> Membership:
    """End a membership early: its status is ``cancelled`` from ``on``; 409 if already so."""
    membership = get_membership(session, membership_id, as_of=as_of)
    check_version(membership.version, if_match)
    if membership.cancelled_on is not None:
        raise Conflict("This membership is already cancelled.", field="cancelled_on")
    membership.cancelled_on = on
    membership.cancel_reason = reason
    record_action(session, membership, "cancelled")
    commit_membership(session, membership)
    return get_membership(session, membership_id, as_of=as_of)


def membership_history(
    session: Session, *, membership_id: uuid.UUID, limit: int, cursor: str | None = None
) -> Page:
    """A membership's journal entries, newest first: creation or renewal, approval, payments
    and refunds, changes, cancellation."""
    return record_history(
        session, model=Membership, record_id=membership_id, limit=limit, cursor=cursor
    )
