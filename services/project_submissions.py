"""A project's submissions to funding calls, each with its own label decision.

The cluster's label is granted for one submission, never for the project in general. The
decision is taken once (409 afterwards): the submission row is locked while it is recorded, so
of two staff users deciding at once, one wins and the other is told it is already decided (or
412 when it sent an ``If-Match`` that no longer holds).
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import JournalEntry, LabelDecision, Project, ProjectSubmission
from services.errors import Conflict, NotFound
from services.journal import JournalSpec, record_action, register
from services.pagination import datetime_key
from services.principals import Actor
from services.projects import get_project, project_entries_visible_to
from services.transactions import check_version, commit

SUBMISSION_SORT_KEYS = {"created_at": datetime_key(ProjectSubmission.created_at)}
_FIELDS = (
    "programme", "call_name", "deadline", "submitted_on", "decision_date", "requested_cents",
    "obtained_cents", "outcome",
)  # fmt: skip

register(
    ProjectSubmission,
    JournalSpec(
        "project_submission",
        "projects:read",
        owner=("project", "project_id"),
        visible=lambda reader: project_entries_visible_to(
            reader,
            ProjectSubmission.id == JournalEntry.resource_id,
            ProjectSubmission.project_id == Project.id,
        ),
    ),
)


def list_submissions(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    updated_since: datetime | None = None,
) -> Select[Any]:
    """The project's submissions, oldest first (404 for a hidden project)."""
    get_project(session, actor=actor, project_id=project_id)
    stmt = select(ProjectSubmission).where(ProjectSubmission.project_id == project_id)
    if updated_since is not None:
        stmt = stmt.where(ProjectSubmission.updated_at >= updated_since)
    return stmt


def get_submission(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    submission_id: uuid.UUID,
    lock: bool = False,
) -> ProjectSubmission:
    get_project(session, actor=actor, project_id=project_id)
    stmt = select(ProjectSubmission).where(
        ProjectSubmission.id == submission_id, ProjectSubmission.project_id == project_id
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    submission = session.scalar(stmt)
    if submission is None:
        raise NotFound("submission", submission_id)
    return submission


def create_submission(
    session: Session, *, actor: Actor, project_id: uuid.UUID, **fields: Any
) -> ProjectSubmission:
    """Record a submission (its label decision pending)."""
    get_project(session, actor=actor, project_id=project_id)
    submission = ProjectSubmission(
        project_id=project_id, label_decision=LabelDecision.PENDING.value
    )
    for name in _FIELDS:
        if name in fields:
            setattr(submission, name, fields[name])
    session.add(submission)
    commit(session)
    return submission


def update_submission(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    submission_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> ProjectSubmission:
    """Change the fields sent (the label decision has its own action)."""
    submission = get_submission(
        session, actor=actor, project_id=project_id, submission_id=submission_id
    )
    check_version(submission.version, if_match)
    for name in _FIELDS:
        if name in changes:
            setattr(submission, name, changes[name])
    commit(session)
    return submission


def delete_submission(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    submission_id: uuid.UUID,
    if_match: Collection[int] | None,
) -> None:
    """Delete a submission recorded by mistake; one with a label decision is kept (409)."""
    submission = get_submission(
        session, actor=actor, project_id=project_id, submission_id=submission_id
    )
    check_version(submission.version, if_match)
    if submission.label_decision != LabelDecision.PENDING:
        raise Conflict("A submission with a label decision is kept.", field="label_decision")
    session.delete(submission)
    commit(session)


def label_submission(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    submission_id: uuid.UUID,
    decision: str,
    on: date | None = None,
    note: str | None = None,
    if_match: Collection[int] | None,
) -> ProjectSubmission:
    """Record the cluster's label decision on this submission, once."""
    submission = get_submission(
        session, actor=actor, project_id=project_id, submission_id=submission_id, lock=True
    )
    check_version(submission.version, if_match)
    if submission.label_decision != LabelDecision.PENDING:
        raise Conflict(
            f"The label of this submission is already decided ({submission.label_decision}).",
            field="decision",
        )
    submission.label_decision = decision
    submission.label_decided_on = on or date.today()
    submission.label_decided_by_id = actor.id
    submission.label_note = note
    record_action(session, submission, "labelled")
    commit(session)
    return submission
