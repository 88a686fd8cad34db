"""Invoices: numbering, frozen documents, VAT totals, credit notes."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import Invoice
from services.invoices import vat_of
from tests.memberships.factories import make_member, make_membership, make_plan

URL = "/api/v1/memberships"
YEAR = date.today().year


@pytest.fixture
def membership(session):
    member = make_member(
        session, name="Imagerie Nord", siren="552120222", vat_number="FR27552120222",
        street="1 rue de la Paix", postal_code="75002", city="Paris",
    )  # fmt: skip
    membership = make_membership(
        session, member=member, plan=make_plan(session, name="Full member", code="full"),
        start=date(2025, 1, 1), fee_cents=123_457,
    )  # fmt: skip
    session.commit()
    return membership


def _issue(client, headers, membership):
    return client.post(f"{URL}/{membership.id}/invoices", headers=headers)


def test_issue_a_frozen_invoice(client, session, staff_headers, admin_headers, membership):
    response = _issue(client, staff_headers, membership)
    assert response.status_code == 201, response.get_json()
    invoice = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/invoices/{invoice['id']}")
    assert invoice["number"] == f"{YEAR}-00001"
    assert (invoice["total_excl_tax_cents"], invoice["vat_cents"]) == (123_457, 24_691)
    assert invoice["total_incl_tax_cents"] == 148_148
    document = invoice["document"]
    assert document["seller"]["name"] == "mrm"
    assert document["vat_rate"] == "20"
    assert document["buyer"]["siren"] == "552120222"
    assert document["buyer"]["vat_number"] == "FR27552120222"
    assert document["buyer"]["address"]["city"] == "Paris"
    assert document["lines"][0]["total_excl_tax_cents"] == 123_457
    # Renaming the member later does not touch the issued invoice.
    member_url = f"/api/v1/members/{membership.member_id}"
    renamed = client.patch(member_url, json={"name": "Renamed"}, headers=admin_headers)
    assert renamed.status_code == 200
    again = client.get(f"/api/v1/invoices/{invoice['id']}", headers=staff_headers).get_json()
    assert again["document"]["buyer"]["name"] == "Imagerie Nord"


def test_a_second_invoice_waits_for_a_credit_note(client, session, staff_headers, membership):
    first = _issue(client, staff_headers, membership).get_json()
    refused = _issue(client, staff_headers, membership)
    assert refused.status_code == 409
    assert refused.get_json()["existing"]["id"] == first["id"]
    url = f"/api/v1/invoices/{first['id']}/credit-note"
    note = client.post(url, json={"reason": "Wrong address"}, headers=staff_headers)
    assert note.status_code == 201, note.get_json()
    body = note.get_json()
    assert (body["kind"], body["number"]) == ("credit_note", f"{YEAR}-00002")
    assert body["credited_invoice_id"] == first["id"]
    assert body["total_incl_tax_cents"] == -first["total_incl_tax_cents"]
    assert body["document"]["credits"] == first["number"]
    assert body["document"]["reason"] == "Wrong address"
    assert client.post(url, json={"reason": "Again"}, headers=staff_headers).status_code == 409
    note_url = f"/api/v1/invoices/{body['id']}/credit-note"
    assert client.post(note_url, json={"reason": "x"}, headers=staff_headers).status_code == 409
    reissued = _issue(client, staff_headers, membership)
    assert reissued.status_code == 201
    assert reissued.get_json()["number"] == f"{YEAR}-00003"
    listed = client.get(f"{URL}/{membership.id}/invoices", headers=staff_headers).get_json()
    assert [i["number"] for i in listed["data"]] == [f"{YEAR}-0000{n}" for n in (1, 2, 3)]
    notes = client.get("/api/v1/invoices", query_string={"kind": "credit_note"},
                       headers=staff_headers).get_json()  # fmt: skip
    assert [i["id"] for i in notes["data"]] == [body["id"]]


def test_credit_note_needs_a_reason(client, session, staff_headers, membership):
    invoice = _issue(client, staff_headers, membership).get_json()
    url = f"/api/v1/invoices/{invoice['id']}/credit-note"
    response = client.post(url, json={}, headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["reason"]
    assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_invoice_permissions_and_unknown_records(client, viewer_headers, staff_headers, membership):
    assert _issue(client, viewer_headers, membership).status_code == 403
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.post(f"{URL}/{missing}/invoices", headers=staff_headers).status_code == 404
    assert client.get(f"/api/v1/invoices/{missing}", headers=viewer_headers).status_code == 404


def test_vat_is_rounded_half_up_to_the_cent():
    assert vat_of(2, Decimal("20")) == 0  # 0.4 cent
    assert vat_of(3, Decimal("20")) == 1  # 0.6 cent
    assert vat_of(25, Decimal("2")) == 1  # 0.5 cent rounds up
    assert vat_of(100_00, Decimal("5.5")) == 550
