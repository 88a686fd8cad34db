"""The consortium of a project: members and outside organisations, their roles and budgets.

Rules held here: a partner is a member (its category copied from the member, then frozen) or an
outside organisation named with its category; a member takes part once per project; a project
has at most one coordinator (a partial unique index decides under concurrency), and the
eligibility check asks for exactly one. Every function starts from the project as the acting
user may see it, so a confidential project's partners are 404 to anyone outside its team.
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import JournalEntry, Member, PartnerRole, Project, ProjectPartner
from services.errors import Conflict, InvalidInput, NotFound
from services.journal import JournalSpec, register
from services.pagination import datetime_key
from services.principals import Actor
from services.projects import get_project, project_entries_visible_to
from services.transactions import check_version, commit

PARTNER_SORT_KEYS = {"created_at": datetime_key(ProjectPartner.created_at)}
_FIELDS = (
    "member_id", "organisation_name", "siren", "role", "category", "budget_cents",
    "aid_requested_cents", "aid_obtained_cents", "aid_form",
)  # fmt: skip

register(
    ProjectPartner,
    JournalSpec(
        "project_partner",
        "projects:read",
        owner=("project", "project_id"),
        visible=lambda reader: project_entries_visible_to(
            reader,
            ProjectPartner.id == JournalEntry.resource_id,
            ProjectPartner.project_id == Project.id,
        ),
    ),
)


def _conflicts() -> dict[str, Any]:
    coordinator = lambda: Conflict(  # noqa: E731
        "The project already has a coordinator.", field="role"
    )
    member = lambda: Conflict(  # noqa: E731
        "This member is already a partner of the project.", field="member_id"
    )
    return {
        "uq_project_partners_coordinator": coordinator,
        # SQLite names the columns of a partial index, not the index.
        "uq_project_partners_project_id": coordinator,
        "uq_project_partners_project_id_member_id": member,
    }


def list_partners(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    updated_since: datetime | None = None,
) -> Select[Any]:
    """The project's partners, in the order they joined (404 for a hidden project)."""
    get_project(session, actor=actor, project_id=project_id)
    stmt = select(ProjectPartner).where(ProjectPartner.project_id == project_id)
    if updated_since is not None:
        stmt = stmt.where(ProjectPartner.updated_at >= updated_since)
    return stmt


def get_partner(
    session: Session, *, actor: Actor, project_id: uuid.UUID, partner_id: uuid.UUID
) -> ProjectPartner:
    get_project(session, actor=actor, project_id=project_id)
    partner = session.scalar(
        select(ProjectPartner).where(
            ProjectPartner.id == partner_id, ProjectPartner.project_id == project_id
        )
    )
    if partner is None:
        raise NotFound("partner", partner_id)
    return partner


def _check_coordinator(
    session: Session, project_id: uuid.UUID, role: str | None, partner_id: uuid.UUID | None
) -> None:
    if role != PartnerRole.COORDINATOR:
        return
    stmt = select(ProjectPartner.id).where(
        ProjectPartner.project_id == project_id,
        ProjectPartner.role == PartnerRole.COORDINATOR.value,
    )
    if partner_id is not None:
        stmt = stmt.where(ProjectPartner.id != partner_id)
    if session.scalar(stmt) is not None:
        raise Conflict("The project already has a coordinator.", field="role")


def add_partner(
    session: Session, *, actor: Actor, project_id: uuid.UUID, **fields: Any
) -> ProjectPartner:
    """Add a member or an outside organisation to the consortium."""
    get_project(session, actor=actor, project_id=project_id)
    values = dict(fields)
    member_id = values.get("member_id")
    if member_id is not None:
        member = session.get(Member, member_id)
        if member is None:
            raise InvalidInput({"member_id": [f"No member with id {member_id}."]})
        values.setdefault("category", member.category)
        values.setdefault("siren", member.siren)
        if session.scalar(
            select(ProjectPartner.id).where(
                ProjectPartner.project_id == project_id, ProjectPartner.member_id == member_id
            )
        ):
            raise Conflict("This member is already a partner of the project.", field="member_id")
    _check_coordinator(session, project_id, values.get("role"), None)
    partner = ProjectPartner(project_id=project_id)
    for name in _FIELDS:
        if name in values:
            setattr(partner, name, values[name])
    session.add(partner)
    commit(session, _conflicts())
    return partner


def update_partner(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    partner_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> ProjectPartner:
    """Change the fields sent (a member partner keeps its member)."""
    partner = get_partner(session, actor=actor, project_id=project_id, partner_id=partner_id)
    check_version(partner.version, if_match)
    if partner.member_id is not None and changes.get("organisation_name") is not None:
        raise InvalidInput({"organisation_name": ["A member partner is named by its member."]})
    if (
        partner.member_id is None
        and "organisation_name" in changes
        and not changes["organisation_name"]
    ):
        raise InvalidInput({"organisation_name": ["An outside organisation needs a name."]})
    _check_coordinator(session, project_id, changes.get("role"), partner.id)
    for name in _FIELDS:
        if name in changes:
            setattr(partner, name, changes[name])
    commit(session, _conflicts())
    return partner


def remove_partner(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    partner_id: uuid.UUID,
    if_match: Collection[int] | None,
) -> None:
    """Take a partner out of the consortium."""
    partner = get_partner(session, actor=actor, project_id=project_id, partner_id=partner_id)
    check_version(partner.version, if_match)
    session.delete(partner)
    commit(session)
