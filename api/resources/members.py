"""Members: the organisations of the cluster."""

import uuid
from typing import Any

from flask.views import MethodView

from api.batch import write_batch
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.exports import export_response, requested_export
from api.extensions import db
from api.pagination import paginate
from api.responses import created, with_etag
from models import Member
from schemas.batch import BatchOut, batch_of
from schemas.common import RestoreRequest
from schemas.members import (
    MemberArchive,
    MemberCreate,
    MemberOut,
    MemberPage,
    MemberPatch,
    MemberQuery,
    MemberUpsert,
)
from services.batch_writes import write_member_item
from services.exports.members import member_export
from services.member_views import MemberView, list_member_rows, member_rows_of, read_member
from services.members import (
    MEMBER_SORT_KEYS,
    archive_member,
    create_member,
    delete_member,
    list_members,
    restore_member,
    update_member,
    upsert_member_by_external_id,
)

blp = Blueprint(
    "members",
    __name__,
    url_prefix="/api/v1/members",
    description="Organisations of the cluster: companies, laboratories, hospitals...",
)


def _created(member: Member) -> tuple[Member, int, dict[str, str]]:
    return created(member, "members.MemberById", member_id=member.id)


@blp.route("")
class Members(MethodView):
    @blp.auth("members:read")
    @blp.arguments(MemberQuery(), location="query", as_kwargs=True)
    @blp.page_response(MemberPage(), own_export=True)
    def get(self, **query: Any) -> Any:
        """List members

        Archived members are left out unless `archived=true` (only them) or
        `include_archived=true` (both). `q` searches name, legal name, SIREN and city,
        ignoring case and accents. Each row embeds its domains, parent and contact count.
        With `format=csv` (or `Accept: text/csv`) or `format=ndjson` (`Accept:
        application/x-ndjson`) every matching member is streamed as a file, in the columns of
        the import template; `excel=true` writes CSV for French Excel.
        """
        export = requested_export(query)
        if export is not None:
            return export_response(
                export, "members", query, member_export(db.session, query, export)
            )
        if query.get("as_of") is None:  # no membership standing: plain rows are enough
            return paginate(
                db.session,
                list_member_rows,
                query,
                MEMBER_SORT_KEYS,
                Member.id,
                rows_to_items=member_rows_of,
            )
        return paginate(db.session, list_members, query, MEMBER_SORT_KEYS, Member.id)

    @blp.auth("members:write")
    @blp.arguments(MemberCreate())
    @blp.created_response(MemberOut())
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Member, int, dict[str, str]]:
        """Create a member

        A SIREN or `external_id` already used answers 409 with `existing` pointing at the
        member that has it. Unknown or inactive domain codes, or an unknown parent, are 422.
        """
        return _created(create_member(db.session, **body))


MemberBatch = batch_of(MemberCreate, "MemberBatch")


@blp.route("/batch")
class MemberBatchWrite(MethodView):
    @blp.auth("members:write")
    @blp.arguments(MemberBatch())
    @blp.response(207, BatchOut())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update up to 100 members

        Each item is a member as `POST /members` takes it, upserted by its natural key: one
        with an `external_id` updates the member that has it (only the fields sent change) or
        creates it; one without, by its `siren` in the same way; one with neither is created.
        The answer is 207 with one result per item, in the order sent: `status` 201 or 200
        and the member's `id`, or the `problem` that refused the item (422, 409...). Items are
        independent unless `atomic` is `true`: then all are written or none.
        """
        return write_batch(body["items"], write_member_item, atomic=body["atomic"])


@blp.route("/<uuid:member_id>")
class MemberById(MethodView):
    @blp.auth("members:read")
    @blp.record_response(MemberOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, member_id: uuid.UUID) -> tuple[MemberView, dict[str, str]]:
        """Get a member"""
        return with_etag(read_member(db.session, member_id))

    @blp.auth("members:write")
    @blp.if_match
    @blp.arguments(MemberPatch())
    @blp.record_response(MemberOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], member_id: uuid.UUID) -> tuple[Member, dict[str, str]]:
        """Update a member

        Send only the fields that change; `null` clears an optional field and `domains`
        replaces the member's domains. A parent that would make the member its own ancestor
        is refused with 422 on `parent_id`.
        """
        member = update_member(
            db.session, member_id=member_id, changes=body, if_match=if_match_versions()
        )
        return with_etag(member)

    @blp.auth("members:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, member_id: uuid.UUID) -> None:
        """Delete a member that has nothing attached

        A member with contacts or subsidiaries (or any other history) answers 409: archive
        it instead.
        """
        delete_member(db.session, member_id=member_id, if_match=if_match_versions())


@blp.route("/<uuid:member_id>/archive")
class MemberArchiveAction(MethodView):
    @blp.auth("members:write")
    @blp.if_match
    @blp.arguments(MemberArchive())
    @blp.record_response(MemberOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> tuple[Member, dict[str, str]]:
        """Archive a member

        The member leaves the default lists but keeps its history; 409 if already archived.
        """
        member = archive_member(
            db.session, member_id=member_id, reason=body["reason"], if_match=if_match_versions()
        )
        return with_etag(member)


@blp.route("/<uuid:member_id>/restore")
class MemberRestoreAction(MethodView):
    @blp.auth("members:write")
    @blp.if_match
    @blp.arguments(RestoreRequest(), required=False)
    @blp.record_response(MemberOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> tuple[Member, dict[str, str]]:
        """Restore an archived member; 409 if it is not archived

        An optional `reason` is kept as `restore_reason`, with `restored_at`.
        """
        member = restore_member(
            db.session,
            member_id=member_id,
            reason=body.get("reason"),
            if_match=if_match_versions(),
        )
        return with_etag(member)


@blp.route("/by-external-id/<path:external_id>")
class MemberByExternalId(MethodView):
    @blp.auth("members:write")
    @blp.if_match
    @blp.arguments(MemberUpsert())
    @blp.record_response(MemberOut())
    @blp.created_response(MemberOut(), alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], external_id: str
    ) -> tuple[Member, int, dict[str, str]] | tuple[Member, dict[str, str]]:
        """Create or update a member by its importer's `external_id`

        201 when the member is new (the body is the member), 200 when it existed (only the
        fields sent change). A SIREN held by another member is 409.
        """
        member, was_created = upsert_member_by_external_id(
            db.session, external_id=external_id, fields=body, if_match=if_match_versions()
        )
        return _created(member) if was_created else with_etag(member)
