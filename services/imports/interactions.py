"""Importing interactions: the rows of ``POST /interactions`` (``InteractionCreate``), matched
on ``external_id``, under the interaction service's rules (owner and participants active staff
users, links to existing members and contacts, confidentiality).

A row names its members by ``member_external_ids`` or ``member_sirens`` and its contacts by
``contact_emails`` (active contacts) or ``contact_external_ids`` (several values separated by
``,``, ``;`` or ``|``), its owner by ``owner_email`` (default: the user importing). A created
interaction has ``source`` ``import``. ``occurred_at`` is ISO 8601 or ``DD/MM/YYYY [HH:MM]``;
without an offset it is Paris time. A found interaction gets the columns the file has; links
already there keep their role. A confidential interaction the importer may not see is refused
as the API refuses it (409 on its ``external_id``, without pointing at it).
"""

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from models import Contact, Interaction, Member, User
from models.types import utcnow
from schemas.interactions import InteractionCreate
from services.emails import normalize_email
from services.errors import Conflict, InvalidInput
from services.imports.columns import HeaderMatch, row_input
from services.imports.runner import ImportOptions, Row
from services.interactions import _apply, _check_links, _check_users, _duplicate, visible_to
from services.journal import current_origin

INTERACTION_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("identifiant externe", "id externe", "reference", "ref", "external id"),
    "kind": ("nature", "genre"),
    "type": ("type d interaction", "type d echange", "interaction type"),
    "channel": ("canal", "moyen"),
    "subject": ("objet", "sujet", "titre", "title"),
    "notes": ("compte rendu", "commentaire", "remarques", "comments"),
    "outcome": ("resultat", "suite donnee", "result"),
    "minutes_spent": ("duree", "duree en minutes", "temps passe", "minutes", "duration"),
    "occurred_at": ("date", "date et heure", "le", "date de l echange", "when", "occurred on"),
    "confidential": ("confidentiel", "private"),
    "follow_up_due": ("relance le", "date de relance", "relance", "follow up", "follow up on"),
    "owner_email": (
        "responsable", "courriel du responsable", "suivi par", "owner", "owner e mail",
    ),
    "member_external_ids": (
        "reference adherent", "references adherents", "member reference", "member external id",
    ),
    "member_sirens": ("siren", "sirens", "siren adherent", "member siren"),
    "contact_emails": (
        "courriel contact", "courriels contacts", "contact", "contacts", "contact e mail",
        "contact email", "email", "courriel",
    ),
    "contact_external_ids": ("reference contact", "contact reference", "contact external id"),
}  # fmt: skip
_FIELDS = (
    "external_id", "kind", "type", "channel", "subject", "notes", "outcome", "minutes_spent",
    "occurred_at", "confidential", "follow_up_due",
)  # fmt: skip
_PARIS = ZoneInfo("Europe/Paris")
_FRENCH_MOMENT = re.compile(
    r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?\s*$"
)
_NO_LINKS = "Link the interaction to at least one member or contact."


def _moment(value: Any) -> Any:
    """A spreadsheet's date and time as ISO 8601 with an offset (Paris time when it has none);
    anything else as is, for the schema to judge."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and (match := _FRENCH_MOMENT.match(value)):
        day, month, year, hour, minute, second = match.groups()
        try:
            moment = dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    else:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_PARIS)
    return moment.isoformat()


class _Refs(ma.Schema):
    """How a row names its members, contacts and owner."""

    member_external_ids = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 100)))
    member_sirens = ma.fields.List(ma.fields.String(validate=ma.validate.Length(equal=9)))
    contact_emails = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 254)))
    contact_external_ids = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 100)))
    owner_email = ma.fields.String(allow_none=True, validate=ma.validate.Length(1, 254))


_REF_FIELDS = tuple(_Refs().fields)


class InteractionImporter:
    """Interactions, matched on ``external_id``; links named by natural keys."""

    resource = "interactions"
    scope = "interactions:write"
    keys = ("external_id",)
    unique = ("external_id",)
    aliases = INTERACTION_ALIASES
    required = ("kind", "type", "subject", "occurred_at")
    schema = InteractionCreate()
    refs_schema = _Refs()

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        present = set(headers.fields.values())
        body = row_input(self.schema, cells, headers.fields)
        if "occurred_at" in body:
            body["occurred_at"] = _moment(body["occurred_at"])
        errors: dict[str, Any] = {}
        try:
            loaded = self.schema.load(body)
        except ma.ValidationError as exc:
            messages = dict(exc.messages_dict)
            if messages.get("members") == [_NO_LINKS]:  # the links are the refs' columns
                del messages["members"]
            errors.update(messages)
            loaded = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        values = {name: value for name, value in loaded.items() if name in _FIELDS}
        values = {name: value for name, value in values.items() if name in present}
        try:
            refs = self.refs_schema.load(row_input(self.refs_schema, cells, headers.fields))
            values.update({name: value for name, value in refs.items() if value})
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        if not errors and not any(values.get(name) for name in _REF_FIELDS[:4]):
            first = next((n for n in _REF_FIELDS[:4] if n in present), "member_external_ids")
            errors[first] = [_NO_LINKS]
        if errors:
            raise ma.ValidationError(errors, valid_data=values)
        return values

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        actor_id = current_origin().actor_user_id
        actor = session.get(User, actor_id) if actor_id else None
        found = _matching(session, rows)
        refs = _Lookups(session, rows)
        for row in rows:
            interaction = found.get(row.values["external_id"])
            try:
                if interaction is not None and options.mode == "create":
                    raise Conflict(
                        "An interaction already has this external_id.", field="external_id"
                    )
                fields = refs.fields(row.values, interaction)
                if interaction is None:
                    row.status = _create(session, actor, fields)
                else:
                    if actor is not None and not _visible(session, actor, interaction):
                        raise _duplicate(session, actor, interaction.external_id)
                    row.status = _update(session, interaction, fields)
            except (InvalidInput, Conflict) as exc:
                if isinstance(exc, InvalidInput):
                    pairs = [(name, m) for name, msgs in exc.errors.items() for m in msgs]
                else:
                    pairs = [(exc.field, exc.detail)]
                for name, message in pairs:
                    row.fail(refs.column_of(row.values, name), message)


def _visible(session: Session, actor: User, interaction: Interaction) -> bool:
    stmt = select(Interaction.id).where(Interaction.id == interaction.id, visible_to(actor))
    return session.scalar(stmt) is not None


def _create(session: Session, actor: User | None, fields: dict[str, Any]) -> str:
    """``create_interaction``'s checks and writes, without its commit."""
    values = {"source": "import", **fields}
    if values.get("owner_id") is None:
        if actor is None:
            raise InvalidInput({"owner_email": ["Name the owner (no user is importing)."]})
        values["owner_id"] = actor.id
    _check_users(session, values)
    _check_links(session, values)
    interaction = Interaction(members=[], contacts=[], participants=[], follow_up_done=False)
    with session.no_autoflush:
        _apply(interaction, values)
    session.add(interaction)
    return "created"


def _update(session: Session, interaction: Interaction, fields: dict[str, Any]) -> str:
    """``update_interaction``'s checks and writes, without its commit."""
    _check_users(session, fields)
    _check_links(session, fields)
    with session.no_autoflush:
        _apply(interaction, fields)
    if not session.is_modified(interaction, include_collections=True):
        return "unchanged"
    interaction.updated_at = utcnow()
    return "updated"


def _matching(session: Session, rows: list[Row]) -> dict[str, Interaction]:
    values = [row.values["external_id"] for row in rows if row.values.get("external_id")]
    if not values:
        return {}
    stmt = (
        select(Interaction)
        .where(Interaction.external_id.in_(values))
        .options(
            selectinload(Interaction.members),
            selectinload(Interaction.contacts),
            selectinload(Interaction.participants),
        )
    )
    return {interaction.external_id: interaction for interaction in session.scalars(stmt)}


def _email(address: str) -> str | None:
    try:
        return normalize_email(address)
    except ValueError:
        return None


class _Lookups:
    """The members, contacts and users the chunk's rows name: one query each."""

    def __init__(self, session: Session, rows: list[Row]) -> None:
        def all_of(name: str) -> set[str]:
            return {value for row in rows for value in row.values.get(name) or ()}

        external_ids, sirens = all_of("member_external_ids"), all_of("member_sirens")
        self.members: dict[tuple[str, str], Member] = {}
        if external_ids or sirens:
            stmt = select(Member).where(
                or_(Member.external_id.in_(external_ids), Member.siren.in_(sirens))
            )
            for member in session.scalars(stmt):
                self.members[("member_external_ids", member.external_id or "")] = member
                self.members[("member_sirens", member.siren or "")] = member
        emails = {e for e in map(_email, all_of("contact_emails")) if e}
        contact_ids = all_of("contact_external_ids")
        self.contacts: dict[tuple[str, str], Contact] = {}
        if emails or contact_ids:
            stmt = select(Contact).where(
                or_(
                    Contact.email.in_(emails) & Contact.archived_at.is_(None),
                    Contact.external_id.in_(contact_ids),
                )
            )
            for contact in session.scalars(stmt):
                if contact.email and contact.archived_at is None:
                    self.contacts[("contact_emails", contact.email)] = contact
                if contact.external_id:
                    self.contacts[("contact_external_ids", contact.external_id)] = contact
        owners = {e for row in rows if (e := _email(row.values.get("owner_email") or ""))}
        self.users: dict[str, User] = {}
        if owners:
            for user in session.scalars(select(User).where(User.email.in_(owners))):
                self.users[user.email] = user

    @staticmethod
    def column_of(values: Mapping[str, Any], field: str | None) -> str | None:
        """The column that named what the service refused."""
        if field == "members":
            return "member_external_ids" if values.get("member_external_ids") else "member_sirens"
        if field == "contacts":
            return "contact_emails" if values.get("contact_emails") else "contact_external_ids"
        if field == "owner_id":
            return "owner_email"
        return field

    def fields(self, values: Mapping[str, Any], found: Interaction | None) -> dict[str, Any]:
        """The service's fields for the row: links by id (those already there keep their
        role), the owner by id; an unknown reference is a 422 naming its column."""
        fields = {name: values[name] for name in _FIELDS if name in values}
        errors: dict[str, list[str]] = {}
        for kind, names, lookup in (
            ("member", ("member_external_ids", "member_sirens"), self.members),
            ("contact", ("contact_emails", "contact_external_ids"), self.contacts),
        ):
            ids: list[Any] = []
            for name in names:
                for value in values.get(name) or ():
                    key = (_email(value) or value) if name == "contact_emails" else value
                    record = lookup.get((name, key))
                    if record is None:
                        errors.setdefault(name, []).append(f"No {kind} {value!r}.")
                    elif record.id not in ids:
                        ids.append(record.id)
            if not any(name in values for name in names):
                continue
            roles = {}
            if found is not None:
                links = found.members if kind == "member" else found.contacts
                roles = {getattr(link, f"{kind}_id"): link.role for link in links}
            fields[f"{kind}s"] = [
                {f"{kind}_id": id_, "role": roles.get(id_, "participant")} for id_ in ids
            ]
            if found is not None and {
                (getattr(link, f"{kind}_id"), link.role)
                for link in (found.members if kind == "member" else found.contacts)
            } == {(link[f"{kind}_id"], link["role"]) for link in fields[f"{kind}s"]}:
                del fields[f"{kind}s"]  # the same links: left as they are
        if owner := values.get("owner_email"):
            user = self.users.get(_email(owner) or owner)
            if user is None:
                errors["owner_email"] = [f"No user {owner!r}."]
            else:
                fields["owner_id"] = user.id
        if errors:
            raise InvalidInput(errors)
        return fields
