"""Importing membership payments: the rows of ``POST /memberships/{id}/payments``
(``PaymentCreate``), for the membership named by its ``external_id``, under the payment
service's rules (currency of the membership, nothing beyond the balance, a refund within
what was paid, no payment on a cancelled membership).

Amounts: the ``amount_cents`` column (``Montant en centimes``) holds integer cents, as the API
does; a cell there with a decimal separator is refused rather than guessed. The ``amount``
column (``Montant``, ``Montant en euros``) holds euros, with a decimal comma or point and
spaces between thousands (``1 234,50``), at most two decimals. A file has one or the other.

A payment is never edited: rows are matched on their ``reference`` (bank or cheque
reference) within the membership. A row whose payment exists with the same amount, day,
method and currency is unchanged; a different one is refused (record a refund instead).
"""

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Membership, MembershipPayment
from schemas.fields import Text
from schemas.memberships import PaymentCreate
from services.errors import Conflict, InvalidInput
from services.imports.columns import HeaderMatch, convert_cell, row_input
from services.imports.runner import ImportOptions, Row
from services.membership_payments import stage_payment

PAYMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "membership_external_id": (
        "reference adhesion", "adhesion", "membership reference", "membership external id",
    ),
    "reference": (
        "reference paiement", "reference du paiement", "ref paiement", "numero de cheque",
        "payment reference", "ref",
    ),
    "amount_cents": ("montant en centimes", "centimes", "amount in cents"),
    "amount": ("montant", "montant en euros", "montant ttc", "somme", "amount in euros"),
    "currency": ("devise", "monnaie"),
    "paid_on": ("date de paiement", "date du paiement", "paye le", "date", "payment date"),
    "method": ("moyen de paiement", "mode de paiement", "mode de reglement", "payment method"),
    "reason": ("motif", "raison", "motif du remboursement", "refund reason"),
}  # fmt: skip
_AMOUNT_COLUMNS = ("amount_cents", "amount")


class _MembershipRef(ma.Schema):
    """Which membership the payment is for."""

    membership_external_id = Text(required=True, validate=ma.validate.Length(min=1, max=100))


def _cents(cells: Mapping[str, Any], headers: HeaderMatch) -> tuple[str, Any] | None:
    """The row's amount as cents, from whichever amount column the file has; ``(field,
    message)`` in a ValidationError when the cell cannot be read as documented."""
    for header, name in headers.fields.items():
        value = cells.get(header)
        if name not in _AMOUNT_COLUMNS or value is None or str(value).strip() == "":
            continue
        if name == "amount_cents":
            if isinstance(value, str) and ("," in value or "." in value):
                raise ma.ValidationError(
                    {
                        "amount_cents": [
                            "Integer cents (1250 for 12.50 EUR); euros go in the amount column."
                        ]
                    }
                )
            return name, convert_cell(ma.fields.Integer(), value)
        try:
            euros = Decimal(str(convert_cell(ma.fields.Float(), value)))
        except InvalidOperation:
            raise ma.ValidationError({"amount": ["Euros such as 1 234,50."]}) from None
        if not euros.is_finite() or euros != euros.quantize(Decimal("0.01")):
            raise ma.ValidationError({"amount": ["Euros with at most two decimals."]})
        return name, int(euros * 100)
    return None


class PaymentImporter:
    """Payments of memberships named by ``membership_external_id``, matched on ``reference``."""

    resource = "payments"
    scope = "memberships:write"
    keys = ("reference",)
    unique = ("reference",)
    aliases = PAYMENT_ALIASES
    required = ("membership_external_id", "paid_on", "method")
    schema = PaymentCreate()
    membership_schema = _MembershipRef()

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        values: dict[str, Any] = {}
        body = row_input(self.schema, cells, headers.fields)
        column = "amount_cents"
        try:
            if amount := _cents(cells, headers):
                column, body["amount_cents"] = amount
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
            column = next(iter(exc.messages_dict))
        try:
            values = self.schema.load(body)
        except ma.ValidationError as exc:
            messages = dict(exc.messages_dict)
            if "amount_cents" in messages:
                messages[column] = messages.pop("amount_cents")
            errors.update({name: msgs for name, msgs in messages.items() if name not in errors})
            values = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        try:
            values.update(
                self.membership_schema.load(
                    row_input(self.membership_schema, cells, headers.fields)
                )
            )
        except ma.ValidationError as exc:
            errors.update(exc.messages_dict)
        values["amount_column"] = column
        if errors:
            raise ma.ValidationError(errors, valid_data=values)
        return values

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        memberships = _memberships(session, rows)
        found = _payments(session, memberships.values(), rows)
        for row in rows:
            values = row.values
            membership = memberships.get(values["membership_external_id"])
            if membership is None:
                row.fail("membership_external_id", "No membership with this external_id.")
                continue
            payment = found.get((membership.id, values.get("reference")))
            try:
                if payment is None:
                    _record(session, membership, values)
                    row.status = "created"
                elif options.mode == "create":
                    row.fail("reference", f"This payment is already recorded ({payment.id}).")
                else:
                    _same(payment, values)
                    row.status = "unchanged"
            except (InvalidInput, Conflict) as exc:
                if isinstance(exc, InvalidInput):
                    pairs = [(name, m) for name, msgs in exc.errors.items() for m in msgs]
                else:
                    pairs = [(exc.field, exc.detail)]
                for name, message in pairs:
                    row.fail(values["amount_column"] if name == "amount_cents" else name, message)


def _memberships(session: Session, rows: list[Row]) -> dict[str, Membership]:
    wanted = {row.values["membership_external_id"] for row in rows}
    stmt = select(Membership).where(Membership.external_id.in_(wanted))
    return {membership.external_id: membership for membership in session.scalars(stmt)}


def _payments(
    session: Session, memberships: Any, rows: list[Row]
) -> dict[tuple[uuid.UUID, str], MembershipPayment]:
    ids = [membership.id for membership in memberships]
    references = [row.values["reference"] for row in rows if row.values.get("reference")]
    if not ids or not references:
        return {}
    stmt = select(MembershipPayment).where(
        MembershipPayment.membership_id.in_(ids), MembershipPayment.reference.in_(references)
    )
    return {(p.membership_id, p.reference): p for p in session.scalars(stmt)}  # type: ignore[misc]


def _same(payment: MembershipPayment, values: Mapping[str, Any]) -> None:
    for name in ("amount_cents", "paid_on", "method", "currency"):
        if getattr(payment, name) != values[name]:
            raise Conflict(
                f"This payment is recorded with another {name}; a payment is never edited "
                "(record a refund).",
                field=name,
            )


def _record(session: Session, membership: Membership, values: Mapping[str, Any]) -> None:
    session.flush()  # the chunk's earlier payments count in the membership's total
    stage_payment(
        session,
        membership,
        amount_cents=values["amount_cents"],
        paid_on=values["paid_on"],
        method=values["method"],
        currency=values["currency"],
        reference=values.get("reference"),
        reason=values.get("reason"),
    )
    session.flush()
