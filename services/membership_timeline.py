"""A member's memberships in its timeline: joined, renewed, paid, refunded, cancelled, lapsed.

Each is one SELECT of the timeline's columns (``services/timeline.py`` builds the rows and the
UNION ALL). Items are placed on the day things happened for the membership (its start, the
payment's date, the cancellation, the day after its last grace day), at 00:00 UTC, not when
the rows were written: an imported history then reads in its own order. A payment's item is
the payment and links to its membership.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, exists, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models import Membership, MembershipPayment, MembershipPlan
from models.types import UTCDateTime

MEMBERSHIP_CREATED = "membership.created"
MEMBERSHIP_RENEWED = "membership.renewed"
MEMBERSHIP_PAID = "membership.paid"
MEMBERSHIP_REFUNDED = "membership.refunded"
MEMBERSHIP_CANCELLED = "membership.cancelled"
MEMBERSHIP_LAPSED = "membership.lapsed"
MEMBERSHIP_KINDS = (
    MEMBERSHIP_CREATED,
    MEMBERSHIP_RENEWED,
    MEMBERSHIP_PAID,
    MEMBERSHIP_REFUNDED,
    MEMBERSHIP_CANCELLED,
    MEMBERSHIP_LAPSED,
)


class day_start(FunctionElement[Any]):  # noqa: N801 - a SQL function's name
    """00:00 UTC of a date, as the timeline's timestamps are stored on each database."""

    type = UTCDateTime()
    inherit_cache = True


class day_after(FunctionElement[Any]):  # noqa: N801 - a SQL function's name
    """The date after a date."""

    type = Date()
    inherit_cache = True


@compiles(day_start, "postgresql")
def _day_start_postgresql(element: day_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"timezone('UTC', CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP))"


@compiles(day_start, "sqlite")
def _day_start_sqlite(element: day_start, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy stores SQLite timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see UTCDateTime).
    return f"(date({compiler.process(element.clauses, **kw)}) || ' 00:00:00.000000')"


@compiles(day_after, "postgresql")
def _day_after_postgresql(element: day_after, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} + 1)"


@compiles(day_after, "sqlite")
def _day_after_sqlite(element: day_after, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


Row = Callable[..., Select[Any]]
Source = Callable[[ColumnElement[bool], Any], Select[Any]]


def membership_sources(row: Row) -> dict[str, Source]:
    """The membership kinds of a member's stream, as SELECTs built with the timeline's ``row``
    (the visibility of interactions does not apply to them)."""

    def plan_summary(prefix: str) -> Any:
        return literal(prefix) + MembershipPlan.name

    def memberships(kind: str, prefix: str, renewal: bool) -> Source:
        def source(_visible: ColumnElement[bool], member_id: Any) -> Select[Any]:
            renews = Membership.renewal_of_id.is_not(None)
            return (
                row(
                    day_start(Membership.start_date),
                    kind,
                    Membership.id,
                    plan_summary(prefix),
                    "memberships",
                )
                .join(MembershipPlan, MembershipPlan.id == Membership.plan_id)
                .where(Membership.member_id == member_id, renews if renewal else ~renews)
            )

        return source

    def payments(kind: str, summary: str, refund: bool) -> Source:
        def source(_visible: ColumnElement[bool], member_id: Any) -> Select[Any]:
            amount = MembershipPayment.amount_cents
            return (
                row(
                    day_start(MembershipPayment.paid_on),
                    kind,
                    MembershipPayment.id,
                    literal(summary),
                    "memberships",
                    link=Membership.id,
                )
                .join(Membership, Membership.id == MembershipPayment.membership_id)
                .where(Membership.member_id == member_id, amount < 0 if refund else amount > 0)
            )

        return source

    def cancelled(_visible: ColumnElement[bool], member_id: Any) -> Select[Any]:
        return (
            row(
                day_start(Membership.cancelled_on),
                MEMBERSHIP_CANCELLED,
                Membership.id,
                plan_summary("Membership cancelled: "),
                "memberships",
            )
            .join(MembershipPlan, MembershipPlan.id == Membership.plan_id)
            .where(Membership.member_id == member_id, Membership.cancelled_on.is_not(None))
        )

    def lapsed(_visible: ColumnElement[bool], member_id: Any) -> Select[Any]:
        # Over (grace included) before today, not cancelled, and no membership of the member
        # took over by the day after its grace: a renewal, or a new adhesion in time.
        following = aliased(Membership)
        taken_over = exists().where(
            following.member_id == Membership.member_id,
            following.start_date > Membership.start_date,
            following.start_date <= day_after(Membership.grace_until),
        )
        return (
            row(
                day_start(day_after(Membership.grace_until)),
                MEMBERSHIP_LAPSED,
                Membership.id,
                plan_summary("Membership lapsed: "),
                "memberships",
            )
            .join(MembershipPlan, MembershipPlan.id == Membership.plan_id)
            .where(
                Membership.member_id == member_id,
                Membership.cancelled_on.is_(None),
                Membership.grace_until < func.current_date(type_=Date()),
                ~taken_over,
            )
        )

    return {
        MEMBERSHIP_CREATED: memberships(MEMBERSHIP_CREATED, "Membership: ", renewal=False),
        MEMBERSHIP_RENEWED: memberships(MEMBERSHIP_RENEWED, "Membership renewed: ", renewal=True),
        MEMBERSHIP_PAID: payments(MEMBERSHIP_PAID, "Membership payment", refund=False),
        MEMBERSHIP_REFUNDED: payments(MEMBERSHIP_REFUNDED, "Membership refund", refund=True),
        MEMBERSHIP_CANCELLED: cancelled,
        MEMBERSHIP_LAPSED: lapsed,
    }
