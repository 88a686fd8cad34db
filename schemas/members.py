"""Bodies and query arguments of ``/members``.

Syntax is checked here (identifiers with python-stdnum, e-mail, phone, postal code); rules
that need the database (duplicates, domain codes, parent organisation) are the service's.
"""

from datetime import date
from typing import Any

import marshmallow as ma

from models import HEADCOUNT_BANDS, MemberCategory, MembershipStatus
from schemas.common import (
    MAY_BE_ABSENT,
    ArchiveFilters,
    AwareDateTime,
    ListQuery,
    page_of,
    sort_field,
)
from schemas.fields import (
    BoundedList,
    Email,
    Phone,
    QueryFlag,
    SearchText,
    Siren,
    Siret,
    Text,
    TrimmedString,
    VatNumber,
    Website,
)
from services.geography import DEPARTEMENTS, departement_of
from services.identifiers import identifier_mismatches
from services.member_memberships import member_since, membership_summary

CATEGORIES = [category.value for category in MemberCategory]
EXTERNAL_ID = ma.validate.Length(min=1, max=100)
FRENCH_POSTAL_CODE = "Not a French postal code: five digits starting with a département number."


def _not_in_the_future(year: int) -> None:
    if not 1800 <= year <= date.today().year:
        raise ma.ValidationError(f"Must be between 1800 and {date.today().year}.")


MEMBERSHIP_STATUSES = [status.value for status in MembershipStatus]


class CountryCode(TrimmedString):
    """An ISO 3166-1 alpha-2 country code, upper-cased."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).upper()


def _optional(field: type[ma.fields.Field], **kwargs: Any) -> ma.fields.Field:
    """An optional field that ``null`` clears."""
    return field(allow_none=True, **kwargs)


class MemberFields(ma.Schema):
    """Every writable field of a member; the create, patch and upsert bodies derive from it."""

    name = TrimmedString(validate=ma.validate.Length(min=1, max=200))
    legal_name = _optional(TrimmedString, validate=ma.validate.Length(max=200))
    category = ma.fields.String(validate=ma.validate.OneOf(CATEGORIES))
    siren = _optional(Siren)
    siret = _optional(Siret, metadata={"description": "Head-office SIRET; starts with the SIREN."})
    vat_number = _optional(VatNumber)
    headcount_band = _optional(
        ma.fields.String,
        validate=ma.validate.OneOf(HEADCOUNT_BANDS),
        metadata={"description": "INSEE head-count band code (tranche d'effectif salarié)."},
    )
    # strict: 1999.5 is not a year (the default would truncate it) and neither is "1999".
    year_founded = _optional(ma.fields.Integer, strict=True, validate=_not_in_the_future)
    website = _optional(Website)
    email = _optional(Email)
    phone = _optional(Phone)
    street = _optional(TrimmedString, validate=ma.validate.Length(max=300))
    postal_code = _optional(
        TrimmedString,
        validate=ma.validate.Length(min=1, max=10),
        metadata={"description": "French addresses: five digits of a real département."},
    )
    city = _optional(TrimmedString, validate=ma.validate.Length(max=100))
    country = CountryCode(
        validate=ma.validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code."),
        metadata={"description": "ISO 3166-1 alpha-2; FR when not given."},
    )
    description = _optional(TrimmedString, validate=ma.validate.Length(max=5000))
    parent_id = _optional(
        ma.fields.UUID,
        metadata={"description": "Parent organisation (group, supervising institution)."},
    )
    domains = BoundedList(
        Text(validate=ma.validate.Length(min=1, max=50)),
        max_items=50,
        metadata={"description": "Codes of domains of activity (see `/domains`)."},
    )

    @ma.validates_schema
    def check_identifiers_agree(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """The SIRET and a French VAT number must contain the SIREN sent with them."""
        errors = identifier_mismatches(
            siren=data.get("siren"), siret=data.get("siret"), vat_number=data.get("vat_number")
        )
        if errors:
            raise ma.ValidationError(errors)  # type: ignore[arg-type]

    # The country a body without ``country`` means: FR for a new member; unknown for a patch
    # (the stored country counts, and the service checks the record as it will be saved).
    country_when_absent: str | None = None

    @ma.validates_schema
    def check_french_postal_code(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """A French address needs a real French postal code."""
        postal_code = data.get("postal_code")
        country = data.get("country", self.country_when_absent)
        if postal_code and country == "FR" and not departement_of(postal_code):
            raise ma.ValidationError(FRENCH_POSTAL_CODE, field_name="postal_code")


class MemberCreate(MemberFields):
    """A new member."""

    country_when_absent = "FR"
    name = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=200))
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    external_id = _optional(TrimmedString, validate=EXTERNAL_ID)


class MemberPatch(MemberFields):
    """Fields of a member to change; send only those that change (`null` clears a field)."""

    external_id = _optional(TrimmedString, validate=EXTERNAL_ID)


class MemberUpsert(MemberFields):
    """A member sent by an importer, identified by the `external_id` in the path.

    On creation the body is the new member; on update only the fields sent change.
    """

    name = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=200))
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))


class MemberArchive(ma.Schema):
    """Why the member is archived."""

    reason = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=500))


class DomainRef(ma.Schema):
    code = ma.fields.String()
    label = ma.fields.String()


class MemberRef(ma.Schema):
    """A member named in another record (a parent, an affiliation): its id and name."""

    id = ma.fields.UUID()
    name = ma.fields.String()


class MemberOut(ma.Schema):
    """A member, with what a list row shows (domains, contact count, parent)."""

    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String()
    legal_name = ma.fields.String(allow_none=True)
    category = ma.fields.String(metadata={"enum": CATEGORIES})
    siren = ma.fields.String(allow_none=True)
    siret = ma.fields.String(allow_none=True)
    vat_number = ma.fields.String(allow_none=True)
    headcount_band = ma.fields.String(allow_none=True)
    year_founded = ma.fields.Integer(allow_none=True)
    website = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "E.164."})
    street = ma.fields.String(allow_none=True)
    postal_code = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    country = ma.fields.String()
    departement = ma.fields.String(
        allow_none=True, metadata={"description": "Derived from a French postal code."}
    )
    description = ma.fields.String(allow_none=True)
    parent = ma.fields.Nested(MemberRef, allow_none=True)
    domains = ma.fields.List(ma.fields.Nested(DomainRef))
    contacts_count = ma.fields.Integer(
        metadata={"description": "Contacts with a current affiliation to this member."}
    )
    external_id = ma.fields.String(allow_none=True)
    is_archived = ma.fields.Boolean()
    archived_at = AwareDateTime(allow_none=True)
    archive_reason = ma.fields.String(allow_none=True)
    restored_at = AwareDateTime(allow_none=True)
    restore_reason = ma.fields.String(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class MemberQuery(ArchiveFilters, ListQuery):
    """Filters of the member list (archived members are hidden unless asked for)."""

    sort = sort_field("name", "created_at", "updated_at", default="name")
    q = SearchText(description="Search name, legal name, SIREN and city (accents ignored).")
    category = ma.fields.String(validate=ma.validate.OneOf(CATEGORIES))
    departement = ma.fields.String(validate=ma.validate.OneOf(sorted(DEPARTEMENTS)))
    domain = Text(
        validate=ma.validate.Length(min=1, max=50), metadata={"description": "A domain code."}
    )
    has_siren = QueryFlag()
    parent_id = ma.fields.UUID()
    external_id = Text(validate=EXTERNAL_ID)
    membership_status = ma.fields.String(
        validate=ma.validate.OneOf(MEMBERSHIP_STATUSES),
        metadata={"description": "Members with a membership in this status on `as_of`."},
    )
    as_of = ma.fields.Date(
        validate=ma.validate.Range(date(1900, 1, 1), date(2199, 12, 31)),
        metadata={
            "description": "The day `membership_status`, `membership` and `member_since` are "
            "read at; rows carry the last two only when it is given (default today for the "
            "filter)."
        },
    )


class MemberListOut(MemberOut):
    """A member list row; with `as_of`, also its membership standing on that day."""

    membership = ma.fields.Function(
        lambda member: _when_read(member, membership_summary),
        metadata={
            "type": ["object", "null"],
            "description": "The current membership (only with `as_of`).",
            MAY_BE_ABSENT: True,
        },
    )
    member_since = ma.fields.Function(
        lambda member: _when_read(member, member_since),
        metadata={
            "type": ["string", "null"],
            "format": "date",
            "description": "Start of the current unbroken run of memberships (only with `as_of`).",
            MAY_BE_ABSENT: True,
        },
    )


def _when_read(member: Any, read: Any) -> Any:
    """Left out of the row unless the list read memberships (``as_of`` given)."""
    if member.membership_as_of is None:
        return ma.missing
    value = read(member)
    return value.isoformat() if isinstance(value, date) else value


MemberPage = page_of(MemberListOut, "MemberPage")
