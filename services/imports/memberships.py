"""Importing memberships: the rows of ``POST /memberships`` (``MembershipCreate``), matched on
``external_id``, under the membership service's rules.

A row names its member by ``member_external_id`` or ``member_siren`` and its plan by code.
The fee is never a column: the service computes it from the plan's schedule as on ``POST``
(a fee set by hand needs ``memberships:admin`` and stays an API operation). A membership
found by its ``external_id`` keeps its terms, as ``PUT /memberships/by-external-id/{id}``
does: a row with another member, plan, period, turnover or exemption is refused naming the
column; only ``approved_on`` and ``notes`` are updated.
"""

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Membership
from schemas.memberships import MembershipCreate
from services.errors import Conflict, InvalidInput
from services.imports.columns import HeaderMatch, row_input
from services.imports.contacts import _member_of, _MemberRefs, _members
from services.imports.runner import ImportOptions, Row
from services.journal import record_action
from services.memberships import stage_membership

MEMBERSHIP_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "identifiant externe", "id externe", "reference", "ref", "reference adhesion",
        "external id", "membership reference",
    ),
    "member_external_id": ("reference adherent", "reference membre", "member reference"),
    "member_siren": ("siren", "siren adherent", "member siren"),
    "plan": ("formule", "offre", "code formule", "code offre", "plan code", "college"),
    "start_date": ("date de debut", "debut", "start date", "du"),
    "end_date": ("date de fin", "fin", "end date", "au"),
    "approved_on": ("date d approbation", "approuvee le", "validee le", "approved on"),
    "turnover_cents": ("chiffre d affaires en centimes", "ca en centimes", "turnover cents"),
    "exemption": ("exoneration", "exemption code"),
    "notes": ("commentaire", "remarques", "comments"),
}  # fmt: skip
# What an existing membership was created with; a row may repeat it, not change it.
_CREATE_FIELDS = (
    "member_id", "plan", "start_date", "end_date", "approved_on", "turnover_cents", "exemption",
    "notes",
)  # fmt: skip
_TERMS = ("member_id", "plan", "start_date", "end_date", "turnover_cents", "exemption")


class MembershipImporter:
    """Memberships, matched on ``external_id``; the fee comes from the plan's schedule."""

    resource = "memberships"
    scope = "memberships:write"
    keys = ("external_id",)
    unique = ("external_id",)
    aliases = MEMBERSHIP_ALIASES
    required = ("plan", "start_date")
    schema = MembershipCreate()
    member_schema = _MemberRefs()

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        present = set(headers.fields.values())
        errors: dict[str, Any] = {}
        values: dict[str, Any] = {}
        try:
            loaded = self.schema.load(
                row_input(self.schema, cells, headers.fields), partial=("member_id",)
            )
            values = {name: value for name, value in loaded.items() if name in present}
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        try:
            refs = self.member_schema.load(row_input(self.member_schema, cells, headers.fields))
            values.update({name: value for name, value in refs.items() if value})
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        if not errors and not (values.get("member_external_id") or values.get("member_siren")):
            errors["member_external_id"] = ["Name the member: member_external_id or SIREN."]
        if errors:
            raise ma.ValidationError(errors, valid_data=values)
        return values

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        found = _matching(session, rows)
        members = _members(session, rows)
        for row in rows:
            membership = found.get(row.values.get("external_id"))
            if membership is not None and options.mode == "create":
                message = f"A membership with this external_id already exists ({membership.id})."
                row.fail("external_id", message)
                continue
            try:
                member = _member_of(row.values, members)
                assert member is not None  # load requires a reference
                fields = {**row.values, "member_id": member.id}
                if membership is None:
                    _create(session, fields)
                    row.status = "created"
                else:
                    row.status = _update(session, membership, fields)
            except (InvalidInput, Conflict) as exc:
                member_field = (
                    "member_external_id" if row.values.get("member_external_id") else "member_siren"
                )
                for field_name, messages in _messages(exc, member_field).items():
                    for message in messages:
                        row.fail(field_name, message)


def _messages(exc: InvalidInput | Conflict, member_field: str) -> dict[str | None, list[str]]:
    """The service's messages, naming the column the row named its member by."""
    if isinstance(exc, InvalidInput):
        return {
            member_field if name == "member_id" else name: msgs for name, msgs in exc.errors.items()
        }
    return {member_field if exc.field == "member_id" else exc.field: [exc.detail]}


def _matching(session: Session, rows: list[Row]) -> dict[str, Membership]:
    """The memberships the rows name, with their plan: one query for the chunk."""
    values = [row.values["external_id"] for row in rows if row.values.get("external_id")]
    if not values:
        return {}
    stmt = (
        select(Membership)
        .where(Membership.external_id.in_(values))
        .options(joinedload(Membership.plan))
    )
    return {membership.external_id: membership for membership in session.scalars(stmt)}


def _create(session: Session, fields: Mapping[str, Any]) -> None:
    """``create_membership``'s rules (``stage_membership``), the fee from the schedule."""
    stage_membership(
        session,
        **{name: fields[name] for name in _CREATE_FIELDS if name in fields},
        external_id=fields["external_id"],
    )
    # The next row's overlap check must see this one (one member, two rows in a chunk).
    session.flush()


def _update(session: Session, membership: Membership, fields: Mapping[str, Any]) -> str:
    terms = {
        "member_id": membership.member_id,
        "plan": membership.plan.code,
        "start_date": membership.start_date,
        "end_date": membership.end_date,
        "turnover_cents": membership.declared_turnover_cents,
        "exemption": membership.exemption,
    }
    for name in _TERMS:
        if name in fields and fields[name] != terms[name]:
            raise Conflict(
                f"A membership's {name} is fixed when it is created; cancel it and create "
                "another to change it.",
                field=name,
            )
    approving = membership.approved_on is None and fields.get("approved_on") is not None
    for name in ("approved_on", "notes"):
        if name in fields:
            setattr(membership, name, fields[name])
    if not session.is_modified(membership):
        return "unchanged"
    if approving:
        record_action(session, membership, "approved")
    return "updated"
