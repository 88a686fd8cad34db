"""A project's timeline (its transitions, submissions and linked interactions, newest first)
and the links between projects and interactions.

A project holds a few dozen items at most, so the page is merged in Python from what one read
of the project loads plus one query for its interactions: a fixed number of statements
whatever the page size. The keyset is the timeline's own (time, kind, id), with its cursor
format (``services/timeline``). Interactions appear only when the caller may see them.
Events are not linked yet: they join as one more kind when they exist.
"""

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Interaction, Project, ProjectInteraction
from models.types import utcnow
from services.errors import NotFound
from services.interactions import get_interaction, visible_to
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.principals import Actor
from services.projects import get_project
from services.timeline import TimelineItem, _decode_cursor, _encode_cursor
from services.transactions import commit

TRANSITION = "transition"
SUBMISSION = "submission"
INTERACTION = "interaction"
PROJECT_TIMELINE_KINDS = (TRANSITION, SUBMISSION, INTERACTION)


def link_interaction(
    session: Session, *, actor: Actor, project_id: uuid.UUID, interaction_id: uuid.UUID
) -> bool:
    """Link an interaction to the project; linking it again changes nothing. Returns whether
    the link is new. Both must be visible to ``actor`` (404 otherwise)."""
    project = get_project(session, actor=actor, project_id=project_id)
    get_interaction(session, actor=actor, interaction_id=interaction_id)
    links = _links(session, project)
    if interaction_id in {link.interaction_id for link in links}:
        return False
    project.interaction_links = [*links, ProjectInteraction(interaction_id=interaction_id)]
    project.updated_at = utcnow()
    commit(session)
    return True


def unlink_interaction(
    session: Session, *, actor: Actor, project_id: uuid.UUID, interaction_id: uuid.UUID
) -> None:
    """Remove the link (404 when there is none)."""
    project = get_project(session, actor=actor, project_id=project_id)
    links = _links(session, project)
    kept = [link for link in links if link.interaction_id != interaction_id]
    if len(kept) == len(links):
        raise NotFound("link to interaction", interaction_id)
    project.interaction_links = kept
    project.updated_at = utcnow()
    commit(session)


def _links(session: Session, project: Project) -> list[ProjectInteraction]:
    """The project's links, loaded into its collection (which the project's read leaves out,
    to keep that read cheap) so that the journal sees the change of the collection."""
    links = list(
        session.scalars(
            select(ProjectInteraction).where(ProjectInteraction.project_id == project.id)
        )
    )
    set_committed_value(project, "interaction_links", links)
    return links


def project_timeline(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    kinds: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """What happened in the project, newest first."""
    project = get_project(session, actor=actor, project_id=project_id)
    wanted = set(kinds or PROJECT_TIMELINE_KINDS)
    items: list[TimelineItem] = []
    href = f"/api/v1/projects/{project.id}"
    if TRANSITION in wanted:
        items += [
            TimelineItem(TRANSITION, t.at, t.id, f"{t.from_state} → {t.to_state} on {t.on}", href)
            for t in project.transitions
        ]
    if SUBMISSION in wanted:
        items += [
            TimelineItem(
                SUBMISSION,
                s.created_at,
                s.id,
                f"Submission to {s.programme}: {s.call_name}"[:200],
                f"{href}/submissions/{s.id}",
            )
            for s in project.submissions
        ]
    if INTERACTION in wanted:
        rows = session.execute(
            select(Interaction.id, Interaction.occurred_at, Interaction.subject)
            .join(ProjectInteraction, ProjectInteraction.interaction_id == Interaction.id)
            .where(ProjectInteraction.project_id == project.id, visible_to(actor))
        ).all()
        items += [
            TimelineItem(
                INTERACTION, row.occurred_at, row.id, row.subject, f"/api/v1/interactions/{row.id}"
            )
            for row in rows
        ]
    items = [item for item in items if _within(item, since, until)]
    items.sort(key=_key, reverse=True)
    if cursor:
        last = _decode_cursor(cursor, PROJECT_TIMELINE_KINDS)
        items = [item for item in items if _key(item) < (last[0], last[1], str(last[2]))]
    limit = max(1, min(limit, MAX_LIMIT))
    page = items[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(items) > limit else None
    return Page(items=page, next_cursor=next_cursor)


def _key(item: TimelineItem) -> tuple[Any, str, str]:
    return (item.at, item.kind, str(item.id))


def _within(item: TimelineItem, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or item.at >= since) and (until is None or item.at < until)
