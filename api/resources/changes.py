"""The change journal: as a feed for integrations, and as each record's history."""

import uuid
from typing import Any

from flask.views import MethodView

from api.auth import current_actor, granted_scopes
from api.blueprint import Blueprint
from api.extensions import db
from api.pagination import next_link, page_response
from models import Contact, Member
from schemas.journal import ChangesPage, ChangesQuery, HistoryPage, HistoryQuery
from services.journal import list_changes, record_history

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/api/v1",
    description="What changed: the journal feed and each record's history.",
)


@blp.route("/changes")
class Changes(MethodView):
    @blp.auth("changes:read")
    @blp.arguments(ChangesQuery, location="query", as_kwargs=True)
    @blp.page_response(ChangesPage)
    def get(
        self, *, after: int, types: list[str], limit: int
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Read the journal from a position

        Entries come in `seq` order. Keep the last `seq` you processed and ask again with
        `after=<seq>`: entries are numbered in the order their transactions commit, so none
        can appear later below a number you have already read. Only the changes of
        resources your token may read are listed (users' changes need `users:admin`), and
        of confidential interactions and projects only those you may see.
        """
        entries, has_more = list_changes(
            db.session,
            after=after,
            types=types,
            limit=limit,
            scopes=granted_scopes(),
            reader=current_actor(),
        )
        next_after = entries[-1].seq if entries else after
        body = {"data": entries, "next_after": next_after, "has_more": has_more}
        return body, next_link("after", str(next_after)) if has_more else {}


@blp.route("/members/<uuid:member_id>/history")
class MemberHistory(MethodView):
    @blp.auth("members:read")
    @blp.arguments(HistoryQuery, location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, member_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A member's history, newest first"""
        page = record_history(db.session, model=Member, record_id=member_id, **query)
        return page_response(page)


@blp.route("/contacts/<uuid:contact_id>/history")
class ContactHistory(MethodView):
    @blp.auth("contacts:read")
    @blp.arguments(HistoryQuery, location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, contact_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A contact's history, newest first"""
        page = record_history(db.session, model=Contact, record_id=contact_id, **query)
        return page_response(page)
