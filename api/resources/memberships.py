"""Memberships, a member's memberships, and their payments."""

import uuid
from datetime import date
from functools import partial
from typing import Any

from flask.views import MethodView

from api.auth import granted_scopes
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import page_response, paginate
from api.responses import Headers, created, with_etag
from models import Membership, MembershipPayment
from schemas.journal import HistoryPage, HistoryQuery
from schemas.memberships import (
    AsOfQuery,
    CampaignCreate,
    CampaignOut,
    MemberMembershipQuery,
    MembershipCancel,
    MembershipCreate,
    MembershipOut,
    MembershipPage,
    MembershipPatch,
    MembershipQuery,
    MembershipUpsert,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    PaymentQuery,
)
from services.membership_campaigns import CampaignReport, get_campaign, run_campaign
from services.membership_payments import (
    PAYMENT_SORT_KEYS,
    get_payment,
    list_payments,
    record_payment,
)
from services.membership_renewals import renew_membership
from services.memberships import (
    MEMBERSHIP_SORT_KEYS,
    OVERRIDE_SCOPE,
    cancel_membership,
    create_membership,
    get_membership,
    list_member_memberships,
    list_memberships,
    membership_history,
    update_membership,
    upsert_membership_by_external_id,
)

blp = Blueprint(
    "memberships",
    __name__,
    url_prefix="/api/v1",
    description="Members' adhesions: periods, fees, status on any day, payments.",
)


@blp.route("/memberships")
class Memberships(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(MembershipQuery, location="query", as_kwargs=True)
    @blp.page_response(MembershipPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List memberships

        `status` selects memberships by their status on `as_of` (default today); `plan` takes a
        plan code (422 if unknown); `ends_before` finds periods ending before a day, for
        reminders. Paid amounts and balances are those of `as_of`.
        """
        lister = partial(list_memberships, db.session)
        return paginate(db.session, lister, query, MEMBERSHIP_SORT_KEYS, Membership.id)

    @blp.auth("memberships:write")
    @blp.arguments(MembershipCreate)
    @blp.created_response(MembershipOut)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Membership, int, Headers]:
        """Create a membership

        The period follows from the plan (and its late-join policy) unless `end_date` is given;
        the fee comes from the plan's schedule for the start year and is copied onto the
        membership. Setting `fee_cents` by hand needs the `memberships:admin` scope (403) and a
        `fee_override_reason`. A period overlapping another of the member's is a 409.
        """
        membership = create_membership(
            db.session,
            **body,
            may_override_fee=OVERRIDE_SCOPE in granted_scopes(),
            as_of=date.today(),
        )
        return created(membership, "memberships.MembershipById", membership_id=membership.id)


@blp.route("/memberships/<uuid:membership_id>")
class MembershipById(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(AsOfQuery, location="query", as_kwargs=True)
    @blp.record_response(MembershipOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, membership_id: uuid.UUID, as_of: date) -> tuple[Membership, Headers]:
        """Get a membership, as it stood on a day (`as_of`, default today)"""
        return with_etag(get_membership(db.session, membership_id, as_of=as_of))

    @blp.auth("memberships:write")
    @blp.if_match
    @blp.arguments(MembershipPatch)
    @blp.record_response(MembershipOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], membership_id: uuid.UUID) -> tuple[Membership, Headers]:
        """Update a membership

        Records its approval (`approved_on`), notes or external id; its period and fee stay.
        """
        membership = update_membership(
            db.session,
            membership_id=membership_id,
            changes=body,
            if_match=if_match_versions(),
            as_of=date.today(),
        )
        return with_etag(membership)


@blp.route("/memberships/by-external-id/<path:external_id>")
class MembershipByExternalId(MethodView):
    @blp.auth("memberships:write")
    @blp.if_match
    @blp.arguments(MembershipUpsert)
    @blp.record_response(MembershipOut)
    @blp.created_response(MembershipOut, alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], external_id: str
    ) -> tuple[Membership, int, Headers] | tuple[Membership, Headers]:
        """Create or update a membership by its importer's `external_id`

        201 when the membership is new (the body is the membership, priced as by
        `POST /memberships`), 200 when it existed: `approved_on` and `notes` change, the
        terms stay (a different member, plan, period or fee is a 409 naming the field).
        """
        membership, was_created = upsert_membership_by_external_id(
            db.session,
            external_id=external_id,
            fields=body,
            if_match=if_match_versions(),
            may_override_fee=OVERRIDE_SCOPE in granted_scopes(),
            as_of=date.today(),
        )
        if was_created:
            return created(membership, "memberships.MembershipById", membership_id=membership.id)
        return with_etag(membership)


@blp.route("/memberships/<uuid:membership_id>/history")
class MembershipHistory(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(HistoryQuery, location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, membership_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A membership's history, newest first

        Its creation (`membership.created`, or `membership.renewed` for a renewal),
        approval, payments and refunds (`membership.paid`, `membership.refunded`, with the
        payment's id and the total paid before and after), changes and cancellation.
        """
        page = membership_history(db.session, membership_id=membership_id, **query)
        return page_response(page)


@blp.route("/memberships/<uuid:membership_id>/cancel")
class MembershipCancelling(MethodView):
    @blp.auth("memberships:write")
    @blp.if_match
    @blp.arguments(MembershipCancel)
    @blp.record_response(MembershipOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], membership_id: uuid.UUID) -> tuple[Membership, Headers]:
        """Cancel a membership

        Its status is `cancelled` from `on`, with the `reason` kept; 409 if already cancelled.
        """
        membership = cancel_membership(
            db.session,
            membership_id=membership_id,
            **body,
            if_match=if_match_versions(),
            as_of=date.today(),
        )
        return with_etag(membership)


@blp.route("/memberships/<uuid:membership_id>/renew")
class MembershipRenewal(MethodView):
    @blp.auth("memberships:write")
    @blp.record_response(MembershipOut)
    @blp.created_response(MembershipOut, alternative=True)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(
        self, membership_id: uuid.UUID
    ) -> tuple[Membership, int, Headers] | tuple[Membership, Headers]:
        """Renew a membership

        Creates the next period (from the day after this one ends) at the fee of that year's
        schedule: 201 the first time, then 200 with the same renewal, however often or
        concurrently it is called. A cancelled membership is not renewed (409).
        """
        renewal, was_created = renew_membership(
            db.session, membership_id=membership_id, as_of=date.today()
        )
        if was_created:
            return created(renewal, "memberships.MembershipById", membership_id=renewal.id)
        return with_etag(renewal)


@blp.route("/members/<uuid:member_id>/memberships")
class MemberMemberships(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(MemberMembershipQuery, location="query", as_kwargs=True)
    @blp.page_response(MembershipPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, member_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a member's memberships"""
        lister = partial(list_member_memberships, db.session, member_id=member_id)
        return paginate(db.session, lister, query, MEMBERSHIP_SORT_KEYS, Membership.id)


@blp.route("/memberships/<uuid:membership_id>/payments")
class Payments(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(PaymentQuery, location="query", as_kwargs=True)
    @blp.page_response(PaymentPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, membership_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a membership's payments and refunds"""
        lister = partial(list_payments, db.session, membership_id=membership_id)
        return paginate(db.session, lister, query, PAYMENT_SORT_KEYS, MembershipPayment.id)

    @blp.auth("memberships:write")
    @blp.arguments(PaymentCreate)
    @blp.created_response(PaymentOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(
        self, body: dict[str, Any], membership_id: uuid.UUID
    ) -> tuple[MembershipPayment, int, Headers]:
        """Record a payment or a refund

        A refund is a negative amount with a `reason`. A payment beyond the balance, or a
        refund beyond what was paid, is a 409. Payments are never edited: reverse one with a
        refund.
        """
        payment = record_payment(db.session, membership_id=membership_id, **body)
        return created(
            payment,
            "memberships.PaymentById",
            membership_id=membership_id,
            payment_id=payment.id,
        )


@blp.route("/memberships/<uuid:membership_id>/payments/<uuid:payment_id>")
class PaymentById(MethodView):
    @blp.auth("memberships:read")
    @blp.record_response(PaymentOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(
        self, membership_id: uuid.UUID, payment_id: uuid.UUID
    ) -> tuple[MembershipPayment, Headers]:
        """Get a payment"""
        return with_etag(
            get_payment(db.session, membership_id=membership_id, payment_id=payment_id)
        )


@blp.route("/membership-campaigns")
class Campaigns(MethodView):
    @blp.auth("memberships:write")
    @blp.arguments(CampaignCreate)
    @blp.record_response(CampaignOut)
    @blp.created_response(CampaignOut, alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def post(
        self, body: dict[str, Any]
    ) -> tuple[CampaignReport, int, Headers] | tuple[CampaignReport, Headers]:
        """Run a year's renewal campaign

        Creates a pending renewal for every membership that ended in the previous year and was
        active on its last day, unless it is already renewed. 201 the first time, 200 when the
        year's campaign is run again (it then creates only what is missing). The counts are
        those of this run; memberships that cannot be renewed are listed with the reason.
        """
        report, was_created = run_campaign(db.session, year=body["year"], as_of=date.today())
        if was_created:
            return created(report, "memberships.CampaignById", campaign_id=report.campaign.id)
        return with_etag(report)


@blp.route("/membership-campaigns/<uuid:campaign_id>")
class CampaignById(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(AsOfQuery, location="query", as_kwargs=True)
    @blp.record_response(CampaignOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, campaign_id: uuid.UUID, as_of: date) -> tuple[CampaignReport, Headers]:
        """Get a renewal campaign's progress

        On `as_of` (default today): members of the previous period, renewed, pending and lapsed,
        and the amounts invoiced and collected for the renewals.
        """
        return with_etag(get_campaign(db.session, campaign_id, as_of=as_of))
