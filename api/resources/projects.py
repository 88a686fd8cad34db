"""Collaborative R&D projects: the record, its lifecycle, consortium, submissions and history.

Every route answers 404 for a confidential project the caller may not see, exactly as for one
that does not exist: the services filter by the acting user.
"""

import uuid
from functools import partial
from typing import Any

from flask.views import MethodView

from api.auth import current_actor, granted_scopes
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import page_response, paginate
from api.responses import Headers, created, with_etag
from models import Project, ProjectPartner, ProjectSubmission
from schemas.interactions import TimelinePage
from schemas.journal import HistoryPage, HistoryQuery
from schemas.projects import (
    EligibilityQuery,
    EligibilityReport,
    LabelCreate,
    PartnerCreate,
    PartnerOut,
    PartnerPage,
    PartnerPatch,
    PartnerQuery,
    ProjectCreate,
    ProjectOut,
    ProjectPage,
    ProjectPatch,
    ProjectQuery,
    ProjectTimelineQuery,
    ProjectUpsert,
    SubmissionCreate,
    SubmissionOut,
    SubmissionPage,
    SubmissionPatch,
    SubmissionQuery,
    TransitionCreate,
)
from services.project_eligibility import Eligibility, check_eligibility
from services.project_partners import (
    PARTNER_SORT_KEYS,
    add_partner,
    get_partner,
    list_partners,
    remove_partner,
    update_partner,
)
from services.project_submissions import (
    SUBMISSION_SORT_KEYS,
    create_submission,
    delete_submission,
    get_submission,
    label_submission,
    list_submissions,
    update_submission,
)
from services.project_timeline import link_interaction, project_timeline, unlink_interaction
from services.projects import (
    LABEL_SCOPE,
    ProjectView,
    create_project,
    delete_project,
    page_projects,
    project_history,
    read_project,
    transition_project,
    update_project,
    upsert_project_by_external_id,
)

blp = Blueprint(
    "projects",
    __name__,
    url_prefix="/api/v1/projects",
    description="Collaborative R&D projects: consortium, label, funding calls and results.",
)


def _created(project: Project) -> tuple[Project, int, Headers]:
    return created(project, "projects.ProjectById", project_id=project.id)


@blp.route("")
class Projects(MethodView):
    @blp.auth("projects:read")
    @blp.arguments(ProjectQuery(), location="query", as_kwargs=True)
    @blp.page_response(ProjectPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List projects

        Newest first by default. `q` searches acronym and title, ignoring case and accents.
        Confidential projects appear only to their follower, their team and admins, and
        `total` counts only what the caller may see.
        """
        return page_response(page_projects(db.session, actor=current_actor(), **query))

    @blp.auth("projects:write")
    @blp.arguments(ProjectCreate())
    @blp.created_response(ProjectOut)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Project, int, Headers]:
        """Create a project

        It starts in state `idea`, followed by you unless `follower_id` names another staff
        user. Unknown domains, or a follower or team member who is not an active staff user,
        are 422; a taken `external_id` is 409.
        """
        return _created(create_project(db.session, actor=current_actor(), **body))


@blp.route("/<uuid:project_id>")
class ProjectById(MethodView):
    @blp.auth("projects:read")
    @blp.record_response(ProjectOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID) -> tuple[ProjectView, Headers]:
        """Get a project with its partners, submissions and lifecycle"""
        return with_etag(read_project(db.session, actor=current_actor(), project_id=project_id))

    @blp.auth("projects:write")
    @blp.if_match
    @blp.arguments(ProjectPatch())
    @blp.record_response(ProjectOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], project_id: uuid.UUID) -> tuple[Project, Headers]:
        """Update a project

        `domains` and `team_ids`, when sent, replace the previous lists. `results` may be
        recorded once the project is closed (409 before). The state moves only through
        `POST /projects/{id}/transitions`.
        """
        project = update_project(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(project)

    @blp.auth("projects:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, project_id: uuid.UUID) -> None:
        """Delete a project recorded by mistake

        Only in state `idea` (409 later: move it to `abandoned` instead).
        """
        delete_project(
            db.session, actor=current_actor(), project_id=project_id, if_match=if_match_versions()
        )


@blp.route("/by-external-id/<path:external_id>")
class ProjectByExternalId(MethodView):
    @blp.auth("projects:write")
    @blp.if_match
    @blp.arguments(ProjectUpsert())
    @blp.record_response(ProjectOut)
    @blp.created_response(ProjectOut, alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], external_id: str
    ) -> tuple[Project, int, Headers] | tuple[Project, Headers]:
        """Create or update a project by its importer's `external_id`

        201 when the project is new (the body is the project), 200 when it existed (only the
        fields sent change).
        """
        project, was_created = upsert_project_by_external_id(
            db.session,
            actor=current_actor(),
            external_id=external_id,
            fields=body,
            if_match=if_match_versions(),
        )
        return _created(project) if was_created else with_etag(project)


@blp.route("/<uuid:project_id>/transitions")
class ProjectTransitions(MethodView):
    @blp.auth("projects:write")
    @blp.if_match
    @blp.arguments(TransitionCreate())
    @blp.record_response(ProjectOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], project_id: uuid.UUID) -> tuple[Project, Headers]:
        """Move a project along its lifecycle

        `idea` → `consortium_building` → `label_requested` → (`labelled` | `refused` |
        `support_letter`) → `submitted` → (`funded` | `not_funded` | `abandoned`) →
        `agreement_signed` → `running` → (`closed` | `abandoned`); a project `not_funded` may
        go back to `label_requested` or `submitted` (another call) or be `abandoned`. Any
        other move is a 409 naming the current state and the allowed next ones. The move is
        dated `on` (default today) and signed by you; `labelled`, `refused` and
        `support_letter` need the `projects:label` scope (403).
        """
        project = transition_project(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            **body,
            may_label=LABEL_SCOPE in granted_scopes(),
            if_match=if_match_versions(),
        )
        return with_etag(project)


@blp.route("/<uuid:project_id>/history")
class ProjectHistory(MethodView):
    @blp.auth("projects:read")
    @blp.arguments(HistoryQuery(), location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A project's history, newest first"""
        page = project_history(db.session, actor=current_actor(), project_id=project_id, **query)
        return page_response(page)


@blp.route("/<uuid:project_id>/timeline")
class ProjectTimeline(MethodView):
    @blp.auth("projects:read")
    @blp.arguments(ProjectTimelineQuery(), location="query", as_kwargs=True)
    @blp.page_response(TimelinePage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A project's timeline

        Its lifecycle moves, its submissions and the interactions linked to it (those the
        caller may see), newest first. Filter with `kinds`, `since` and `until`.
        """
        page = project_timeline(db.session, actor=current_actor(), project_id=project_id, **query)
        return page_response(page)


@blp.route("/<uuid:project_id>/interactions/<uuid:interaction_id>")
class ProjectInteractionLink(MethodView):
    @blp.auth("projects:write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, project_id: uuid.UUID, interaction_id: uuid.UUID) -> None:
        """Link an interaction to a project

        It then shows in the project's timeline. Linking it again changes nothing. An
        interaction or project you may not see is 404.
        """
        link_interaction(
            db.session, actor=current_actor(), project_id=project_id, interaction_id=interaction_id
        )

    @blp.auth("projects:write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, project_id: uuid.UUID, interaction_id: uuid.UUID) -> None:
        """Unlink an interaction from a project (404 when not linked)"""
        unlink_interaction(
            db.session, actor=current_actor(), project_id=project_id, interaction_id=interaction_id
        )


@blp.route("/<uuid:project_id>/eligibility")
class ProjectEligibility(MethodView):
    @blp.auth("projects:read")
    @blp.arguments(EligibilityQuery(), location="query", as_kwargs=True)
    @blp.response(200, EligibilityReport)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, programme: str) -> Eligibility:
        """Check the consortium against a call's rules

        Exactly one coordinator, at least two companies including an SME or mid-cap, one
        research partner, led by a company, and a total budget within the call's range: each
        rule passes or fails with its reason.
        """
        return check_eligibility(
            db.session, actor=current_actor(), project_id=project_id, programme=programme
        )


@blp.route("/<uuid:project_id>/partners")
class Partners(MethodView):
    @blp.auth("projects:read")
    @blp.arguments(PartnerQuery(), location="query", as_kwargs=True)
    @blp.page_response(PartnerPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a project's partners"""
        lister = partial(list_partners, db.session, actor=current_actor(), project_id=project_id)
        return paginate(db.session, lister, query, PARTNER_SORT_KEYS, ProjectPartner.id)

    @blp.auth("projects:write")
    @blp.arguments(PartnerCreate())
    @blp.created_response(PartnerOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], project_id: uuid.UUID) -> tuple[Any, int, Headers]:
        """Add a partner

        A member (`member_id`; its category is copied, and copied again when the project is
        submitted, then frozen) or an outside organisation (`organisation_name`, `siren`,
        `category`). A second coordinator, or a member already in the consortium, is 409.
        """
        partner = add_partner(db.session, actor=current_actor(), project_id=project_id, **body)
        return created(
            partner, "projects.PartnerById", project_id=project_id, partner_id=partner.id
        )


@blp.route("/<uuid:project_id>/partners/<uuid:partner_id>")
class PartnerById(MethodView):
    @blp.auth("projects:read")
    @blp.record_response(PartnerOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, partner_id: uuid.UUID) -> tuple[Any, Headers]:
        """Get a partner"""
        return with_etag(
            get_partner(
                db.session, actor=current_actor(), project_id=project_id, partner_id=partner_id
            )
        )

    @blp.auth("projects:write")
    @blp.if_match
    @blp.arguments(PartnerPatch())
    @blp.record_response(PartnerOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(
        self, body: dict[str, Any], project_id: uuid.UUID, partner_id: uuid.UUID
    ) -> tuple[Any, Headers]:
        """Update a partner (role, budgets, aid)"""
        partner = update_partner(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            partner_id=partner_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(partner)

    @blp.auth("projects:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, project_id: uuid.UUID, partner_id: uuid.UUID) -> None:
        """Remove a partner from the consortium"""
        remove_partner(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            partner_id=partner_id,
            if_match=if_match_versions(),
        )


@blp.route("/<uuid:project_id>/submissions")
class Submissions(MethodView):
    @blp.auth("projects:read")
    @blp.arguments(SubmissionQuery(), location="query", as_kwargs=True)
    @blp.page_response(SubmissionPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a project's submissions to funding calls"""
        lister = partial(list_submissions, db.session, actor=current_actor(), project_id=project_id)
        return paginate(db.session, lister, query, SUBMISSION_SORT_KEYS, ProjectSubmission.id)

    @blp.auth("projects:write")
    @blp.arguments(SubmissionCreate())
    @blp.created_response(SubmissionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body: dict[str, Any], project_id: uuid.UUID) -> tuple[Any, int, Headers]:
        """Record a submission to a funding call

        Its label decision starts `pending`; the label is decided per submission with
        `POST .../label`.
        """
        submission = create_submission(
            db.session, actor=current_actor(), project_id=project_id, **body
        )
        return created(
            submission,
            "projects.SubmissionById",
            project_id=project_id,
            submission_id=submission.id,
        )


@blp.route("/<uuid:project_id>/submissions/<uuid:submission_id>")
class SubmissionById(MethodView):
    @blp.auth("projects:read")
    @blp.record_response(SubmissionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, project_id: uuid.UUID, submission_id: uuid.UUID) -> tuple[Any, Headers]:
        """Get a submission"""
        return with_etag(
            get_submission(
                db.session,
                actor=current_actor(),
                project_id=project_id,
                submission_id=submission_id,
            )
        )

    @blp.auth("projects:write")
    @blp.if_match
    @blp.arguments(SubmissionPatch())
    @blp.record_response(SubmissionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(
        self, body: dict[str, Any], project_id: uuid.UUID, submission_id: uuid.UUID
    ) -> tuple[Any, Headers]:
        """Update a submission (call, dates, amounts, outcome)"""
        submission = update_submission(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            submission_id=submission_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(submission)

    @blp.auth("projects:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, project_id: uuid.UUID, submission_id: uuid.UUID) -> None:
        """Delete a submission recorded by mistake (409 once its label is decided)"""
        delete_submission(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            submission_id=submission_id,
            if_match=if_match_versions(),
        )


@blp.route("/<uuid:project_id>/submissions/<uuid:submission_id>/label")
class SubmissionLabel(MethodView):
    @blp.auth(LABEL_SCOPE)
    @blp.if_match
    @blp.arguments(LabelCreate())
    @blp.record_response(SubmissionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(
        self, body: dict[str, Any], project_id: uuid.UUID, submission_id: uuid.UUID
    ) -> tuple[Any, Headers]:
        """Decide the cluster's label on a submission

        `granted`, `refused` or `support_letter`, dated `on` (default today) and signed by
        you. The decision is taken once: a second one is 409 (412 with a stale `If-Match`),
        also when two arrive at the same time.
        """
        submission = label_submission(
            db.session,
            actor=current_actor(),
            project_id=project_id,
            submission_id=submission_id,
            **body,
            if_match=if_match_versions(),
        )
        return with_etag(submission)
