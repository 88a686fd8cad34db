"""Importing event registrations: the rows of ``POST /events/{id}/registrations``
(``RegistrationCreate``), under the registration service's rules, applied row by row in the
file's order: the event published and open, members-only events, one active registration per
contact (or guest e-mail), the price fixed at registration, and the capacity: once every seat
is taken the next rows wait, numbered in the file's order.

A row names its event by ``event_external_id``, and its participant either as a contact, by
``contact_email`` (an active contact; ``member_external_id`` or ``member_siren`` names the
organisation they come for, default their primary affiliation), or as a guest (``guest_name``,
``guest_email``, ``guest_organisation``, ``guest_category``). Rows are matched, within the
event, on the participant: the contact, else the guest's e-mail, else the guest's name and
organisation. A registration found keeps its participant and role (another role is refused);
its ``notes`` are updated.
"""

import uuid
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Contact, Event, Registration, RegistrationStatus
from models.types import utcnow
from schemas.events import RegistrationCreate
from services.emails import normalize_email
from services.errors import Conflict, InvalidInput
from services.imports.columns import HeaderMatch, row_input
from services.imports.contacts import _member_of, _members
from services.imports.runner import ImportOptions, Row
from services.registrations import stage_registration

REGISTRATION_ALIASES: dict[str, tuple[str, ...]] = {
    "event_external_id": (
        "evenement", "reference evenement", "ref evenement", "event", "event reference",
    ),
    "contact_email": (
        "courriel", "e mail", "email", "mail", "courriel du contact", "contact e mail",
    ),
    "member_external_id": ("reference adherent", "reference membre", "member reference"),
    "member_siren": ("siren", "siren adherent", "member siren"),
    "guest_name": ("invite", "nom de l invite", "nom invite", "guest", "guest name"),
    "guest_email": ("courriel de l invite", "courriel invite", "guest e mail", "guest mail"),
    "guest_organisation": (
        "organisation de l invite", "structure", "organisme", "entreprise", "organisation",
        "guest organization",
    ),
    "guest_category": ("categorie", "categorie de l invite", "category", "guest category"),
    "role": ("qualite", "participe en tant que", "role"),
    "notes": ("commentaire", "remarques", "comments"),
}  # fmt: skip
# Stands for the contact while the API's schema checks the row (contact or guest, not both).
_SOME_CONTACT = uuid.UUID(int=0)


class _Refs(ma.Schema):
    """The event, and the contact and organisation, as the row names them."""

    event_external_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    contact_email = ma.fields.String(allow_none=True, validate=ma.validate.Length(1, 254))
    member_external_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(1, 100))
    member_siren = ma.fields.String(allow_none=True, validate=ma.validate.Length(equal=9))


def _email(address: str | None) -> str | None:
    try:
        return normalize_email(address) if address else None
    except ValueError:
        return None


def _participant(values: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Who the row registers, within its event (also its duplicate key in the file)."""
    if values.get("contact_email"):
        return ("contact", _email(values["contact_email"]) or values["contact_email"])
    if values.get("guest_email"):
        return ("guest_email", values["guest_email"])
    if values.get("guest_name"):
        return ("guest_name", values["guest_name"], values.get("guest_organisation") or "")
    return None


class RegistrationImporter:
    """Registrations to events named by ``event_external_id``, matched on the participant."""

    resource = "registrations"
    scope = "events:write"
    keys = ("event_external_id",)
    unique = ("participant",)
    aliases = REGISTRATION_ALIASES
    required = ("event_external_id",)
    schema = RegistrationCreate()
    refs_schema = _Refs()

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        values: dict[str, Any] = {}
        try:
            values.update(
                {
                    name: value
                    for name, value in self.refs_schema.load(
                        row_input(self.refs_schema, cells, headers.fields)
                    ).items()
                    if value
                }
            )
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        body = row_input(self.schema, cells, headers.fields)
        body = {name: value for name, value in body.items() if value is not None}
        has_contact = any(
            header in cells and str(cells[header] or "").strip()
            for header, name in headers.fields.items()
            if name == "contact_email"
        )
        if has_contact:
            body["contact_id"] = str(_SOME_CONTACT)
        try:
            loaded = self.schema.load(body)
            loaded.pop("contact_id", None)
            values.update(loaded)
        except ma.ValidationError as exc:
            messages = dict(exc.messages_dict)
            if "contact_id" in messages:
                messages["contact_email"] = messages.pop("contact_id")
            errors.update(messages)
        if participant := _participant(values):
            values["participant"] = (values.get("event_external_id"), *participant)
        if errors:
            raise ma.ValidationError(errors, valid_data=values)
        return values

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        events = _events(session, rows)
        contacts = _contacts(session, rows)
        members = _members(session, rows)
        found = _matching(session, events.values(), contacts.values(), rows)
        now = utcnow()
        for row in rows:
            values = row.values
            try:
                event = events.get(values["event_external_id"])
                if event is None:
                    raise InvalidInput({"event_external_id": ["No event with this external_id."]})
                fields = _fields(values, contacts, members)
                registration = found.get(_key(event.id, fields, values))
                if registration is not None and options.mode == "create":
                    raise Conflict("Already registered for this event.", field="contact_email")
                if registration is None:
                    stage_registration(session, event, fields, now=now)
                    session.flush()  # the next row counts this one's seat
                    row.status = "created"
                else:
                    row.status = _update(registration, fields)
            except (InvalidInput, Conflict) as exc:
                if isinstance(exc, InvalidInput):
                    pairs = [(name, m) for name, msgs in exc.errors.items() for m in msgs]
                else:
                    pairs = [(exc.field, exc.detail)]
                for name, message in pairs:
                    row.fail(_column(values, name), message)


def _column(values: Mapping[str, Any], field: str | None) -> str | None:
    if field == "contact_id":
        return "contact_email"
    if field == "member_id":
        return "member_external_id" if values.get("member_external_id") else "member_siren"
    if field == "event":
        return "event_external_id"
    return field


def _fields(
    values: Mapping[str, Any], contacts: Mapping[str, Contact], members: Mapping[Any, Any]
) -> dict[str, Any]:
    """The service's fields: the contact and the member by id."""
    fields = {
        name: values[name]
        for name in ("guest_name", "guest_email", "guest_organisation", "guest_category", "role")
        if name in values
    }
    if "notes" in values:
        fields["notes"] = values["notes"]
    if email := values.get("contact_email"):
        contact = contacts.get(_email(email) or email)
        if contact is None:
            raise InvalidInput({"contact_email": ["No active contact with this e-mail."]})
        fields["contact_id"] = contact.id
    member = _member_of(values, members)
    if member is not None:
        fields["member_id"] = member.id
    return fields


def _key(event_id: uuid.UUID, fields: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    if fields.get("contact_id") is not None:
        return (event_id, "contact", fields["contact_id"])
    participant = _participant(values)
    return (event_id, *participant) if participant else None


def _update(registration: Registration, fields: Mapping[str, Any]) -> str:
    if (fields.get("role") or "attendee") != registration.role:
        raise Conflict(
            "A registration's role is fixed; cancel it and register again.", field="role"
        )
    if "notes" in fields and fields["notes"] != registration.notes:
        registration.notes = fields["notes"]
        return "updated"
    return "unchanged"


def _events(session: Session, rows: list[Row]) -> dict[str, Event]:
    """The chunk's events, locked (the seats are counted one row after the other)."""
    wanted = {row.values["event_external_id"] for row in rows}
    stmt = (
        select(Event)
        .where(Event.external_id.in_(wanted))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {event.external_id: event for event in session.scalars(stmt) if event.external_id}


def _contacts(session: Session, rows: list[Row]) -> dict[str, Contact]:
    emails = {e for row in rows if (e := _email(row.values.get("contact_email")))}
    if not emails:
        return {}
    stmt = select(Contact).where(Contact.email.in_(emails), Contact.archived_at.is_(None))
    return {contact.email: contact for contact in session.scalars(stmt) if contact.email}


def _matching(session: Session, events: Any, contacts: Any, rows: list[Row]) -> dict[Any, Any]:
    """The chunk's active registrations to its events, by participant."""
    event_ids = [event.id for event in events]
    if not event_ids:
        return {}
    contact_ids = [contact.id for contact in contacts]
    guest_emails = [row.values["guest_email"] for row in rows if row.values.get("guest_email")]
    guest_names = [row.values["guest_name"] for row in rows if row.values.get("guest_name")]
    stmt = select(Registration).where(
        Registration.event_id.in_(event_ids),
        Registration.status != RegistrationStatus.CANCELLED,
        or_(
            Registration.contact_id.in_(contact_ids),
            Registration.guest_email.in_(guest_emails),
            Registration.guest_name.in_(guest_names),
        ),
    )
    found: dict[Any, Registration] = {}
    for registration in session.scalars(stmt):
        event_id = registration.event_id
        if registration.contact_id is not None:
            found[(event_id, "contact", registration.contact_id)] = registration
            continue
        if registration.guest_email:
            found[(event_id, "guest_email", registration.guest_email)] = registration
        if registration.guest_name:
            org = registration.guest_organisation or ""
            found.setdefault((event_id, "guest_name", registration.guest_name, org), registration)
    return found
