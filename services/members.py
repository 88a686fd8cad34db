"""Members: the organisations of the cluster.

Rules held here: SIREN and ``external_id`` are unique (constraints back the checks, so two
concurrent requests cannot both succeed); the SIRET and a French VAT number agree with the
SIREN; domains come from the active vocabulary; the parent exists and no member is its own
ancestor; a member with history is archived, and only a member with nothing attached is deleted.
"""

import functools
import uuid
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, joinedload, selectinload, with_expression
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import ORMOption

from models import Affiliation, Contact, Domain, Member
from models.types import utcnow
from services.archiving import mark_archived, mark_restored
from services.domains import resolve_domains
from services.errors import Conflict, InvalidInput, NotFound
from services.filters import S, filter_archived, filter_words
from services.geography import departement_of
from services.identifiers import external_id_from_path, identifier_mismatches
from services.member_memberships import has_membership_status, membership_loader_options
from services.pagination import attribute_key, datetime_key
from services.record_inserts import insert_new
from services.text import fold, fold_all
from services.transactions import (
    check_version,
    commit,
    hold_transaction_lock,
    retry_on_version_conflict,
    translating,
)

MEMBERS_PATH = "/api/v1/members"
HIERARCHY_LOCK = "members.parent_id"

MEMBER_SORT_KEYS = {
    "name": attribute_key(Member.sort_name),
    "created_at": datetime_key(Member.created_at),
    "updated_at": datetime_key(Member.updated_at),
}

# Scalar columns a client may write; ``domains`` and ``parent_id`` are handled apart.
_SCALAR_FIELDS = (
    "name", "legal_name", "category", "siren", "siret", "vat_number", "headcount_band",
    "year_founded", "website", "email", "phone", "street", "postal_code", "city", "country",
    "description", "external_id",
)  # fmt: skip


class MemberFields(TypedDict, total=False):
    """What a client may set on a member (all already checked for syntax by the schemas)."""

    name: str
    legal_name: str | None
    category: str
    siren: str | None
    siret: str | None
    vat_number: str | None
    headcount_band: str | None
    year_founded: int | None
    website: str | None
    email: str | None
    phone: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    country: str
    description: str | None
    external_id: str | None
    parent_id: uuid.UUID | None
    domains: list[str]


def member_href(member_id: uuid.UUID) -> str:
    """Where a client reads the member (used in conflict bodies that point at a duplicate)."""
    return f"{MEMBERS_PATH}/{member_id}"


def _existing(member: Member | None) -> dict[str, str] | None:
    if member is None:
        return None
    return {"id": str(member.id), "name": member.name, "href": member_href(member.id)}


def _duplicate(session: Session, field: str, value: str) -> Conflict:
    column = Member.siren if field == "siren" else Member.external_id
    existing = session.scalar(select(Member).where(column == value))
    label = "SIREN" if field == "siren" else "external_id"
    return Conflict(
        f"A member with this {label} already exists.", field=field, existing=_existing(existing)
    )


def _conflicts(session: Session, fields: dict[str, Any]) -> dict[str, Any]:
    """Constraint name -> Conflict factory, for ``commit``."""
    return {
        "uq_members_siren": lambda: _duplicate(session, "siren", fields.get("siren") or ""),
        "uq_members_external_id": lambda: _duplicate(
            session, "external_id", fields.get("external_id") or ""
        ),
    }


def _refuse_duplicates(session: Session, member: Member | None, fields: dict[str, Any]) -> None:
    """Answer a duplicate SIREN or external_id with a pointer to the member that has it.

    The unique constraints still decide when two requests race; this check only makes the
    common case cheap and its answer precise.
    """
    for field, column in (("siren", Member.siren), ("external_id", Member.external_id)):
        value = fields.get(field)
        if not value:
            continue
        stmt = select(Member.id).where(column == value)
        if member is not None:
            stmt = stmt.where(Member.id != member.id)
        if session.scalar(stmt) is not None:
            raise _duplicate(session, field, value)


def contacts_count() -> ColumnElement[int]:
    """Contacts (not archived) whose affiliation with the member has not ended.

    "Today" is the database's ``CURRENT_DATE``, so the statement never changes and its
    compiled form is built once.
    """
    today = func.current_date(type_=Affiliation.end_date.type)
    return (
        select(func.count(Affiliation.id))
        .join(Contact, Contact.id == Affiliation.contact_id)
        .where(
            Affiliation.member_id == Member.id,
            Contact.archived_at.is_(None),
            or_(Affiliation.end_date.is_(None), Affiliation.end_date >= today),
        )
        .correlate(Member)
        .scalar_subquery()
    )


@functools.cache
def member_loader_options(*, single: bool = False) -> tuple[ORMOption, ...]:
    """Load what a member response embeds in a fixed number of queries, whatever the rows.

    The parent (at most one row) is joined in. Domains are joined in too when one member is
    read, so that a GET costs one query; for pages they come in one second query instead,
    so that the page's rows are not repeated once per domain. A page reads only the columns
    its rows show (its parents only their id and name); a record read for a write or an ETag
    is whole.

    Built once per process: the options are immutable, and building them (subquery
    included) costs more than the query they add to.
    """
    if single:
        return (
            joinedload(Member.domains),
            joinedload(Member.parent),
            with_expression(Member.contacts_count, contacts_count()),
        )
    return (
        defer(Member.search_text),  # what a page shows: not the search text nor the version
        defer(Member.version),
        selectinload(Member.domains),
        joinedload(Member.parent).load_only(Member.id, Member.name),
        with_expression(Member.contacts_count, contacts_count()),
    )


class MemberFilters(TypedDict, total=False):
    """The member list's filters, as ``GET /members`` takes them."""

    q: str | None
    category: str | None
    departement: str | None
    domain: str | None
    has_siren: bool | None
    parent_id: uuid.UUID | None
    external_id: str | None
    archived: bool | None
    updated_since: datetime | None
    membership_status: str | None
    as_of: date | None


def list_members(**filters: Unpack[MemberFilters]) -> Select[tuple[Member]]:
    """Members matching every filter (``filter_members``), as ORM objects with what a list row
    embeds; with ``as_of``, each comes with its memberships, read at that day."""
    stmt = select(Member).options(*member_loader_options())
    as_of = filters.get("as_of")
    if as_of is not None:
        stmt = stmt.options(*membership_loader_options(as_of))
    return filter_members(stmt, **filters)


def filter_members(
    stmt: S,
    *,
    q: str | None = None,
    category: str | None = None,
    departement: str | None = None,
    domain: str | None = None,
    has_siren: bool | None = None,
    parent_id: uuid.UUID | None = None,
    external_id: str | None = None,
    archived: bool | None = False,
    updated_since: datetime | None = None,
    membership_status: str | None = None,
    as_of: date | None = None,
) -> S:
    """``stmt`` (of members, or of their columns) kept to members matching every filter;
    ``archived=None`` lists archived and active ones.

    ``membership_status`` keeps members with a membership in that status on ``as_of`` (today
    by default). ``q`` matches each of its words, folded like ``search_text``, anywhere in the
    member's name, legal name, SIREN or city, so "societe generale" finds "Société Générale"
    on both databases.
    """
    stmt = filter_archived(stmt, Member.archived_at, archived)
    if category is not None:
        stmt = stmt.where(Member.category == category)
    if departement is not None:
        stmt = stmt.where(Member.departement == departement)
    if domain is not None:
        stmt = stmt.where(Member.domains.any(Domain.code == domain))
    if has_siren is not None:
        stmt = stmt.where(Member.siren.is_not(None) if has_siren else Member.siren.is_(None))
    if parent_id is not None:
        stmt = stmt.where(Member.parent_id == parent_id)
    if external_id is not None:
        stmt = stmt.where(Member.external_id == external_id)
    if updated_since is not None:
        stmt = stmt.where(Member.updated_at >= updated_since)
    if membership_status is not None:
        stmt = stmt.where(has_membership_status(membership_status, as_of or date.today()))
    return filter_words(stmt, Member.search_text, q)


@functools.cache
def _member_by_id(lock: bool) -> Select[tuple[Member]]:
    """Built once per process with a bind parameter: SQLAlchemy then finds its compiled form
    without rebuilding the statement and its cache key on every request."""
    stmt = (
        select(Member)
        .where(Member.id == bindparam("member_id"))
        .options(*member_loader_options(single=True))
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=Member) if lock else stmt


def get_member(session: Session, member_id: uuid.UUID, *, lock: bool = False) -> Member:
    """The member with its domains, parent and contact count; ``NotFound`` otherwise.

    ``lock`` holds the member's row until the commit (no other writer can change it meanwhile).
    """
    statement = _member_by_id(lock)
    member = session.scalars(statement, {"member_id": member_id}).unique().one_or_none()
    if member is None:
        raise NotFound("member", member_id)
    return member


def _check_parent(session: Session, member: Member | None, parent_id: uuid.UUID | None) -> None:
    """The parent must exist and must not be the member itself or one of its descendants."""
    if parent_id is None:
        return
    if session.get(Member, parent_id) is None:
        raise InvalidInput({"parent_id": [f"No member with id {parent_id}."]})
    if member is None:
        return
    # Walk up from the proposed parent; meeting the member means the change closes a loop.
    # UNION (not UNION ALL) stops the walk even on an already inconsistent hierarchy.
    ancestors = (
        select(Member.id, Member.parent_id)
        .where(Member.id == parent_id)
        .cte("ancestors", recursive=True)
    )
    ancestors = ancestors.union(
        select(Member.id, Member.parent_id).join(ancestors, Member.id == ancestors.c.parent_id)
    )
    if session.scalar(select(ancestors.c.id).where(ancestors.c.id == member.id)) is not None:
        raise InvalidInput(
            {"parent_id": ["A member cannot be its own parent or the parent of its ancestors."]}
        )


def _apply(member: Member, fields: dict[str, Any], domains: list[Domain] | None) -> None:
    """Copy the fields sent onto the member and recompute what is derived from them."""
    for name in _SCALAR_FIELDS:
        if name in fields:
            setattr(member, name, fields[name])
    if "parent_id" in fields:
        member.parent_id = fields["parent_id"]
    if domains is not None:
        member.domains = sorted(domains, key=lambda domain: domain.code)  # as loaded from the DB
    if not member.country:
        member.country = "FR"
    member.departement = departement_of(member.postal_code) if member.country == "FR" else None
    member.search_text = fold_all(member.name, member.legal_name, member.siren, member.city)
    member.sort_name = fold(member.name)


def _check_consistency(member: Member | None, fields: dict[str, Any]) -> None:
    """Rules on the record as it will be saved, whichever fields this request sent."""

    def final(name: str) -> Any:
        return fields[name] if name in fields else getattr(member, name, None)

    errors = identifier_mismatches(
        siren=final("siren"), siret=final("siret"), vat_number=final("vat_number")
    )
    postal_code = final("postal_code")
    if (final("country") or "FR") == "FR" and postal_code and not departement_of(postal_code):
        errors["postal_code"] = ["Not a French postal code for a member in France (FR)."]
    if errors:
        raise InvalidInput(errors)


def _prepare(
    session: Session, member: Member | None, fields: dict[str, Any]
) -> list[Domain] | None:
    """Every check, before the member is touched: a refused request leaves the session clean
    (and no autoflush runs midway).

    A new member's SIREN and external_id are left to the unique constraints (the 409 is built
    after the refused INSERT), so that the common case pays no lookups; a change to an
    existing member is checked first.
    """
    _check_consistency(member, fields)
    if member is not None:
        _refuse_duplicates(session, member, fields)
    if "parent_id" in fields:
        _check_parent(session, member, fields["parent_id"])
    return resolve_domains(session, fields["domains"]) if "domains" in fields else None


def create_member(session: Session, **fields: Unpack[MemberFields]) -> Member:
    """Register a member; SIREN and external_id must be new (409 naming the existing member)."""
    values = dict(fields)
    domains = _prepare(session, None, values)
    member = Member()
    _apply(member, values, domains or [])
    with translating(session, _conflicts(session, values)):
        insert_new(session, member)
        session.commit()
    # What the response embeds is already in memory (expire_on_commit is off; the parent was
    # loaded by its check): no reload. A new member has no contacts yet.
    set_committed_value(member, "contacts_count", 0)
    parent = session.get(Member, member.parent_id) if member.parent_id else None
    set_committed_value(member, "parent", parent)
    return member


def update_member(
    session: Session,
    *,
    member_id: uuid.UUID,
    changes: MemberFields,
    if_match: Collection[int] | None,
) -> Member:
    """Change the fields sent; ``domains``, when sent, replaces the member's domains.

    Without ``if_match`` the last write wins: a concurrent change is not an error.
    """
    return retry_on_version_conflict(
        lambda lock: _update_member(
            session, member_id=member_id, changes=changes, if_match=if_match, lock=lock
        ),
        if_match=if_match,
    )


def _update_member(
    session: Session,
    *,
    member_id: uuid.UUID,
    changes: MemberFields,
    if_match: Collection[int] | None,
    lock: bool,
) -> Member:
    if changes.get("parent_id") is not None:
        # Two parent changes can close a loop that neither check sees alone (A under B while B
        # goes under A): they take turns, so each check sees what the other committed. Row
        # locks cannot do it, as the rows to lock are the ancestors found by the walk itself.
        # Parent changes are rare, so one lock for all of them costs nothing. It is taken
        # before the member's row is read or locked, always in that order, so that it cannot
        # deadlock with a retry that holds the row.
        hold_transaction_lock(session, HIERARCHY_LOCK)
    member = get_member(session, member_id, lock=lock)
    check_version(member.version, if_match)
    values = dict(changes)
    domains = _prepare(session, member, values)
    domains_before = {domain.id for domain in member.domains}
    _apply(member, values, domains)
    domains_changed = {domain.id for domain in member.domains} != domains_before
    if domains_changed or session.is_modified(member, include_collections=False):
        # Bump the version (the ETag) and updated_at even when only the domains changed, so
        # that every change goes through the row's optimistic lock and incremental sync sees
        # it; a PATCH that changes nothing leaves both alone.
        member.updated_at = utcnow()
    commit(session, _conflicts(session, values))
    return get_member(session, member.id)


def upsert_member_by_external_id(
    session: Session,
    *,
    external_id: str,
    fields: MemberFields,
    if_match: Collection[int] | None = None,
) -> tuple[Member, bool]:
    """Create the member an importer knows as ``external_id``, or update the fields it sent.

    Returns the member and whether it was created.
    """
    external_id = external_id_from_path(external_id)
    existing_id = session.scalar(select(Member.id).where(Member.external_id == external_id))
    values: MemberFields = {**fields, "external_id": external_id}
    if existing_id is None:
        try:
            return create_member(session, **values), True
        except Conflict as exc:
            # Another request created it since the lookup: update it, as if it had been found.
            existing_id = session.scalar(select(Member.id).where(Member.external_id == external_id))
            if exc.field != "external_id" or existing_id is None:
                raise
    return update_member(session, member_id=existing_id, changes=values, if_match=if_match), False


def _set_archived(
    session: Session,
    *,
    member_id: uuid.UUID,
    archived: bool,
    reason: str | None,
    if_match: Collection[int] | None,
) -> Member:
    member = get_member(session, member_id)
    check_version(member.version, if_match)
    if archived:
        mark_archived(member, noun="member", reason=reason)
    else:
        mark_restored(member, noun="member", reason=reason)
    commit(session)
    return get_member(session, member.id)


def archive_member(
    session: Session, *, member_id: uuid.UUID, reason: str, if_match: Collection[int] | None
) -> Member:
    """Hide a member from lists while keeping its history; 409 if already archived."""
    return _set_archived(
        session, member_id=member_id, archived=True, reason=reason, if_match=if_match
    )


def restore_member(
    session: Session,
    *,
    member_id: uuid.UUID,
    reason: str | None = None,
    if_match: Collection[int] | None,
) -> Member:
    """Bring an archived member back into lists, noting when and why; 409 if not archived."""
    return _set_archived(
        session, member_id=member_id, archived=False, reason=reason, if_match=if_match
    )


def _attached_records(session: Session, member_id: uuid.UUID) -> list[str]:
    attached = []
    if session.scalar(select(Affiliation.id).where(Affiliation.member_id == member_id).limit(1)):
        attached.append("contact affiliations")
    if session.scalar(select(Member.id).where(Member.parent_id == member_id).limit(1)):
        attached.append("subsidiaries")
    return attached


def delete_member(
    session: Session, *, member_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Delete a member that nothing refers to; one with history must be archived instead."""
    member = get_member(session, member_id)
    check_version(member.version, if_match)
    attached = _attached_records(session, member_id)
    if attached:
        raise Conflict(
            f"The member has {' and '.join(attached)}; archive it instead of deleting it."
        )
    session.delete(member)
    try:
        commit(session)
    except IntegrityError as exc:
        # Another table (or a concurrent request) refers to the member: a foreign key refused.
        raise Conflict(
            "Other records refer to the member; archive it instead of deleting it."
        ) from exc
