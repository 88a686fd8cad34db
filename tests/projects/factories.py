"""Factories for projects: they add and flush, never commit."""

import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from models import Domain, Member, Project, ProjectPartner, ProjectStaff, ProjectSubmission, User
from services.text import fold_all

_sequence = itertools.count(1)


def make_project(
    session: Session,
    *,
    follower: User,
    team: tuple[User, ...] = (),
    acronym: str | None = None,
    title: str | None = None,
    state: str = "idea",
    domains: tuple[Domain, ...] = (),
    **fields: Any,
) -> Project:
    number = next(_sequence)
    acronym = acronym or f"PRJ{number}"
    title = title or f"Project number {number}"
    project = Project(
        acronym=acronym,
        title=title,
        follower_id=follower.id,
        state=state,
        state_since=fields.pop("state_since", date(2026, 1, 1)),
        search_text=fold_all(acronym, title),
        team=[ProjectStaff(user_id=user.id) for user in team],
        domains=list(domains),
        **fields,
    )
    session.add(project)
    session.flush()
    return project


def make_partner(
    session: Session,
    project: Project,
    *,
    member: Member | None = None,
    role: str = "partner",
    category: str | None = None,
    **fields: Any,
) -> ProjectPartner:
    partner = ProjectPartner(
        project_id=project.id,
        member_id=member.id if member else None,
        organisation_name=None if member else fields.pop("organisation_name", "Outside Org"),
        role=role,
        category=category or (member.category if member else "sme"),
        **fields,
    )
    session.add(partner)
    session.flush()
    return partner


def make_submission(session: Session, project: Project, **fields: Any) -> ProjectSubmission:
    fields.setdefault("programme", "pspc_regions")
    fields.setdefault("call_name", "PSPC-Régions vague 1")
    submission = ProjectSubmission(project_id=project.id, **fields)
    session.add(submission)
    session.flush()
    return submission
