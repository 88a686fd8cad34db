"""Membership plans, their fee schedules per year, and fee quotes."""

import uuid
from functools import partial
from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import page_response, paginate
from api.responses import Headers, created, with_etag
from models import FeeSchedule, MembershipPlan
from schemas.journal import HistoryPage, HistoryQuery
from schemas.membership_plans import (
    FeeQuote,
    PlanCreate,
    PlanOut,
    PlanPage,
    PlanPatch,
    PlanQuery,
    QuoteQuery,
    ScheduleOut,
    SchedulePage,
    ScheduleQuery,
    ScheduleWrite,
)
from services.membership_fees import Quote
from services.membership_plans import (
    PLAN_SORT_KEYS,
    SCHEDULE_SORT_KEYS,
    copy_schedule_forward,
    create_plan,
    get_plan,
    get_schedule,
    list_plans,
    list_schedules,
    plan_history,
    put_schedule,
    quote_fee,
    update_plan,
)

blp = Blueprint(
    "membership_plans",
    __name__,
    url_prefix="/api/v1/membership-plans",
    description="Kinds of membership, their yearly fee schedules and fee quotes.",
)


def _schedule_created(schedule: FeeSchedule) -> tuple[FeeSchedule, int, Headers]:
    return created(
        schedule,
        "membership_plans.ScheduleByYear",
        plan_id=schedule.plan_id,
        year=schedule.year,
    )


@blp.route("")
class Plans(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(PlanQuery, location="query", as_kwargs=True)
    @blp.page_response(PlanPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List membership plans"""
        return paginate(db.session, list_plans, query, PLAN_SORT_KEYS, MembershipPlan.id)

    @blp.auth("memberships:admin")
    @blp.arguments(PlanCreate)
    @blp.created_response(PlanOut)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[MembershipPlan, int, Headers]:
        """Create a membership plan

        The code is unique (409). A late-join policy needs `late_join_month` and a
        calendar-year plan (422).
        """
        plan = create_plan(db.session, **body)
        return created(plan, "membership_plans.PlanById", plan_id=plan.id)


@blp.route("/<uuid:plan_id>")
class PlanById(MethodView):
    @blp.auth("memberships:read")
    @blp.record_response(PlanOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id: uuid.UUID) -> tuple[MembershipPlan, Headers]:
        """Get a membership plan"""
        return with_etag(get_plan(db.session, plan_id))

    @blp.auth("memberships:admin")
    @blp.if_match
    @blp.arguments(PlanPatch)
    @blp.record_response(PlanOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], plan_id: uuid.UUID) -> tuple[MembershipPlan, Headers]:
        """Update a membership plan

        Existing memberships keep the period, grace and fee they were created with.
        """
        plan = update_plan(db.session, plan_id=plan_id, changes=body, if_match=if_match_versions())
        return with_etag(plan)


@blp.route("/<uuid:plan_id>/fee-schedules")
class Schedules(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(ScheduleQuery, location="query", as_kwargs=True)
    @blp.page_response(SchedulePage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a plan's fee schedules"""
        lister = partial(list_schedules, db.session, plan_id=plan_id)
        return paginate(db.session, lister, query, SCHEDULE_SORT_KEYS, FeeSchedule.id)


@blp.route("/<uuid:plan_id>/fee-schedules/<int(min=1900, max=2199):year>")
class ScheduleByYear(MethodView):
    @blp.auth("memberships:read")
    @blp.record_response(ScheduleOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id: uuid.UUID, year: int) -> tuple[FeeSchedule, Headers]:
        """Get a plan's fee schedule for a year"""
        return with_etag(get_schedule(db.session, plan_id=plan_id, year=year))

    @blp.auth("memberships:admin")
    @blp.if_match
    @blp.arguments(ScheduleWrite)
    @blp.record_response(ScheduleOut)
    @blp.created_response(ScheduleOut, alternative=True)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], plan_id: uuid.UUID, year: int
    ) -> tuple[FeeSchedule, int, Headers] | tuple[FeeSchedule, Headers]:
        """Create or replace a plan's fee schedule for a year

        201 when the year had no schedule, 200 when it replaced it. Memberships already
        created keep their fee: it was copied onto them.
        """
        schedule, was_created = put_schedule(
            db.session, plan_id=plan_id, year=year, values=body, if_match=if_match_versions()
        )
        return _schedule_created(schedule) if was_created else with_etag(schedule)


@blp.route("/<uuid:plan_id>/fee-schedules/<int(min=1900, max=2199):year>/copy-forward")
class ScheduleCopyForward(MethodView):
    @blp.auth("memberships:admin")
    @blp.created_response(ScheduleOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, plan_id: uuid.UUID, year: int) -> tuple[FeeSchedule, int, Headers]:
        """Start next year's schedule from this one

        Creates the schedule of `year + 1` as a copy, to be edited; 409 if it exists.
        """
        return _schedule_created(copy_schedule_forward(db.session, plan_id=plan_id, year=year))


@blp.route("/<uuid:plan_id>/quote")
class PlanQuote(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(QuoteQuery, location="query", as_kwargs=True)
    @blp.response(200, FeeQuote)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id: uuid.UUID, **query: Any) -> Quote:
        """Quote the fee of a member joining this plan

        Answers the fee, the period and the rule that produced them. A member without the data
        the rule needs (no head-count band, no declared turnover) is a 422 naming it.
        """
        return quote_fee(db.session, plan_id=plan_id, **query)


@blp.route("/<uuid:plan_id>/history")
class PlanHistory(MethodView):
    @blp.auth("memberships:read")
    @blp.arguments(HistoryQuery, location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """A plan's history, newest first (its fee schedules' changes are in the feed)"""
        return page_response(plan_history(db.session, plan_id=plan_id, **query))
