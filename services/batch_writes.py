"""How one item of a batch is written: an upsert by its ``external_id`` when it has one
(the natural key importers know records by), else a create."""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from services.contacts import create_contact, upsert_contact
from services.members import create_member, upsert_member_by_external_id


def write_member_item(session: Session, item: dict[str, Any]) -> tuple[uuid.UUID, bool]:
    """Create or update one member; returns its id and whether it was created."""
    fields = dict(item)
    external_id = fields.pop("external_id", None)
    if external_id is None:
        return create_member(session, **fields).id, True
    member, created = upsert_member_by_external_id(session, external_id=external_id, fields=fields)
    return member.id, created


def write_contact_item(session: Session, item: dict[str, Any]) -> tuple[uuid.UUID, bool]:
    """Create or replace one contact; returns its id and whether it was created."""
    values = dict(item)
    external_id = values.pop("external_id", None)
    if external_id is None:
        return create_contact(session, **values).id, True
    contact, created = upsert_contact(
        session, external_id=external_id, values=values, if_match=None
    )
    return contact.id, created
