"""Contacts: the people the cluster deals with. Personal data under the GDPR.

Nothing here logs: names, e-mails and phones must never reach the logs.
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, exists, select
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.sql.elements import ColumnElement

from models import Affiliation, Contact, Member
from models.types import utcnow
from services.archiving import mark_archived, mark_restored
from services.emails import canonical_email
from services.errors import Conflict, NotFound, PreconditionFailed
from services.filters import S, filter_archived, filter_words
from services.identifiers import external_id_from_path
from services.pagination import attribute_key, datetime_key
from services.text import fold_all, like_pattern
from services.transactions import check_version, commit, retry_on_version_conflict

CONTACTS_PATH = "/api/v1/contacts"
CONTACT_SORT_KEYS = {
    "last_name": attribute_key(Contact.sort_name),
    "created_at": datetime_key(Contact.created_at),
    "updated_at": datetime_key(Contact.updated_at),
}
EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phones",
    "preferred_language",
    "notes",
    "external_id",
)
_SORT_NAME_LENGTH = 200


def contact_ref(contact_id: uuid.UUID) -> dict[str, str]:
    """How a conflict points at an existing contact: its id and URL, no personal data."""
    return {"id": str(contact_id), "href": f"{CONTACTS_PATH}/{contact_id}"}


def _with_affiliations(member_id: uuid.UUID | None = None, *, page: bool = False) -> Any:
    """Load affiliations (and their member) in one query per page; only those with
    ``member_id`` when given.

    ``page``: a list shows each affiliation's member by id and name only, so only those are
    read (a member row is some thirty columns); a contact read for a write loads them whole.
    """
    affiliations: Any = Contact.affiliations
    if member_id is not None:
        affiliations = affiliations.and_(Affiliation.member_id == member_id)
    members = selectinload(affiliations).selectinload(Affiliation.member)
    return members.load_only(Member.id, Member.name) if page else members


# What a page of contacts shows or sorts on: not the search text nor the version.
_PAGE_COLUMNS = (defer(Contact.search_text), defer(Contact.version))


def _affiliation_filter(*, member_id: uuid.UUID | None, role: str | None) -> ColumnElement[bool]:
    """Contacts with one affiliation matching both ``member_id`` and ``role`` (when given).

    ``roles`` is a JSON list; searching its text for the quoted value works the same on
    SQLite and PostgreSQL and cannot match another value of the vocabulary.
    """
    criteria = [Affiliation.contact_id == Contact.id]
    if member_id is not None:
        criteria.append(Affiliation.member_id == member_id)
    if role is not None:
        criteria.append(cast(Affiliation.roles, Text).like(like_pattern(f'"{role}"'), escape="\\"))
    return exists().where(*criteria)


def list_contacts(
    *,
    q: str | None = None,
    member_id: uuid.UUID | None = None,
    role: str | None = None,
    archived: bool | None = False,
    updated_since: datetime | None = None,
    external_id: str | None = None,
) -> Select[tuple[Contact]]:
    """Contacts matching every filter, with their affiliations.

    ``archived``: False (default) active contacts only, True archived ones only, None both.

    ``q`` matches names and e-mail ignoring case and accents: each word must appear.
    """
    stmt = select(Contact).options(*_PAGE_COLUMNS, _with_affiliations(page=True))
    return filter_contacts(
        stmt,
        q=q,
        member_id=member_id,
        role=role,
        archived=archived,
        updated_since=updated_since,
        external_id=external_id,
    )


def filter_contacts(
    stmt: S,
    *,
    q: str | None = None,
    member_id: uuid.UUID | None = None,
    role: str | None = None,
    archived: bool | None = False,
    updated_since: datetime | None = None,
    external_id: str | None = None,
) -> S:
    """``stmt`` (of contacts, or of their columns) kept to contacts matching every filter."""
    stmt = filter_archived(stmt, Contact.archived_at, archived)
    stmt = filter_words(stmt, Contact.search_text, q)
    if member_id is not None or role is not None:
        stmt = stmt.where(_affiliation_filter(member_id=member_id, role=role))
    if updated_since is not None:
        stmt = stmt.where(Contact.updated_at >= updated_since)
    if external_id is not None:
        stmt = stmt.where(Contact.external_id == external_id)
    return stmt


def list_member_contacts(
    session: Session, *, member_id: uuid.UUID, **filters: Any
) -> Select[tuple[Contact]]:
    """A member's contacts, each loaded with its affiliation to that member only."""
    if session.get(Member, member_id) is None:
        raise NotFound("member", member_id)
    stmt = select(Contact).options(*_PAGE_COLUMNS, _with_affiliations(member_id, page=True))
    # The collections hold a subset of the affiliations: never reuse ones loaded before.
    stmt = stmt.execution_options(populate_existing=True)
    return filter_contacts(stmt, member_id=member_id, **filters)


def get_contact(session: Session, contact_id: uuid.UUID, *, lock: bool = False) -> Contact:
    """The contact with its affiliations; ``lock`` holds its row until the commit."""
    stmt = select(Contact).where(Contact.id == contact_id).options(_with_affiliations())
    if lock:
        stmt = stmt.with_for_update(of=Contact).execution_options(populate_existing=True)
    contact = session.scalar(stmt)
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


def _duplicate(session: Session, field: str, value: str | None) -> Conflict:
    if field == "email":
        column: Any = Contact.email
        criteria = [Contact.archived_at.is_(None)]
        detail = "An active contact already has this e-mail address."
    else:
        column, criteria = Contact.external_id, []
        detail = "A contact already has this external_id."
    existing = session.scalar(select(Contact.id).where(column == value, *criteria))
    return Conflict(detail, field=field, existing=contact_ref(existing) if existing else None)


def _check_unique(session: Session, contact: Contact) -> None:
    """Refuse a duplicate e-mail (among active contacts) or external_id before writing.

    The unique indexes still decide under concurrency; this only gives the better message.
    """
    others = [Contact.id != contact.id] if contact.id else []
    # Without autoflush: a new contact must not be written (and found) by its own check.
    with session.no_autoflush:
        if contact.email and contact.archived_at is None:
            taken = select(Contact.id).where(
                Contact.email == contact.email, Contact.archived_at.is_(None), *others
            )
            if session.scalar(taken) is not None:
                raise _duplicate(session, "email", contact.email)
        if contact.external_id:
            taken = select(Contact.id).where(Contact.external_id == contact.external_id, *others)
            if session.scalar(taken) is not None:
                raise _duplicate(session, "external_id", contact.external_id)


def _commit_contact(session: Session, contact: Contact) -> None:
    try:
        _check_unique(session, contact)
    except Conflict:
        session.rollback()  # leave nothing pending for a later flush of this session
        raise
    # Read now: after the rollback of a refused commit the record is expired or gone.
    email, external_id = contact.email, contact.external_id
    commit(
        session,
        {
            "uq_contacts_email": lambda: _duplicate(session, "email", email),
            "uq_contacts_external_id": lambda: _duplicate(session, "external_id", external_id),
        },
    )


def _assign(contact: Contact, values: Mapping[str, Any]) -> None:
    """Copy the editable fields and refresh the folded search and sort columns."""
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(contact, name, values[name])
    if "email" in values and contact.email is not None:
        # The unique index compares what is stored, so store the one normal form.
        contact.email = canonical_email(contact.email)
    if "phones" in values:
        contact.phones = [dict(phone) for phone in values["phones"]]
    contact.search_text = fold_all(contact.first_name, contact.last_name, contact.email)
    contact.sort_name = fold_all(contact.last_name, contact.first_name)[:_SORT_NAME_LENGTH]


def create_contact(session: Session, **values: Any) -> Contact:
    """Record a person; the e-mail is unique among active contacts, ``external_id`` overall."""
    contact = Contact(affiliations=[])
    _assign(contact, values)
    session.add(contact)
    _commit_contact(session, contact)
    return contact


def update_contact(
    session: Session,
    *,
    contact_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> Contact:
    """Change some fields of a contact (archived ones too); without ``if_match`` the last
    write wins."""

    def change(lock: bool) -> Contact:
        contact = get_contact(session, contact_id, lock=lock)
        check_version(contact.version, if_match)
        _assign(contact, changes)
        _commit_contact(session, contact)
        return contact

    return retry_on_version_conflict(change, if_match=if_match)


def upsert_contact(
    session: Session,
    *,
    external_id: str,
    values: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> tuple[Contact, bool]:
    """Create or replace the contact an importer knows by ``external_id``; True if created.

    Fields the importer leaves out take their defaults, as in a create. Without ``if_match``
    the last write wins.
    """
    external_id = external_id_from_path(external_id)

    def change(lock: bool) -> tuple[Contact, bool]:
        stmt = (
            select(Contact)
            .where(Contact.external_id == external_id)
            .options(_with_affiliations())
            .execution_options(populate_existing=True)
        )
        if lock:
            stmt = stmt.with_for_update(of=Contact)
        contact = session.scalar(stmt)
        created = contact is None
        if contact is None:
            if if_match is not None:
                raise PreconditionFailed("No contact has this external_id yet.")
            contact = Contact(affiliations=[])
            session.add(contact)
        else:
            check_version(contact.version, if_match)
        _assign(contact, {**values, "external_id": external_id})
        _commit_contact(session, contact)
        return contact, created

    try:
        return retry_on_version_conflict(change, if_match=if_match)
    except Conflict as exc:
        if exc.field != "external_id":
            raise
        # Another request created the contact since the lookup: this one updates it.
        return retry_on_version_conflict(change, if_match=if_match)


def archive_contact(
    session: Session,
    *,
    contact_id: uuid.UUID,
    reason: str | None,
    if_match: Collection[int] | None,
) -> Contact:
    """Hide a contact from lists and free its e-mail address, keeping its record; 409 if it is
    already archived (as for members)."""
    contact = get_contact(session, contact_id)
    check_version(contact.version, if_match)
    mark_archived(contact, noun="contact", reason=reason)
    _commit_contact(session, contact)
    return contact


def restore_contact(
    session: Session,
    *,
    contact_id: uuid.UUID,
    reason: str | None = None,
    if_match: Collection[int] | None,
) -> Contact:
    """Bring an archived contact back; 409 if it is not archived, or if an active contact took
    its e-mail since."""
    contact = get_contact(session, contact_id)
    check_version(contact.version, if_match)
    mark_restored(contact, noun="contact", reason=reason)
    _commit_contact(session, contact)
    return contact


def erase_contact(
    session: Session, *, contact_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Erase a person for good, with their affiliations (GDPR right to erasure)."""
    contact = get_contact(session, contact_id)
    check_version(contact.version, if_match)
    session.delete(contact)
    commit(session)


def touch_contact(contact: Contact) -> None:
    """Mark a contact changed when its affiliations change: they are part of its
    representation, so its ETag and ``updated_at`` (for incremental sync) must move."""
    contact.updated_at = utcnow()
