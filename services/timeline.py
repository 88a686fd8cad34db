"""A member's or a contact's timeline: what happened with them, newest first, in one stream.

Each kind of item is one SELECT of the same five columns (time, kind, id, summary, resource);
the page is their UNION ALL ordered by (time, kind, id) with a keyset on that triple, so a page
costs one statement whatever the mix, and items added meanwhile never shift or repeat a page.
Memberships and registrations join the stream as further SELECTs in ``_sources``; a
member's memberships come in from ``services/membership_timeline.py``, and its stream
also shows the R&D projects it is a partner of (from the day it joined the consortium),
confidential ones only to those who may see them.
"""

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    cast,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from models import (
    Contact,
    Event,
    Interaction,
    InteractionContact,
    InteractionMember,
    Member,
    Project,
    ProjectPartner,
    Registration,
    User,
)
from models.types import UTCDateTime
from services import strict_json
from services.errors import InvalidInput, NotFound
from services.interactions import visibility
from services.membership_timeline import MEMBERSHIP_KINDS, membership_sources
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.principals import Actor
from services.projects import visibility as project_visibility
from services.roles import Role

INTERACTION = "interaction"
RECORD_CREATED = "record.created"
RECORD_ARCHIVED = "record.archived"
REGISTRATION = "registration"
ATTENDANCE = "registration.attended"
PROJECT = "project"
TIMELINE_KINDS = (
    INTERACTION,
    RECORD_CREATED,
    RECORD_ARCHIVED,
    REGISTRATION,
    ATTENDANCE,
    PROJECT,
    *MEMBERSHIP_KINDS,
)


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    at: datetime
    id: uuid.UUID
    summary: str
    href: str


def _row(
    at: Any, kind: str, record_id: Any, summary: Any, resource: str, link: Any = None
) -> Select[Any]:
    """One kind's columns; ``link`` is the id the item's href points at when it is not the
    item's own (a payment links to its membership)."""
    return select(
        at.label("at"),
        cast(literal(kind), String(30)).label("kind"),
        record_id.label("id"),
        cast(summary, String(200)).label("summary"),
        cast(literal(resource), String(30)).label("resource"),
        (record_id if link is None else link).label("link"),
    )


# (visibility of interactions, the record's id parameter) -> the SELECT of one kind.
Source = Callable[[ColumnElement[bool], Any], Select[Any]]


def _sources(
    record: type[Member] | type[Contact],
    link: type[InteractionMember] | type[InteractionContact],
    link_column: Any,
    label: str,
    resource: str,
) -> dict[str, Source]:
    """The kinds of a member's or a contact's stream: the interactions linked to the record
    through ``link``, and the record's own creation and archiving."""

    def interactions(visible: ColumnElement[bool], record_id: Any) -> Select[Any]:
        return (
            _row(
                Interaction.occurred_at,
                INTERACTION,
                Interaction.id,
                Interaction.subject,
                "interactions",
            )
            .join(link, link.interaction_id == Interaction.id)
            .where(link_column == record_id, visible)
        )

    def created(_visible: ColumnElement[bool], record_id: Any) -> Select[Any]:
        return _row(
            record.created_at,
            RECORD_CREATED,
            record.id,
            literal(f"{label} record created"),
            resource,
        ).where(record.id == record_id)

    def archived(_visible: ColumnElement[bool], record_id: Any) -> Select[Any]:
        return _row(
            record.archived_at, RECORD_ARCHIVED, record.id, literal(f"{label} archived"), resource
        ).where(record.id == record_id, record.archived_at.is_not(None))

    sources = {INTERACTION: interactions, RECORD_CREATED: created, RECORD_ARCHIVED: archived}
    sources[REGISTRATION] = _registrations(record)
    sources[ATTENDANCE] = _attendances(record)
    if record is Member:
        sources[PROJECT] = _member_projects
    return sources


def _registrations(record: type[Member] | type[Contact]) -> Source:
    """Event registrations of the member (any of its people) or of the contact, at the time
    they registered."""
    column = Registration.member_id if record is Member else Registration.contact_id

    def registrations(_visible: ColumnElement[bool], record_id: Any) -> Select[Any]:
        return (
            _row(
                Registration.registered_at,
                REGISTRATION,
                Registration.id,
                literal("Event registration: ") + Event.title,
                "registrations",
            )
            .join(Event, Event.id == Registration.event_id)
            .where(column == record_id)
        )

    return registrations


def _member_projects(_visible: ColumnElement[bool], record_id: Any) -> Select[Any]:
    """The projects the member is a partner of, from the day it joined the consortium; a
    confidential one only for its team and admins (the actor is the statement's parameter)."""
    admin = bindparam("actor_is_admin", type_=Boolean())
    visible = or_(
        admin, project_visibility(admin=False, user_id=bindparam("actor_id", type_=Uuid()))
    )
    return (
        _row(
            ProjectPartner.created_at,
            PROJECT,
            Project.id,
            Project.acronym + literal(": ") + Project.title,
            "projects",
        )
        .join(Project, Project.id == ProjectPartner.project_id)
        .where(ProjectPartner.member_id == record_id, visible)
    )


def _attendances(record: type[Member] | type[Contact]) -> Source:
    """Check-ins at events of the member's people or of the contact, at the time they
    were checked in (attendance, as funders count it)."""
    column = Registration.member_id if record is Member else Registration.contact_id

    def attendances(_visible: ColumnElement[bool], record_id: Any) -> Select[Any]:
        return (
            _row(
                Registration.checked_in_at,
                ATTENDANCE,
                Registration.id,
                literal("Attended: ") + Event.title,
                "registrations",
            )
            .join(Event, Event.id == Registration.event_id)
            .where(column == record_id, Registration.checked_in_at.is_not(None))
        )

    return attendances


def _encode_cursor(item: TimelineItem) -> str:
    raw = json.dumps([item.at.isoformat(), item.kind, str(item.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(
    cursor: str, kinds: Collection[str] = TIMELINE_KINDS
) -> tuple[datetime, str, uuid.UUID]:
    """The last item's (time, kind, id), from a cursor ``_encode_cursor`` wrote; anything
    else is a 422 on ``cursor`` (cursors are not signed, so a client may edit one)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = strict_json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, list) or len(payload) != 3:
            raise TypeError("cursor is not a triple")
        at, kind, last_id = payload
        if not isinstance(at, str) or kind not in kinds or not isinstance(last_id, str):
            raise TypeError("cursor values of the wrong type")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("cursor timestamp without an offset")
        return moment.astimezone(UTC), kind, uuid.UUID(last_id)
    except (ValueError, TypeError, OverflowError, binascii.Error) as exc:
        raise InvalidInput(
            {"cursor": ["Not a cursor returned by this timeline."]}, "Invalid cursor."
        ) from exc


@functools.cache
def _statement(
    record: str, kinds: tuple[str, ...], *, admin: bool, since: bool, until: bool, after: bool
) -> Select[Any]:
    """The page statement for one shape of request, built once per process: the record,
    the user, the dates, the cursor and the limit are bound parameters."""
    sources = _SOURCES[record]
    visible = visibility(admin=admin, user_id=bindparam("actor_id", type_=Uuid()))
    record_id = bindparam("record_id", type_=Uuid())
    selects = [sources[kind](visible, record_id) for kind in kinds]
    union = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("timeline")
    stmt = select(union)
    if since:
        stmt = stmt.where(union.c.at >= bindparam("since", type_=UTCDateTime()))
    if until:
        stmt = stmt.where(union.c.at < bindparam("until", type_=UTCDateTime()))
    if after:
        last = tuple_(
            bindparam("after_at", type_=UTCDateTime()),
            bindparam("after_kind", type_=String(30)),
            bindparam("after_id", type_=Uuid()),
        )
        stmt = stmt.where(tuple_(union.c.at, union.c.kind, union.c.id) < last)
    stmt = stmt.order_by(union.c.at.desc(), union.c.kind.desc(), union.c.id.desc())
    return stmt.limit(bindparam("limit", type_=Integer()))


def _page(
    session: Session,
    record: str,
    *,
    actor: User | Actor,
    record_id: uuid.UUID,
    kinds: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    sources = _SOURCES[record]
    wanted = tuple(
        kind for kind in TIMELINE_KINDS if kind in sources and (not kinds or kind in kinds)
    )
    if not wanted:
        return Page(items=[], next_cursor=None)
    limit = max(1, min(limit, MAX_LIMIT))
    params: dict[str, Any] = {
        "record_id": record_id,
        "actor_id": actor.id,
        "actor_is_admin": actor.role == Role.ADMIN,
        "since": since,
        "until": until,
        "limit": limit + 1,
    }
    if cursor:
        params["after_at"], params["after_kind"], params["after_id"] = _decode_cursor(cursor)
    stmt = _statement(
        record,
        wanted,
        admin=actor.role == Role.ADMIN,
        since=since is not None,
        until=until is not None,
        after=bool(cursor),
    )
    # Parameters the statement's shape left out (no cursor, no dates) are ignored. Plain rows
    # come back: run on the session's connection, skipping the ORM's result machinery.
    rows = session.connection().execute(stmt, params).all()
    items = [
        TimelineItem(
            kind=row.kind,
            at=row.at,
            id=row.id,
            summary=row.summary,
            href=f"/api/v1/{row.resource}/{row.link}",
        )
        for row in rows[:limit]
    ]
    next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def member_timeline(
    session: Session, *, actor: User | Actor, member_id: uuid.UUID, **page: Any
) -> Page:
    """What happened with a member, newest first: the interactions ``actor`` may see, the
    member record's creation and archiving, and its memberships (joined, renewed, paid,
    refunded, cancelled, lapsed)."""
    found = _page(session, "member", actor=actor, record_id=member_id, **page)
    if not found.items and session.scalar(_exists(Member), {"record_id": member_id}) is None:
        raise NotFound("member", member_id)
    return found


def contact_timeline(
    session: Session, *, actor: User | Actor, contact_id: uuid.UUID, **page: Any
) -> Page:
    """What happened with a contact, newest first (as for members)."""
    found = _page(session, "contact", actor=actor, record_id=contact_id, **page)
    if not found.items and session.scalar(_exists(Contact), {"record_id": contact_id}) is None:
        raise NotFound("contact", contact_id)
    return found


@functools.cache
def _exists(record: type[Member] | type[Contact]) -> Select[Any]:
    """Whether the record exists, asked only when its page is empty: a record's stream always
    holds its creation, so a page with items proves it exists without a query."""
    return select(record.id).where(record.id == bindparam("record_id", type_=Uuid()))


_SOURCES = {
    "member": {
        **_sources(Member, InteractionMember, InteractionMember.member_id, "Member", "members"),
        **membership_sources(_row),
    },
    "contact": _sources(
        Contact, InteractionContact, InteractionContact.contact_id, "Contact", "contacts"
    ),
}
