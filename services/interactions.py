"""Interactions: the touchpoints and services cluster staff record with members and contacts.

Rules held here: an interaction has exactly one owner, an active staff user (the acting user
unless another is named), and links at least one member or contact; ``external_id`` is unique (the
constraint decides under concurrency). A confidential interaction exists only for its owner,
the staff users taking part and admins: for anyone else every function here answers
``NotFound`` or leaves it out, counts included.
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select, true
from sqlalchemy.orm import Session, selectinload

from models import (
    Contact,
    Interaction,
    InteractionContact,
    InteractionMember,
    InteractionParticipant,
    JournalEntry,
    Member,
    User,
)
from models.types import utcnow
from services.archiving import mark_archived, mark_restored
from services.errors import Conflict, InvalidInput, NotFound
from services.filters import filter_archived, filter_words
from services.identifiers import external_id_from_path
from services.journal import JournalSpec, record_history, register
from services.pagination import Page, datetime_key
from services.principals import Actor
from services.roles import Role
from services.text import fold_all
from services.transactions import check_version, commit, retry_on_version_conflict

INTERACTIONS_PATH = "/api/v1/interactions"
INTERACTION_SORT_KEYS = {
    "occurred_at": datetime_key(Interaction.occurred_at),
    "created_at": datetime_key(Interaction.created_at),
    "updated_at": datetime_key(Interaction.updated_at),
}
_SCALAR_FIELDS = (
    "kind", "type", "channel", "subject", "notes", "outcome", "minutes_spent", "occurred_at",
    "owner_id", "confidential", "external_id", "source", "follow_up_due", "follow_up_assignee_id",
)  # fmt: skip
_LOADER_OPTIONS = (
    selectinload(Interaction.members),
    selectinload(Interaction.contacts),
    selectinload(Interaction.participants),
)


def interaction_href(interaction_id: uuid.UUID) -> str:
    return f"{INTERACTIONS_PATH}/{interaction_id}"


def visible_to(actor: User | Actor) -> ColumnElement[bool]:
    """Interactions ``actor`` may know of: every one for an admin; otherwise those not
    confidential, those they own and those they take part in."""
    return visibility(admin=actor.role == Role.ADMIN, user_id=actor.id)


def visibility(*, admin: bool, user_id: Any) -> ColumnElement[bool]:
    """``visible_to`` for a user given by id, a value or a bound parameter (statements built
    once per process take the user as a parameter)."""
    if admin:
        return true()
    takes_part = exists().where(
        InteractionParticipant.interaction_id == Interaction.id,
        InteractionParticipant.user_id == user_id,
    )
    return or_(Interaction.confidential.is_(False), Interaction.owner_id == user_id, takes_part)


def _entries_visible_to(reader: User | Actor) -> ColumnElement[bool]:
    """The journal entries of interactions ``reader`` may see now: those of interactions
    visible to them. A deleted interaction's entries are left to admins, as nothing tells any
    more whether it was confidential."""
    if reader.role == Role.ADMIN:
        return true()
    return exists().where(Interaction.id == JournalEntry.resource_id, visible_to(reader))


register(
    Interaction,
    JournalSpec(
        "interaction",
        "interactions:read",
        exclude=frozenset({"search_text"}),
        collections={
            "members": lambda link: f"{link.member_id}:{link.role}",
            "contacts": lambda link: f"{link.contact_id}:{link.role}",
            "participants": lambda participant: str(participant.user_id),
        },
        archivable=True,
        visible=_entries_visible_to,
    ),
)


def _takes_part(user_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(
        Interaction.owner_id == user_id,
        exists().where(
            InteractionParticipant.interaction_id == Interaction.id,
            InteractionParticipant.user_id == user_id,
        ),
    )


def list_interactions(
    *,
    actor: User,
    q: str | None = None,
    member_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    participant_id: uuid.UUID | None = None,
    type: str | None = None,  # noqa: A002 - the API's name for the field
    kind: str | None = None,
    occurred_after: datetime | None = None,
    occurred_before: datetime | None = None,
    external_id: str | None = None,
    assignee: str | None = None,
    follow_up: str | None = None,
    due_before: date | None = None,
    archived: bool | None = False,
    updated_since: datetime | None = None,
) -> Select[tuple[Interaction]]:
    """Interactions ``actor`` may see that match every filter, with their links.

    ``assignee="me"`` is the acting user; ``follow_up="open"`` keeps follow-ups (a due date or
    an assignee) not done yet, so ``assignee=me&follow_up=open`` is a to-do list.
    """
    stmt = select(Interaction).options(*_LOADER_OPTIONS).where(visible_to(actor))
    stmt = filter_archived(stmt, Interaction.archived_at, archived)
    if member_id is not None:
        stmt = stmt.where(
            exists().where(
                InteractionMember.interaction_id == Interaction.id,
                InteractionMember.member_id == member_id,
            )
        )
    if contact_id is not None:
        stmt = stmt.where(
            exists().where(
                InteractionContact.interaction_id == Interaction.id,
                InteractionContact.contact_id == contact_id,
            )
        )
    if owner_id is not None:
        stmt = stmt.where(Interaction.owner_id == owner_id)
    if participant_id is not None:
        stmt = stmt.where(_takes_part(participant_id))
    if type is not None:
        stmt = stmt.where(Interaction.type == type)
    if kind is not None:
        stmt = stmt.where(Interaction.kind == kind)
    if occurred_after is not None:
        stmt = stmt.where(Interaction.occurred_at >= occurred_after)
    if occurred_before is not None:
        stmt = stmt.where(Interaction.occurred_at < occurred_before)
    if external_id is not None:
        stmt = stmt.where(Interaction.external_id == external_id)
    if assignee is not None:
        assignee_id = actor.id if assignee == "me" else uuid.UUID(assignee)
        stmt = stmt.where(Interaction.follow_up_assignee_id == assignee_id)
    if follow_up is not None:
        has_follow_up = or_(
            Interaction.follow_up_due.is_not(None), Interaction.follow_up_assignee_id.is_not(None)
        )
        done = Interaction.follow_up_done.is_(follow_up == "done")
        stmt = stmt.where(
            has_follow_up, done if follow_up == "done" else ~Interaction.follow_up_done
        )
    if due_before is not None:
        stmt = stmt.where(Interaction.follow_up_due < due_before)
    if updated_since is not None:
        stmt = stmt.where(Interaction.updated_at >= updated_since)
    return filter_words(stmt, Interaction.search_text, q)


def get_interaction(
    session: Session, *, actor: User, interaction_id: uuid.UUID, lock: bool = False
) -> Interaction:
    """The interaction with its links; ``NotFound`` when it does not exist or is confidential
    and ``actor`` may not see it (the same answer, so that its existence does not leak).
    ``lock`` holds its row until the commit."""
    stmt = (
        select(Interaction)
        .where(Interaction.id == interaction_id, visible_to(actor))
        .options(*_LOADER_OPTIONS)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=Interaction)
    interaction = session.scalar(stmt)
    if interaction is None:
        raise NotFound("interaction", interaction_id)
    return interaction


def _check_users(session: Session, fields: Mapping[str, Any]) -> None:
    """Owner, participants and assignee must be active staff users (or admins): viewers only
    read."""
    wanted: dict[str, list[uuid.UUID]] = {}
    for name in ("owner_id", "follow_up_assignee_id"):
        if fields.get(name) is not None:
            wanted[name] = [fields[name]]
    if fields.get("participant_ids"):
        wanted["participant_ids"] = list(fields["participant_ids"])
    ids = {user_id for values in wanted.values() for user_id in values}
    if not ids:
        return
    staff = set(
        session.scalars(
            select(User.id).where(
                User.id.in_(ids), User.is_active, User.role.in_((Role.STAFF, Role.ADMIN))
            )
        )
    )
    errors = {
        name: [
            f"No active staff user with id {user_id}." for user_id in values if user_id not in staff
        ]
        for name, values in wanted.items()
    }
    errors = {name: messages for name, messages in errors.items() if messages}
    if errors:
        raise InvalidInput(errors)


def _check_links(session: Session, fields: Mapping[str, Any]) -> None:
    """Linked members and contacts must exist (archived ones may still be linked: history)."""
    errors: dict[str, list[str]] = {}
    for name, model, key in (("members", Member, "member_id"), ("contacts", Contact, "contact_id")):
        ids = {link[key] for link in fields.get(name) or ()}
        if not ids:
            continue
        found = set(session.scalars(select(model.id).where(model.id.in_(ids))))
        missing = sorted(str(value) for value in ids - found)
        if missing:
            errors[name] = [f"No {key.removesuffix('_id')} with id {value}." for value in missing]
    if errors:
        raise InvalidInput(errors)


def _duplicate(session: Session, actor: User, external_id: str | None) -> Conflict:
    """The 409 of a taken external_id; it points at the holder only if ``actor`` may see it,
    so that a confidential interaction is not revealed through its external_id."""
    existing = session.scalar(
        select(Interaction.id).where(Interaction.external_id == external_id, visible_to(actor))
    )
    ref = {"id": str(existing), "href": interaction_href(existing)} if existing else None
    return Conflict(
        "An interaction already has this external_id.", field="external_id", existing=ref
    )


def _apply(interaction: Interaction, fields: Mapping[str, Any]) -> None:
    for name in _SCALAR_FIELDS:
        if name in fields:
            setattr(interaction, name, fields[name])
    if "members" in fields:
        interaction.members = [
            InteractionMember(member_id=link["member_id"], role=link["role"])
            for link in fields["members"]
        ]
    if "contacts" in fields:
        interaction.contacts = [
            InteractionContact(contact_id=link["contact_id"], role=link["role"])
            for link in fields["contacts"]
        ]
    if "participant_ids" in fields:
        interaction.participants = [
            InteractionParticipant(user_id=user_id)
            for user_id in fields["participant_ids"]
            if user_id != interaction.owner_id  # the owner takes part as the owner
        ]
    if "follow_up_done" in fields and fields["follow_up_done"] != interaction.follow_up_done:
        interaction.follow_up_done = fields["follow_up_done"]
        interaction.follow_up_done_at = utcnow() if fields["follow_up_done"] else None
    interaction.search_text = fold_all(interaction.subject, interaction.notes)


def _save(session: Session, actor: User, external_id: str | None) -> None:
    commit(
        session, {"uq_interactions_external_id": lambda: _duplicate(session, actor, external_id)}
    )


def create_interaction(session: Session, *, actor: User, **fields: Any) -> Interaction:
    """Record an interaction owned by ``owner_id`` (default: the acting user)."""
    values = {"owner_id": actor.id, **fields}
    if values["owner_id"] is None:
        values["owner_id"] = actor.id
    _check_users(session, values)
    _check_links(session, values)
    interaction = Interaction(members=[], contacts=[], participants=[], follow_up_done=False)
    _apply(interaction, values)
    session.add(interaction)
    _save(session, actor, values.get("external_id"))
    return interaction


def update_interaction(
    session: Session,
    *,
    actor: User,
    interaction_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> Interaction:
    """Change the fields sent; links and participants sent replace the previous ones.

    Without ``if_match`` the last write wins: a concurrent change is not an error.
    """
    return retry_on_version_conflict(
        lambda lock: _update_interaction(
            session,
            actor=actor,
            interaction_id=interaction_id,
            changes=changes,
            if_match=if_match,
            lock=lock,
        ),
        if_match=if_match,
    )


def _update_interaction(
    session: Session,
    *,
    actor: User,
    interaction_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
    lock: bool,
) -> Interaction:
    interaction = get_interaction(session, actor=actor, interaction_id=interaction_id, lock=lock)
    check_version(interaction.version, if_match)
    values = dict(changes)
    if values.get("owner_id", True) is None:
        raise InvalidInput({"owner_id": ["An interaction always has an owner."]})
    _check_users(session, values)
    _check_links(session, values)
    members = values.get("members", interaction.members)
    contacts = values.get("contacts", interaction.contacts)
    if not members and not contacts:
        raise InvalidInput({"members": ["Link the interaction to at least one member or contact."]})
    if "owner_id" in values and "participant_ids" not in values:
        # A new owner who took part already is now the owner only.
        values["participant_ids"] = [p.user_id for p in interaction.participants]
    with session.no_autoflush:
        _apply(interaction, values)
    if session.is_modified(interaction, include_collections=True):
        interaction.updated_at = utcnow()  # moves the version (ETag) when only links change
    _save(session, actor, interaction.external_id)
    return get_interaction(session, actor=actor, interaction_id=interaction.id)


def upsert_interaction_by_external_id(
    session: Session,
    *,
    actor: User,
    external_id: str,
    fields: Mapping[str, Any],
    if_match: Collection[int] | None = None,
) -> tuple[Interaction, bool]:
    """Create the interaction an importer knows as ``external_id``, or change the fields it
    sent; True if created.

    An external_id held by a confidential interaction ``actor`` may not see is a 409 that
    does not point at it, as for a creation: the interaction is neither shown nor changed.
    """
    external_id = external_id_from_path(external_id)
    holder = select(Interaction.id).where(Interaction.external_id == external_id)
    existing_id = session.scalar(holder)
    if existing_id is None:
        if not fields.get("members") and not fields.get("contacts"):
            raise InvalidInput(
                {"members": ["Link the interaction to at least one member or contact."]}
            )
        try:
            values = {**fields, "external_id": external_id}
            return create_interaction(session, actor=actor, **values), True
        except Conflict as exc:
            # Another request created it since the lookup: update it, as if it had been found.
            existing_id = session.scalar(holder)
            if exc.field != "external_id" or existing_id is None:
                raise
    if session.scalar(holder.where(visible_to(actor))) is None:
        raise _duplicate(session, actor, external_id)
    interaction = update_interaction(
        session, actor=actor, interaction_id=existing_id, changes=fields, if_match=if_match
    )
    return interaction, False


def interaction_history(
    session: Session,
    *,
    actor: User,
    interaction_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """An interaction's journal entries, newest first; 404 as for a read when ``actor`` may
    not see it."""
    get_interaction(session, actor=actor, interaction_id=interaction_id)
    return record_history(
        session, model=Interaction, record_id=interaction_id, limit=limit, cursor=cursor
    )


def _set_archived(
    session: Session,
    *,
    actor: User,
    interaction_id: uuid.UUID,
    archived: bool,
    reason: str | None,
    if_match: Collection[int] | None,
) -> Interaction:
    interaction = get_interaction(session, actor=actor, interaction_id=interaction_id)
    check_version(interaction.version, if_match)
    if archived:
        mark_archived(interaction, noun="interaction", reason=reason)
    else:
        mark_restored(interaction, noun="interaction", reason=reason)
    commit(session)
    return interaction


def archive_interaction(
    session: Session,
    *,
    actor: User,
    interaction_id: uuid.UUID,
    reason: str | None,
    if_match: Collection[int] | None,
) -> Interaction:
    """Hide an interaction from lists, keeping it; 409 if it is already archived."""
    return _set_archived(
        session,
        actor=actor,
        interaction_id=interaction_id,
        archived=True,
        reason=reason,
        if_match=if_match,
    )


def restore_interaction(
    session: Session,
    *,
    actor: User,
    interaction_id: uuid.UUID,
    reason: str | None = None,
    if_match: Collection[int] | None,
) -> Interaction:
    """Bring an archived interaction back into lists; 409 if it is not archived."""
    return _set_archived(
        session,
        actor=actor,
        interaction_id=interaction_id,
        archived=False,
        reason=reason,
        if_match=if_match,
    )


def delete_interaction(
    session: Session, *, actor: User, interaction_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Delete an interaction recorded by mistake, with its links."""
    interaction = get_interaction(session, actor=actor, interaction_id=interaction_id)
    check_version(interaction.version, if_match)
    session.delete(interaction)
    commit(session)
