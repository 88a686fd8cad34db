"""Events, their registrations, attendance sheets and figures."""

import csv
import io
import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView

from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import page_response, paginate
from api.responses import ETAG, Headers, created, etag_headers, with_etag
from models import Event, Registration
from schemas.common import RestoreRequest
from schemas.events import (
    AttendanceSheet,
    EventArchive,
    EventCancel,
    EventCancellationOut,
    EventCreate,
    EventFigures,
    EventOut,
    EventPage,
    EventPatch,
    EventQuery,
    EventRegistrationQuery,
    EventUpsert,
    RegistrationCreate,
    RegistrationOut,
    RegistrationPage,
    RegistrationPatch,
    RegistrationQuery,
)
from schemas.journal import HistoryPage, HistoryQuery
from services.event_attendance import attendance_sheet, event_stats
from services.events import (
    EVENT_SORT_KEYS,
    archive_event,
    cancel_event,
    complete_event,
    create_event,
    delete_event,
    get_event,
    list_events,
    publish_event,
    restore_event,
    update_event,
    upsert_event_by_external_id,
)
from services.journal import record_history
from services.registrations import (
    REGISTRATION_SORT_KEYS,
    cancel_registration,
    check_in,
    event_registrations_page,
    get_registration,
    list_registrations,
    register_for_event,
    update_registration,
)

blp = Blueprint(
    "events",
    __name__,
    url_prefix="/api/v1",
    description="Events, registrations with capacity and a waiting list, check-in, attendance.",
)

CSV_COLUMNS = (
    "registration_id", "name", "email", "organisation", "member_id", "category",
    "membership_status", "is_member", "role", "status", "checked_in_at",
)  # fmt: skip


def _created(event: Event) -> tuple[Event, int, Headers]:
    return created(event, "events.EventById", event_id=event.id)


@blp.route("/events")
class Events(MethodView):
    @blp.auth("events:read")
    @blp.arguments(EventQuery(), location="query", as_kwargs=True)
    @blp.page_response(EventPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List events

        By start time by default. Archived events are left out unless `archived=true` or
        `include_archived=true`. `q` searches title, description and venue, ignoring case
        and accents.
        """
        return paginate(db.session, list_events, query, EVENT_SORT_KEYS, Event.id)

    @blp.auth("events:write")
    @blp.arguments(EventCreate())
    @blp.created_response(EventOut)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Event, int, Headers]:
        """Create an event

        Times need an offset (422 naming the field without one) and are shown at the event's
        wall clock in its `timezone` (default Europe/Paris). Organisers must be active staff
        users; `external_id` is unique (409).
        """
        return _created(create_event(db.session, **body))


@blp.route("/events/<uuid:event_id>")
class EventById(MethodView):
    @blp.auth("events:read")
    @blp.record_response(EventOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, event_id: uuid.UUID) -> tuple[Event, Headers]:
        """Get an event"""
        return with_etag(get_event(db.session, event_id))

    @blp.auth("events:write")
    @blp.if_match
    @blp.arguments(EventPatch())
    @blp.record_response(EventOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], event_id: uuid.UUID) -> tuple[Event, Headers]:
        """Update an event

        Send only the fields that change. A larger `capacity` promotes waiting registrations
        at once. The status changes through `publish`, `complete` and `cancel`.
        """
        event = update_event(
            db.session, event_id=event_id, changes=body, if_match=if_match_versions()
        )
        return with_etag(event)

    @blp.auth("events:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, event_id: uuid.UUID) -> None:
        """Delete an event without registrations (cancel or archive one that has some)"""
        delete_event(db.session, event_id=event_id, if_match=if_match_versions())


@blp.route("/events/by-external-id/<path:external_id>")
class EventByExternalId(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.arguments(EventUpsert())
    @blp.record_response(EventOut)
    @blp.created_response(EventOut, alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], external_id: str
    ) -> tuple[Event, int, Headers] | tuple[Event, Headers]:
        """Create or update an event by its importer's `external_id`

        201 when the event is new (a draft), 200 when it existed (only the fields sent change).
        """
        event, was_created = upsert_event_by_external_id(
            db.session, external_id=external_id, fields=body, if_match=if_match_versions()
        )
        return _created(event) if was_created else with_etag(event)


@blp.route("/events/<uuid:event_id>/publish")
class EventPublishing(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.record_response(EventOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, event_id: uuid.UUID) -> tuple[Event, Headers]:
        """Publish a draft event (opens it to registrations); 409 from another status"""
        return with_etag(publish_event(db.session, event_id=event_id, if_match=if_match_versions()))


@blp.route("/events/<uuid:event_id>/complete")
class EventCompletion(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.record_response(EventOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, event_id: uuid.UUID) -> tuple[Event, Headers]:
        """Complete a published event that has started

        The registered who did not check in become `no_show`.
        """
        event = complete_event(db.session, event_id=event_id, if_match=if_match_versions())
        return with_etag(event)


@blp.route("/events/<uuid:event_id>/cancel")
class EventCancellation(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.arguments(EventCancel(), required=False)
    @blp.response(200, EventCancellationOut, headers={"ETag": ETAG})
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], event_id: uuid.UUID) -> tuple[dict[str, Any], Headers]:
        """Cancel an event and its registrations

        Every registration still registered or waiting is cancelled in the same transaction;
        the answer says how many. 409 for an event already cancelled or completed.
        """
        event, count = cancel_event(
            db.session,
            event_id=event_id,
            reason=body.get("reason"),
            if_match=if_match_versions(),
        )
        return {"event": event, "cancelled_registrations": count}, etag_headers(event)


@blp.route("/events/<uuid:event_id>/archive")
class EventArchiving(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.arguments(EventArchive(), required=False)
    @blp.record_response(EventOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], event_id: uuid.UUID) -> tuple[Event, Headers]:
        """Archive an event (kept with its registrations, left out of lists)"""
        event = archive_event(
            db.session, event_id=event_id, reason=body.get("reason"), if_match=if_match_versions()
        )
        return with_etag(event)


@blp.route("/events/<uuid:event_id>/restore")
class EventRestoring(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.arguments(RestoreRequest(), required=False)
    @blp.record_response(EventOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], event_id: uuid.UUID) -> tuple[Event, Headers]:
        """Restore an archived event; 409 if it is not archived"""
        event = restore_event(
            db.session, event_id=event_id, reason=body.get("reason"), if_match=if_match_versions()
        )
        return with_etag(event)


@blp.route("/events/<uuid:event_id>/history")
class EventHistory(MethodView):
    @blp.auth("events:read")
    @blp.arguments(HistoryQuery(), location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, event_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """An event's history, newest first"""
        return page_response(record_history(db.session, model=Event, record_id=event_id, **query))


@blp.route("/events/<uuid:event_id>/registrations")
class EventRegistrations(MethodView):
    @blp.auth("events:read")
    @blp.arguments(EventRegistrationQuery(), location="query", as_kwargs=True)
    @blp.page_response(RegistrationPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, event_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List an event's registrations

        In registration order by default; each waiting one shows its `waitlist_position`.
        """
        page = event_registrations_page(db.session, event_id=event_id, **query)
        return page_response(page)

    @blp.auth("events:write")
    @blp.arguments(RegistrationCreate())
    @blp.created_response(RegistrationOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], event_id: uuid.UUID) -> tuple[Registration, int, Headers]:
        """Register a contact or a guest

        `registered` while seats remain, else `waitlisted` with its `waitlist_position`. The
        price is the member price when the organisation is a member on the event's day. 409
        with a problem `type` naming the rule: `event-not-published`, `event-cancelled`,
        `event-completed`, `registration-not-open`, `registration-closed`, `members-only`,
        `already-registered` (with `existing`).
        """
        registration = register_for_event(db.session, event_id=event_id, **body)
        return created(registration, "events.RegistrationById", registration_id=registration.id)


def _attendance_csv(sheet: dict[str, Any]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for participant in sheet["participants"]:
        row = [getattr(participant, column) for column in CSV_COLUMNS]
        writer.writerow(
            ["" if value is None else value.isoformat() if hasattr(value, "isoformat") else value
             for value in row]
        )  # fmt: skip
    return Response(buffer.getvalue(), mimetype="text/csv")


@blp.route("/events/<uuid:event_id>/attendance")
class EventAttendance(MethodView):
    @blp.auth("events:read")
    @blp.response(200, AttendanceSheet)
    @blp.doc(
        responses={
            200: {
                "content": {
                    "text/csv": {
                        "schema": {"type": "string"},
                        "examples": {"header": {"value": ",".join(CSV_COLUMNS) + "\n"}},
                    }
                }
            }
        }
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, event_id: uuid.UUID) -> dict[str, Any] | Response:
        """An event's attendance sheet

        Each participant (registered, attended or no-show) with their organisation, its
        category and its membership status on the day of the event, and the check-in time;
        totals by category. `Accept: text/csv` gives the participants as CSV.
        """
        sheet = attendance_sheet(db.session, event_id=event_id)
        if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
            return _attendance_csv(sheet)
        return sheet


@blp.route("/events/<uuid:event_id>/stats")
class EventStats(MethodView):
    @blp.auth("events:read")
    @blp.response(200, EventFigures)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, event_id: uuid.UUID) -> dict[str, Any]:
        """An event's figures: registrations by status, overall and by category"""
        return event_stats(db.session, event_id=event_id)


@blp.route("/registrations")
class Registrations(MethodView):
    @blp.auth("events:read")
    @blp.arguments(RegistrationQuery(), location="query", as_kwargs=True)
    @blp.page_response(RegistrationPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List registrations

        Filter by `event_id`, or by `contact_id` or `member_id` for a contact's or a member's
        event history.
        """
        return paginate(
            db.session, list_registrations, query, REGISTRATION_SORT_KEYS, Registration.id
        )


@blp.route("/registrations/<uuid:registration_id>")
class RegistrationById(MethodView):
    @blp.auth("events:read")
    @blp.record_response(RegistrationOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, registration_id: uuid.UUID) -> tuple[Registration, Headers]:
        """Get a registration"""
        return with_etag(get_registration(db.session, registration_id))

    @blp.auth("events:write")
    @blp.if_match
    @blp.arguments(RegistrationPatch())
    @blp.record_response(RegistrationOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(
        self, body: dict[str, Any], registration_id: uuid.UUID
    ) -> tuple[Registration, Headers]:
        """Update a registration's notes or organisation (the price follows the organisation)"""
        registration = update_registration(
            db.session, registration_id=registration_id, changes=body, if_match=if_match_versions()
        )
        return with_etag(registration)


@blp.route("/registrations/<uuid:registration_id>/cancel")
class RegistrationCancellation(MethodView):
    @blp.auth("events:write")
    @blp.if_match
    @blp.record_response(RegistrationOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, registration_id: uuid.UUID) -> tuple[Registration, Headers]:
        """Cancel a registration

        A seat it frees goes to the first waiting registration in the same transaction. 409
        for a registration already cancelled, attended or no-show.
        """
        registration = cancel_registration(
            db.session, registration_id=registration_id, if_match=if_match_versions()
        )
        return with_etag(registration)


@blp.route("/registrations/<uuid:registration_id>/check-in")
class RegistrationCheckIn(MethodView):
    @blp.auth("events:write")
    @blp.record_response(RegistrationOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, registration_id: uuid.UUID) -> tuple[Registration, Headers]:
        """Check a participant in (idempotent)

        Opens one hour before the event starts. 409 (`not-registered`) for a waiting or
        cancelled registration, `event-cancelled`, `check-in-not-open`.
        """
        return with_etag(check_in(db.session, registration_id=registration_id))


@blp.route("/registrations/<uuid:registration_id>/history")
class RegistrationHistory(MethodView):
    @blp.auth("events:read")
    @blp.arguments(HistoryQuery(), location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, registration_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A registration's history, newest first"""
        page = record_history(db.session, model=Registration, record_id=registration_id, **query)
        return page_response(page)
