"""Affiliations: a contact's positions at members, at most one of them primary.

Every write locks the contact's row first, so that concurrent changes to one contact's
affiliations run one after the other: making an affiliation primary then always sees (and
demotes) the primary another request has just set.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from models import Affiliation, Contact, Member
from services.contacts import get_contact, touch_contact
from services.errors import Conflict, InvalidInput, NotFound
from services.pagination import datetime_key
from services.transactions import check_version, commit

AFFILIATION_SORT_KEYS = {
    "created_at": datetime_key(Affiliation.created_at),
    "updated_at": datetime_key(Affiliation.updated_at),
}


def affiliation_ref(affiliation: Affiliation) -> dict[str, str]:
    """How a conflict points at an existing affiliation."""
    return {
        "id": str(affiliation.id),
        "href": f"/api/v1/contacts/{affiliation.contact_id}/affiliations/{affiliation.id}",
    }


def list_affiliations(
    session: Session, *, contact_id: uuid.UUID, updated_since: datetime | None = None
) -> Select[tuple[Affiliation]]:
    """A contact's affiliations (404 if the contact does not exist)."""
    if session.get(Contact, contact_id) is None:
        raise NotFound("contact", contact_id)
    stmt = (
        select(Affiliation)
        .where(Affiliation.contact_id == contact_id)
        .options(selectinload(Affiliation.member))
    )
    if updated_since is not None:
        stmt = stmt.where(Affiliation.updated_at >= updated_since)
    return stmt


def _find(contact: Contact, affiliation_id: uuid.UUID) -> Affiliation:
    """The contact's affiliation; one of another contact is not found here either."""
    for affiliation in contact.affiliations:
        if affiliation.id == affiliation_id:
            return affiliation
    raise NotFound("affiliation", affiliation_id)


def get_affiliation(
    session: Session, *, contact_id: uuid.UUID, affiliation_id: uuid.UUID
) -> Affiliation:
    return _find(get_contact(session, contact_id), affiliation_id)


def _active_member(session: Session, member_id: uuid.UUID) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise InvalidInput({"member_id": ["No member with this id."]})
    if member.archived_at is not None:
        raise InvalidInput({"member_id": ["This member is archived."]})
    return member


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput({"end_date": ["Must be on or after start_date."]})


def _unique_roles(roles: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(roles))


def _demote_other_primary(session: Session, contact: Contact, keep: Affiliation | None) -> None:
    """Make ``keep`` the only primary: the previous one is demoted in the same transaction.

    Flushed at once, so that the partial unique index never sees two primaries.
    """
    demoted = False
    for affiliation in contact.affiliations:
        if affiliation is not keep and affiliation.is_primary:
            affiliation.is_primary = False
            demoted = True
    if demoted:
        session.flush()


def _conflicts(session: Session, contact_id: uuid.UUID, member_id: uuid.UUID) -> dict[str, Any]:
    def duplicate() -> Conflict:
        existing = session.scalar(
            select(Affiliation).where(
                Affiliation.contact_id == contact_id, Affiliation.member_id == member_id
            )
        )
        return Conflict(
            "The contact is already affiliated with this member.",
            field="member_id",
            existing=affiliation_ref(existing) if existing else None,
        )

    return {
        "uq_affiliations_contact_id_member_id": duplicate,
        "uq_affiliations_contact_id": lambda: Conflict(
            "Another primary affiliation was set at the same time; try again.",
            field="is_primary",
        ),
    }


def create_affiliation(
    session: Session,
    *,
    contact_id: uuid.UUID,
    member_id: uuid.UUID,
    job_title: str | None = None,
    roles: Sequence[str] = (),
    start_date: date | None = None,
    end_date: date | None = None,
    is_primary: bool = False,
) -> Affiliation:
    """Affiliate a contact with an active member, once per member.

    A new primary affiliation demotes the contact's previous primary.
    """
    contact = get_contact(session, contact_id, lock=True)
    member = _active_member(session, member_id)
    _check_period(start_date, end_date)
    for affiliation in contact.affiliations:
        if affiliation.member_id == member_id:
            raise Conflict(
                "The contact is already affiliated with this member.",
                field="member_id",
                existing=affiliation_ref(affiliation),
            )
    if is_primary:
        _demote_other_primary(session, contact, keep=None)
    affiliation = Affiliation(
        contact=contact,
        member=member,
        job_title=job_title,
        roles=_unique_roles(roles),
        start_date=start_date,
        end_date=end_date,
        is_primary=is_primary,
    )
    session.add(affiliation)
    touch_contact(contact)
    commit(session, _conflicts(session, contact_id, member_id))
    return affiliation


def update_affiliation(
    session: Session,
    *,
    contact_id: uuid.UUID,
    affiliation_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> Affiliation:
    """Change an affiliation; making it primary demotes the contact's previous primary."""
    contact = get_contact(session, contact_id, lock=True)
    affiliation = _find(contact, affiliation_id)
    check_version(affiliation.version, if_match)
    _check_period(
        changes.get("start_date", affiliation.start_date),
        changes.get("end_date", affiliation.end_date),
    )
    for name in ("job_title", "start_date", "end_date"):
        if name in changes:
            setattr(affiliation, name, changes[name])
    if "roles" in changes:
        affiliation.roles = _unique_roles(changes["roles"])
    if changes.get("is_primary") is True:
        _demote_other_primary(session, contact, keep=affiliation)
    if "is_primary" in changes:
        affiliation.is_primary = changes["is_primary"]
    if session.is_modified(affiliation):
        touch_contact(contact)
    commit(session, _conflicts(session, contact_id, affiliation.member_id))
    return affiliation


def delete_affiliation(
    session: Session,
    *,
    contact_id: uuid.UUID,
    affiliation_id: uuid.UUID,
    if_match: Collection[int] | None,
) -> None:
    """Remove an affiliation entered by mistake (one that ended keeps its dates instead)."""
    contact = get_contact(session, contact_id, lock=True)
    affiliation = _find(contact, affiliation_id)
    check_version(affiliation.version, if_match)
    contact.affiliations.remove(affiliation)
    touch_contact(contact)
    commit(session)
