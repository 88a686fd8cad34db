"""Interactions (touchpoints and services delivered by staff) and member and contact timelines.

Every route answers 404 for a confidential interaction the caller may not see, exactly as for
one that does not exist: the services filter by the acting user.
"""

import uuid
from functools import partial
from typing import Any

from flask.views import MethodView

from api.auth import current_actor, current_user
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import page_response, paginate
from api.responses import Headers, created, with_etag
from models import Interaction
from schemas.common import RestoreRequest
from schemas.interactions import (
    InteractionArchive,
    InteractionCreate,
    InteractionOut,
    InteractionPage,
    InteractionPatch,
    InteractionQuery,
    InteractionUpsert,
    TimelinePage,
    TimelineQuery,
)
from schemas.journal import HistoryPage, HistoryQuery
from services.interactions import (
    INTERACTION_SORT_KEYS,
    archive_interaction,
    create_interaction,
    delete_interaction,
    get_interaction,
    interaction_history,
    list_interactions,
    restore_interaction,
    update_interaction,
    upsert_interaction_by_external_id,
)
from services.timeline import contact_timeline, member_timeline

blp = Blueprint(
    "interactions",
    __name__,
    url_prefix="/api/v1",
    description="Touchpoints and services delivered by staff, and member and contact timelines.",
)


@blp.route("/interactions")
class Interactions(MethodView):
    @blp.auth("interactions:read")
    @blp.arguments(InteractionQuery, location="query", as_kwargs=True)
    @blp.page_response(InteractionPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List interactions

        Newest first by default. `q` searches subject and notes, ignoring case and accents
        (every word must appear). `assignee=me&follow_up=open&due_before=...` is a to-do list.
        Confidential interactions appear only to their owner, the staff users taking part and
        admins, and `total` counts only what the caller may see.
        """
        lister = partial(list_interactions, actor=current_user())
        return paginate(db.session, lister, query, INTERACTION_SORT_KEYS, Interaction.id)

    @blp.auth("interactions:write")
    @blp.arguments(InteractionCreate)
    @blp.created_response(InteractionOut)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Interaction, int, Headers]:
        """Record an interaction

        The owner defaults to you; owner, participants and assignee must be active users, and
        linked members and contacts must exist (422 naming the field). `external_id` is unique
        (409).
        """
        interaction = create_interaction(db.session, actor=current_user(), **body)
        return created(interaction, "interactions.InteractionById", interaction_id=interaction.id)


@blp.route("/interactions/<uuid:interaction_id>")
class InteractionById(MethodView):
    @blp.auth("interactions:read")
    @blp.record_response(InteractionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, interaction_id: uuid.UUID) -> tuple[Interaction, Headers]:
        """Get an interaction"""
        return with_etag(
            get_interaction(db.session, actor=current_user(), interaction_id=interaction_id)
        )

    @blp.auth("interactions:write")
    @blp.if_match
    @blp.arguments(InteractionPatch)
    @blp.record_response(InteractionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], interaction_id: uuid.UUID) -> tuple[Interaction, Headers]:
        """Update an interaction

        `members`, `contacts` and `participant_ids`, when sent, replace the previous lists.
        `follow_up_done: true` records when the follow-up was done.
        """
        interaction = update_interaction(
            db.session,
            actor=current_user(),
            interaction_id=interaction_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(interaction)

    @blp.auth("interactions:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, interaction_id: uuid.UUID) -> None:
        """Delete an interaction recorded by mistake (archive it to keep its history)"""
        delete_interaction(
            db.session,
            actor=current_user(),
            interaction_id=interaction_id,
            if_match=if_match_versions(),
        )


@blp.route("/interactions/by-external-id/<path:external_id>")
class InteractionByExternalId(MethodView):
    @blp.auth("interactions:write")
    @blp.if_match
    @blp.arguments(InteractionUpsert)
    @blp.record_response(InteractionOut)
    @blp.created_response(InteractionOut, alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], external_id: str
    ) -> tuple[Interaction, int, Headers] | tuple[Interaction, Headers]:
        """Create or update an interaction by its importer's `external_id`

        201 when the interaction is new (the body is the interaction, linked to at least one
        member or contact), 200 when it existed (only the fields sent change). An
        `external_id` held by a confidential interaction you may not see is a 409.
        """
        interaction, was_created = upsert_interaction_by_external_id(
            db.session,
            actor=current_user(),
            external_id=external_id,
            fields=body,
            if_match=if_match_versions(),
        )
        if was_created:
            return created(
                interaction, "interactions.InteractionById", interaction_id=interaction.id
            )
        return with_etag(interaction)


@blp.route("/interactions/<uuid:interaction_id>/history")
class InteractionHistory(MethodView):
    @blp.auth("interactions:read")
    @blp.arguments(HistoryQuery, location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, interaction_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """An interaction's history, newest first

        404 for a confidential interaction you may not see, as for a read.
        """
        page = interaction_history(
            db.session, actor=current_user(), interaction_id=interaction_id, **query
        )
        return page_response(page)


@blp.route("/interactions/<uuid:interaction_id>/archive")
class InteractionArchiving(MethodView):
    @blp.auth("interactions:write")
    @blp.if_match
    @blp.arguments(InteractionArchive)
    @blp.record_response(InteractionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], interaction_id: uuid.UUID) -> tuple[Interaction, Headers]:
        """Archive an interaction

        Kept (and still in timelines) but left out of lists; 409 if already archived.
        """
        interaction = archive_interaction(
            db.session,
            actor=current_user(),
            interaction_id=interaction_id,
            reason=body["reason"],
            if_match=if_match_versions(),
        )
        return with_etag(interaction)


@blp.route("/interactions/<uuid:interaction_id>/restore")
class InteractionRestoring(MethodView):
    @blp.auth("interactions:write")
    @blp.if_match
    @blp.arguments(RestoreRequest, required=False)
    @blp.record_response(InteractionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], interaction_id: uuid.UUID) -> tuple[Interaction, Headers]:
        """Restore an archived interaction

        409 when it is not archived. An optional `reason` is kept as `restore_reason`.
        """
        interaction = restore_interaction(
            db.session,
            actor=current_user(),
            interaction_id=interaction_id,
            reason=body.get("reason"),
            if_match=if_match_versions(),
        )
        return with_etag(interaction)


@blp.route("/members/<uuid:member_id>/timeline")
class MemberTimeline(MethodView):
    @blp.auth("interactions:read")
    @blp.arguments(TimelineQuery, location="query", as_kwargs=True)
    @blp.page_response(TimelinePage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, member_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A member's timeline

        What happened with the member, newest first: interactions (confidential ones only for
        those who may see them), event registrations of its people, the member record's
        creation and archiving, and its memberships (joined, renewed, paid, refunded, cancelled,
        lapsed, on the days they happened). Filter with `kinds`, `since` and `until`.
        """
        page = member_timeline(db.session, actor=current_actor(), member_id=member_id, **query)
        return page_response(page)


@blp.route("/contacts/<uuid:contact_id>/timeline")
class ContactTimeline(MethodView):
    @blp.auth("interactions:read")
    @blp.arguments(TimelineQuery, location="query", as_kwargs=True)
    @blp.page_response(TimelinePage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, contact_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A contact's timeline

        As for members: the contact's interactions the caller may see, their event
        registrations, and the contact record's creation and archiving, newest first.
        """
        page = contact_timeline(db.session, actor=current_actor(), contact_id=contact_id, **query)
        return page_response(page)
