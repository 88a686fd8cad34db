"""Bodies and query arguments of ``/contacts`` (people; personal data under the GDPR)."""

from typing import Any

import marshmallow as ma

from models import AffiliationRole, PhoneKind
from schemas.affiliations import AffiliationOut
from schemas.common import (
    ArchiveFilters,
    AwareDateTime,
    ListQuery,
    OrderedList,
    page_of,
    sort_field,
)
from schemas.fields import BoundedList, Email, Phone, SearchText, Text, TrimmedString

PHONE_KINDS = [kind.value for kind in PhoneKind]
ROLES = [role.value for role in AffiliationRole]
# ISO 639-1 codes of the languages a cluster in France is likely to write to its contacts in.
LANGUAGES = [
    "fr", "en", "de", "es", "it", "pt", "nl", "ar", "zh", "ja", "ko", "ru", "pl", "ro", "el",
    "sv", "da", "fi", "nb", "cs", "hu", "tr", "he", "uk", "ca", "eu", "br", "co", "oc", "hi",
]  # fmt: skip
MAX_PHONES = 10
NAME = ma.validate.Length(min=1, max=100)
NOTES = ma.validate.Length(max=10_000)
EXTERNAL_ID = ma.validate.Length(min=1, max=100)
REASON = ma.validate.Length(max=500)


class ContactPhone(ma.Schema):
    """A phone number and what kind of line it is."""

    number = Phone(required=True)
    kind = ma.fields.String(
        load_default=PhoneKind.WORK.value, validate=ma.validate.OneOf(PHONE_KINDS)
    )


def _phones(**kwargs: Any) -> ma.fields.List:
    return BoundedList(ma.fields.Nested(ContactPhone), max_items=MAX_PHONES, **kwargs)


def _primary_then_recorded(affiliation: Any) -> tuple[bool, Any, Any]:
    """A contact's affiliations, the primary first, then in the order they were recorded."""
    return (not affiliation.is_primary, affiliation.created_at, affiliation.id)


class ContactOut(ma.Schema):
    """A contact with its affiliations."""

    id = ma.fields.UUID(dump_only=True)
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    phones = ma.fields.List(ma.fields.Nested(ContactPhone))
    preferred_language = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    external_id = ma.fields.String(allow_none=True)
    is_archived = ma.fields.Function(
        lambda contact: contact.archived_at is not None, metadata={"type": "boolean"}
    )
    archived_at = AwareDateTime(allow_none=True)
    archive_reason = ma.fields.String(allow_none=True)
    restored_at = AwareDateTime(allow_none=True)
    restore_reason = ma.fields.String(allow_none=True)
    affiliations = OrderedList(ma.fields.Nested(AffiliationOut), sort_key=_primary_then_recorded)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class _AffiliationWithTheMember(ma.fields.Nested):
    """The one affiliation a member's contact list loads: the one with that member."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(AffiliationOut, attribute="affiliations", **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(value[0] if value else None, attr, obj, **kwargs)


class MemberContactOut(ContactOut):
    """A contact of one member, with its affiliation to that member."""

    class Meta:
        exclude = ("affiliations",)

    affiliation = _AffiliationWithTheMember()


class ContactCreate(ma.Schema):
    """A new contact."""

    first_name = TrimmedString(required=True, validate=NAME)
    last_name = TrimmedString(required=True, validate=NAME)
    email = Email(load_default=None, allow_none=True)
    phones = _phones(load_default=list)
    preferred_language = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.OneOf(LANGUAGES)
    )
    notes = TrimmedString(load_default=None, allow_none=True, validate=NOTES)
    external_id = TrimmedString(load_default=None, allow_none=True, validate=EXTERNAL_ID)


class ContactUpsert(ContactCreate):
    """The whole contact, as an importer knows it; fields left out take their defaults."""

    class Meta:
        exclude = ("external_id",)


class ContactPatch(ma.Schema):
    """Fields of a contact to change; send only those that change."""

    first_name = TrimmedString(validate=NAME)
    last_name = TrimmedString(validate=NAME)
    email = Email(allow_none=True)
    phones = _phones()
    preferred_language = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(LANGUAGES))
    notes = TrimmedString(allow_none=True, validate=NOTES)
    external_id = TrimmedString(allow_none=True, validate=EXTERNAL_ID)


class ContactArchive(ma.Schema):
    """Why a contact is archived (optional)."""

    reason = TrimmedString(load_default=None, allow_none=True, validate=REASON)


class MemberContactQuery(ArchiveFilters, ListQuery):
    """Filters of a member's contact list."""

    sort = sort_field("last_name", "created_at", "updated_at", default="last_name")
    q = SearchText(description="Search in names and e-mail, ignoring case and accents.")
    role = ma.fields.String(
        validate=ma.validate.OneOf(ROLES),
        metadata={"description": "Only contacts holding this role in an affiliation."},
    )


class ContactQuery(MemberContactQuery):
    """Filters of the contact list."""

    member_id = ma.fields.UUID(
        metadata={"description": "Only contacts affiliated with this member (with `role`: in it)."}
    )
    external_id = Text(validate=EXTERNAL_ID)


ContactPage = page_of(ContactOut, "ContactPage")
MemberContactPage = page_of(MemberContactOut, "MemberContactPage")
