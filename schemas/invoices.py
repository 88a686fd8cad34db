"""Bodies and query arguments of invoices and credit notes."""

import marshmallow as ma

from models import InvoiceKind
from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import TrimmedString


class InvoiceOut(ma.Schema):
    """An issued invoice or credit note; `document` is what was issued, frozen."""

    id = ma.fields.UUID()
    number = ma.fields.String(metadata={"examples": ["2025-00042"]})
    kind = ma.fields.String(metadata={"enum": [kind.value for kind in InvoiceKind]})
    year = ma.fields.Integer()
    issued_on = ma.fields.Date()
    membership_id = ma.fields.UUID()
    credited_invoice_id = ma.fields.UUID(allow_none=True)
    currency = ma.fields.String()
    total_excl_tax_cents = ma.fields.Integer()
    vat_cents = ma.fields.Integer()
    total_incl_tax_cents = ma.fields.Integer()
    document = ma.fields.Dict(
        metadata={"description": "Seller, buyer, lines and totals exactly as issued."}
    )
    created_at = AwareDateTime()


class CreditNoteCreate(ma.Schema):
    """Why an invoice is cancelled."""

    reason = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=500))


class MembershipInvoiceQuery(ListQuery):
    """Arguments of a membership's invoice list."""

    sort = sort_field("created_at", default="created_at")
    kind = ma.fields.String(validate=ma.validate.OneOf([kind.value for kind in InvoiceKind]))


class InvoiceQuery(MembershipInvoiceQuery):
    """Filters of the invoice list."""

    year = ma.fields.Integer(validate=ma.validate.Range(1900, 2199))
    membership_id = ma.fields.UUID()


InvoicePage = page_of(InvoiceOut, "InvoicePage")
