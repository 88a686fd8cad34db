"""Importing contacts with their affiliation: the fields of ``POST /contacts``
(``ContactCreate``) and, when the row names a member (by its external_id or SIREN), those of
``POST /contacts/{id}/affiliations`` (``AffiliationCreate``), under the contact and
affiliation services' rules.

Rows are matched on the e-mail address (among active contacts) or on ``external_id``. Only the
columns the file has are written, so a file without phone numbers leaves them alone. A contact
already affiliated with the member has that affiliation updated; otherwise one is added. The
unit of work writes the rows, so the journal records contacts and affiliations as the API does.
"""

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from models import Affiliation, Contact, Member
from models.types import utcnow
from schemas.affiliations import AffiliationCreate
from schemas.contacts import ContactCreate
from services.affiliations import _active_member, _demote_other_primary
from services.contacts import _assign, _check_unique, touch_contact
from services.emails import canonical_email
from services.errors import Conflict, InvalidInput
from services.imports.columns import HeaderMatch, row_input
from services.imports.loading import compiled_loader
from services.imports.runner import ImportOptions, Row

CONTACT_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("prenom", "first name", "given name"),
    "last_name": ("nom", "nom de famille", "last name", "surname", "family name"),
    "email": ("courriel", "e mail", "mail", "adresse e mail", "adresse email", "email address"),
    "phones": ("telephone", "tel", "phone", "portable", "mobile"),
    "preferred_language": ("langue", "language"),
    "notes": ("commentaire", "remarques", "comments"),
    "external_id": ("identifiant externe", "id externe", "reference", "ref", "external id"),
    "member_external_id": ("reference adherent", "reference membre", "member reference"),
    "member_siren": ("siren", "siren adherent", "siren de l entreprise", "member siren"),
    "job_title": ("fonction", "poste", "titre", "job title", "position"),
    "roles": ("roles", "role"),
    "is_primary": ("contact principal", "principal", "primary"),
    "start_date": ("date de debut", "debut", "start date"),
    "end_date": ("date de fin", "fin", "end date"),
}
_AFFILIATION_FIELDS = ("job_title", "roles", "is_primary", "start_date", "end_date")


class _MemberRefs(ma.Schema):
    """How a row names the member its contact works for."""

    member_external_id = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=1, max=100)
    )
    member_siren = ma.fields.String(allow_none=True, validate=ma.validate.Length(equal=9))


class ContactImporter:
    """Contacts, matched on ``email`` (default) or ``external_id``, with an affiliation."""

    resource = "contacts"
    scope = "contacts:write"
    keys = ("email", "external_id")
    unique = ("email", "external_id")
    aliases = CONTACT_ALIASES
    required = ("first_name", "last_name")
    contact_schema = ContactCreate()
    affiliation_schema = AffiliationCreate()
    member_schema = _MemberRefs()
    # Loaded by their compiled loaders (tests compare them with ``schema.load``).
    compiled_schemas = ("contact_schema", "member_schema")

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        present = set(headers.fields.values())
        body = row_input(self.contact_schema, cells, headers.fields)
        if isinstance(body.get("phones"), list):
            body["phones"] = [{"number": number} for number in body["phones"]]
        errors: dict[str, Any] = {}
        values: dict[str, Any] = {}
        try:
            loaded = compiled_loader(self.contact_schema)(body)
            values = {name: value for name, value in loaded.items() if name in present}
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        try:
            refs = compiled_loader(self.member_schema)(
                row_input(self.member_schema, cells, headers.fields)
            )
            values.update({name: value for name, value in refs.items() if value})
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        if values.get("member_external_id") or values.get("member_siren"):
            affiliation = row_input(self.affiliation_schema, cells, headers.fields)
            try:
                loaded = self.affiliation_schema.load(affiliation, partial=("member_id",))
                values["affiliation"] = {
                    name: value for name, value in loaded.items() if name in present
                }
            except ma.ValidationError as exc:
                errors.update(exc.messages_dict)
        if errors:
            raise ma.ValidationError(errors, valid_data=values)
        return values

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        key = options.key or self.keys[0]
        found = _matching(session, rows, key)
        members = _members(session, rows)
        for row in rows:
            contact = found.get(row.values.get(key))
            if contact is not None and options.mode == "create":
                row.fail(key, f"A contact with this {key} already exists (id {contact.id}).")
                continue
            try:
                member = _member_of(row.values, members)
                row.status = self._stage(session, contact, row.values, member)
            except (InvalidInput, Conflict) as exc:
                for field_name, messages in _messages(exc).items():
                    for message in messages:
                        row.fail(field_name, message)

    @staticmethod
    def _stage(
        session: Session, contact: Contact | None, values: dict[str, Any], member: Member | None
    ) -> str:
        fields = {name: value for name, value in values.items() if name in CONTACT_ALIASES}
        created = contact is None
        if contact is None:
            contact = Contact(affiliations=[])
            session.add(contact)
        with session.no_autoflush:
            _assign(contact, fields)
            _check_unique(session, contact)
            changed = created or session.is_modified(contact, include_collections=False)
            if member is not None:
                _active_member(session, member.id)
                affiliation = next(
                    (a for a in contact.affiliations if a.member_id == member.id), None
                )
                wanted = values.get("affiliation", {})
                if affiliation is None:
                    affiliation = Affiliation(member=member, contact=contact)
                    session.add(affiliation)
                for name in _AFFILIATION_FIELDS:
                    if name in wanted:
                        value = (
                            list(dict.fromkeys(wanted[name])) if name == "roles" else wanted[name]
                        )
                        setattr(affiliation, name, value)
                if affiliation.is_primary:
                    _demote_other_primary(session, contact, keep=affiliation)
                if affiliation not in session.new and not session.is_modified(affiliation):
                    affiliation_changed = False
                else:
                    affiliation_changed = True
                if affiliation_changed and not created:
                    touch_contact(contact)
                    changed = True
        if created:
            return "created"
        if changed:
            contact.updated_at = utcnow()
            return "updated"
        return "unchanged"


def _messages(exc: InvalidInput | Conflict) -> dict[str | None, list[str]]:
    if isinstance(exc, InvalidInput):
        return {
            "member" if name == "member_id" else name: msgs for name, msgs in exc.errors.items()
        }
    return {exc.field: [exc.detail]}


def _matching(session: Session, rows: list[Row], key: str) -> dict[Any, Contact]:
    """The contacts the rows match, with their affiliations: one query for the chunk."""
    values = [row.values[key] for row in rows if row.values.get(key)]
    if not values:
        return {}
    if key == "email":
        values = [canonical_email(value) for value in values]
        stmt = select(Contact).where(Contact.email.in_(values), Contact.archived_at.is_(None))
    else:
        stmt = select(Contact).where(Contact.external_id.in_(values))
    stmt = stmt.options(selectinload(Contact.affiliations))
    found = {getattr(contact, key): contact for contact in session.scalars(stmt)}
    if key == "email":
        return {
            row.values[key]: found.get(canonical_email(row.values[key]))
            for row in rows
            if row.values.get(key) and canonical_email(row.values[key]) in found
        }
    return found


def _members(session: Session, rows: list[Row]) -> dict[tuple[str, str], Member]:
    """The members the rows name, by ("external_id" | "siren", value): one query."""
    external_ids = [
        row.values["member_external_id"] for row in rows if row.values.get("member_external_id")
    ]
    sirens = [row.values["member_siren"] for row in rows if row.values.get("member_siren")]
    if not external_ids and not sirens:
        return {}
    stmt = select(Member).where(or_(Member.external_id.in_(external_ids), Member.siren.in_(sirens)))
    members: dict[tuple[str, str], Member] = {}
    for member in session.scalars(stmt):
        if member.external_id:
            members[("external_id", member.external_id)] = member
        if member.siren:
            members[("siren", member.siren)] = member
    return members


def _member_of(
    values: Mapping[str, Any], members: Mapping[tuple[str, str], Member]
) -> Member | None:
    for field, kind in (("member_external_id", "external_id"), ("member_siren", "siren")):
        value = values.get(field)
        if value:
            member = members.get((kind, value))
            if member is None:
                raise InvalidInput({field: [f"No member with this {kind}."]})
            return member
    return None
