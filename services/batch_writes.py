"""How one item of a batch is written: an upsert by its natural key, else a create.

The natural keys are those importers know records by: a member's ``external_id``, else its
SIREN; a contact's ``external_id``, else its e-mail address among active contacts. An item
whose key matches no record creates one; an item without any key always creates.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contact, Member
from services.contacts import create_contact, update_contact, upsert_contact
from services.emails import canonical_email
from services.errors import Conflict
from services.members import create_member, update_member, upsert_member_by_external_id


def write_member_item(session: Session, item: dict[str, Any]) -> tuple[uuid.UUID, bool]:
    """Create or update one member; returns its id and whether it was created."""
    fields = dict(item)
    external_id = fields.pop("external_id", None)
    if external_id is not None:
        member, created = upsert_member_by_external_id(
            session, external_id=external_id, fields=fields
        )
        return member.id, created
    siren = fields.get("siren")
    by_siren = select(Member.id).where(Member.siren == siren)
    existing = session.scalar(by_siren) if siren else None
    if existing is None:
        try:
            return create_member(session, **fields).id, True
        except Conflict as exc:
            # Another writer took the SIREN since the lookup: update that member instead.
            existing = session.scalar(by_siren) if siren and exc.field == "siren" else None
            if existing is None:
                raise
    return update_member(session, member_id=existing, changes=fields, if_match=None).id, False


def write_contact_item(session: Session, item: dict[str, Any]) -> tuple[uuid.UUID, bool]:
    """Create or update one contact; returns its id and whether it was created."""
    values = dict(item)
    external_id = values.pop("external_id", None)
    if external_id is not None:
        contact, created = upsert_contact(
            session, external_id=external_id, values=values, if_match=None
        )
        return contact.id, created
    email = canonical_email(values["email"]) if values.get("email") else None
    by_email = select(Contact.id).where(Contact.email == email, Contact.archived_at.is_(None))
    existing = session.scalar(by_email) if email else None
    if existing is None:
        try:
            return create_contact(session, **values).id, True
        except Conflict as exc:
            # Another writer took the e-mail since the lookup: update that contact instead.
            existing = session.scalar(by_email) if email and exc.field == "email" else None
            if existing is None:
                raise
    return update_contact(session, contact_id=existing, changes=values, if_match=None).id, False
