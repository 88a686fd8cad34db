"""Invoices and credit notes of memberships."""

import uuid
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.config import current_settings
from api.extensions import db
from api.pagination import paginate
from api.responses import Headers, created, with_etag
from models import Invoice
from schemas.invoices import (
    CreditNoteCreate,
    InvoiceOut,
    InvoicePage,
    InvoiceQuery,
    MembershipInvoiceQuery,
)
from services.invoices import (
    INVOICE_SORT_KEYS,
    credit_invoice,
    get_invoice,
    issue_invoice,
    list_invoices,
)

blp = Blueprint(
    "invoices",
    __name__,
    url_prefix="/api/v1",
    description="Invoices of membership fees, numbered YYYY-NNNNN, and their credit notes.",
)


def _created(invoice: Invoice) -> tuple[Invoice, int, Headers]:
    return created(invoice, "invoices.InvoiceById", invoice_id=invoice.id)


@blp.route("/invoices")
class Invoices(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(InvoiceQuery, location="query", as_kwargs=True)
    @blp.page_response(InvoicePage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List invoices and credit notes"""
        return paginate(
            db.session, partial(list_invoices, db.session), query, INVOICE_SORT_KEYS, Invoice.id
        )


@blp.route("/invoices/<uuid:invoice_id>")
class InvoiceById(MethodView):
    @blp.auth("memberships:read")
    @blp.record_response(InvoiceOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, invoice_id: uuid.UUID) -> tuple[Invoice, Headers]:
        """Get an invoice or credit note"""
        return with_etag(get_invoice(db.session, invoice_id))


@blp.route("/invoices/<uuid:invoice_id>/credit-note")
class InvoiceCrediting(MethodView):
    @blp.auth("memberships:write")
    @blp.arguments(CreditNoteCreate)
    @blp.created_response(InvoiceOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], invoice_id: uuid.UUID) -> tuple[Invoice, int, Headers]:
        """Credit an invoice

        Issues a credit note of the opposite amounts with its own number; the invoice itself
        never changes. 409 for a credit note or an invoice already credited.
        """
        note = credit_invoice(
            db.session, invoice_id=invoice_id, reason=body["reason"], issued_on=date.today()
        )
        return _created(note)


@blp.route("/memberships/<uuid:membership_id>/invoices")
class MembershipInvoices(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(MembershipInvoiceQuery, location="query", as_kwargs=True)
    @blp.page_response(InvoicePage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, membership_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a membership's invoices and credit notes"""
        lister = partial(list_invoices, db.session, membership_id=membership_id)
        return paginate(db.session, lister, query, INVOICE_SORT_KEYS, Invoice.id)

    @blp.auth("memberships:write")
    @blp.created_response(InvoiceOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, membership_id: uuid.UUID) -> tuple[Invoice, int, Headers]:
        """Issue a membership's invoice

        Numbered `YYYY-NNNNN` in the year's sequence (no gaps, no duplicates) and frozen: the
        seller (from configuration), the buyer as it is today, the fee line and the totals
        excluding and including VAT at the configured rate. 409 while an earlier invoice of
        the membership is not credited.
        """
        settings = current_settings()
        invoice = issue_invoice(
            db.session,
            membership_id=membership_id,
            issued_on=date.today(),
            seller=settings.seller,
            vat_rate=Decimal(settings.vat_rate),
        )
        return _created(invoice)
