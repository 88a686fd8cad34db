"""Invoices and credit notes of memberships: numbered without gaps, frozen once issued.

French invoicing rules want one chronological sequence per year with no gaps and no
duplicates. The number comes from the year's counter row, locked and incremented in the
transaction that issues the invoice: a failed issue rolls the increment back with it.
"""

import copy
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, joinedload

from models import Invoice, InvoiceCounter, InvoiceKind, Member, Membership
from services.errors import Conflict, NotFound
from services.journal import JournalSpec, record_action, register
from services.pagination import datetime_key
from services.transactions import commit

INVOICE_SORT_KEYS = {"created_at": datetime_key(Invoice.created_at)}


# An invoice is frozen once issued: its one entry is invoice.issued (credit notes too), naming
# its number and kind; the document itself is not copied into the journal.
register(Invoice, JournalSpec("invoice", "memberships:read", exclude=frozenset({"document"})))


def _issued(session: Session, invoice: Invoice) -> None:
    record_action(
        session, invoice, "issued", {"number": [None, invoice.number], "kind": [None, invoice.kind]}
    )


def _ref(invoice_id: uuid.UUID) -> dict[str, str]:
    return {"id": str(invoice_id), "href": f"/api/v1/invoices/{invoice_id}"}


def _next_sequence(session: Session, year: int) -> int:
    """Take the next number of ``year``, holding the counter's row until the commit."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InvoiceCounter)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    counter = session.scalars(
        select(InvoiceCounter)
        .where(InvoiceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_number += 1
    return counter.last_number


def _number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:05d}"


def _buyer(member: Member) -> dict[str, Any]:
    return {
        "member_id": str(member.id),
        "name": member.name,
        "legal_name": member.legal_name,
        "siren": member.siren,
        "vat_number": member.vat_number,
        "address": {
            "street": member.street,
            "postal_code": member.postal_code,
            "city": member.city,
            "country": member.country,
        },
    }


def vat_of(amount_cents: int, rate: Decimal) -> int:
    """VAT on an amount excluding tax, rounded half up to the cent."""
    return int((Decimal(amount_cents) * rate / 100).quantize(Decimal(1), ROUND_HALF_UP))


def list_invoices(
    session: Session,
    *,
    membership_id: uuid.UUID | None = None,
    year: int | None = None,
    kind: str | None = None,
    updated_since: datetime | None = None,
) -> Select[tuple[Invoice]]:
    """Invoices and credit notes matching every filter."""
    if membership_id is not None and session.get(Membership, membership_id) is None:
        raise NotFound("membership", membership_id)
    stmt = select(Invoice)
    if membership_id is not None:
        stmt = stmt.where(Invoice.membership_id == membership_id)
    if year is not None:
        stmt = stmt.where(Invoice.year == year)
    if kind is not None:
        stmt = stmt.where(Invoice.kind == kind)
    if updated_since is not None:
        stmt = stmt.where(Invoice.updated_at >= updated_since)
    return stmt


def get_invoice(session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    return invoice


def _uncredited_invoice(session: Session, membership_id: uuid.UUID) -> uuid.UUID | None:
    """The membership's invoice that no credit note cancels, if any."""
    note = aliased(Invoice)
    return session.scalar(
        select(Invoice.id).where(
            Invoice.membership_id == membership_id,
            Invoice.kind == InvoiceKind.INVOICE,
            ~exists().where(note.credited_invoice_id == Invoice.id),
        )
    )


def issue_invoice(
    session: Session,
    *,
    membership_id: uuid.UUID,
    issued_on: date,
    seller: Mapping[str, str],
    vat_rate: Decimal,
) -> Invoice:
    """Issue the invoice of a membership's fee; 409 while an earlier one is not credited.

    The invoice is frozen: the seller, the buyer as it is today, the line and the totals are
    written into it and never recomputed.
    """
    membership = session.scalar(
        select(Membership)
        .where(Membership.id == membership_id)
        .options(joinedload(Membership.plan), joinedload(Membership.member))
        .with_for_update(of=Membership)
    )
    if membership is None:
        raise NotFound("membership", membership_id)
    if (existing := _uncredited_invoice(session, membership_id)) is not None:
        session.rollback()
        raise Conflict(
            "This membership already has an invoice; credit it before issuing another.",
            existing=_ref(existing),
        )
    amount = membership.fee_cents
    vat = vat_of(amount, vat_rate)
    sequence = _next_sequence(session, issued_on.year)
    number = _number(issued_on.year, sequence)
    plan = membership.plan
    document = {
        "number": number,
        "kind": InvoiceKind.INVOICE.value,
        "issued_on": issued_on.isoformat(),
        "seller": dict(seller),
        "buyer": _buyer(membership.member),
        "lines": [
            {
                "description": f"Membership fee, {plan.name} ({plan.code}), "
                f"{membership.start_date.isoformat()} to {membership.end_date.isoformat()}",
                "membership_id": str(membership.id),
                "quantity": 1,
                "unit_price_excl_tax_cents": amount,
                "total_excl_tax_cents": amount,
            }
        ],
        "currency": membership.currency,
        "vat_rate": str(vat_rate),
        "total_excl_tax_cents": amount,
        "vat_cents": vat,
        "total_incl_tax_cents": amount + vat,
    }
    invoice = Invoice(
        id=uuid.uuid4(),
        number=number,
        year=issued_on.year,
        sequence=sequence,
        kind=InvoiceKind.INVOICE.value,
        membership_id=membership.id,
        issued_on=issued_on,
        currency=membership.currency,
        total_excl_tax_cents=amount,
        vat_cents=vat,
        total_incl_tax_cents=amount + vat,
        document=document,
    )
    session.add(invoice)
    _issued(session, invoice)
    commit(session)
    return invoice


def _negated(document: dict[str, Any]) -> dict[str, Any]:
    negated = copy.deepcopy(document)
    for line in negated["lines"]:
        line["unit_price_excl_tax_cents"] = -line["unit_price_excl_tax_cents"]
        line["total_excl_tax_cents"] = -line["total_excl_tax_cents"]
    for total in ("total_excl_tax_cents", "vat_cents", "total_incl_tax_cents"):
        negated[total] = -negated[total]
    return negated


def credit_invoice(
    session: Session, *, invoice_id: uuid.UUID, reason: str, issued_on: date
) -> Invoice:
    """Cancel an invoice with a credit note of the opposite amounts and its own number; 409
    for a credit note, or an invoice already credited."""
    original = get_invoice(session, invoice_id)
    # One writer per membership at a time, as when issuing.
    session.execute(
        select(Membership.id).where(Membership.id == original.membership_id).with_for_update()
    )
    if original.kind != InvoiceKind.INVOICE:
        raise Conflict("A credit note cannot be credited.", field="kind")
    taken = session.scalar(select(Invoice.id).where(Invoice.credited_invoice_id == original.id))
    if taken is not None:
        session.rollback()
        raise Conflict("This invoice is already credited.", existing=_ref(taken))
    sequence = _next_sequence(session, issued_on.year)
    number = _number(issued_on.year, sequence)
    document = _negated(original.document)
    document.update(
        number=number,
        kind=InvoiceKind.CREDIT_NOTE.value,
        issued_on=issued_on.isoformat(),
        credits=original.number,
        reason=reason,
    )
    note = Invoice(
        id=uuid.uuid4(),
        number=number,
        year=issued_on.year,
        sequence=sequence,
        kind=InvoiceKind.CREDIT_NOTE.value,
        membership_id=original.membership_id,
        credited_invoice_id=original.id,
        issued_on=issued_on,
        currency=original.currency,
        total_excl_tax_cents=-original.total_excl_tax_cents,
        vat_cents=-original.vat_cents,
        total_incl_tax_cents=-original.total_incl_tax_cents,
        document=document,
    )
    session.add(note)
    _issued(session, note)
    commit(
        session,
        {"uq_invoices_credited_invoice_id": lambda: Conflict("This invoice is already credited.")},
    )
    return note
