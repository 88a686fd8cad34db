"""Bodies and query arguments of ``/projects``, their partners, submissions and lifecycle."""

from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow.utils import get_value

from models import (
    AidForm,
    LabelDecision,
    MemberCategory,
    PartnerRole,
    Programme,
    ProjectState,
    SubmissionOutcome,
)
from schemas.common import AwareDateTime, ListQuery, QueryDateTime, page_of, sort_field
from schemas.exports import ExportArgs
from schemas.fields import BoundedList, Flag, SearchText, Siren, Text, TrimmedString
from schemas.members import DomainRef

STATES = [state.value for state in ProjectState]
PROGRAMMES = [programme.value for programme in Programme]
DECISIONS = [d.value for d in LabelDecision if d is not LabelDecision.PENDING]
OUTCOMES = [outcome.value for outcome in SubmissionOutcome]
ROLES = [role.value for role in PartnerRole]
AID_FORMS = [form.value for form in AidForm]
CATEGORIES = [category.value for category in MemberCategory]
ACRONYM = ma.validate.Length(min=1, max=30)
TITLE = ma.validate.Length(min=1, max=300)
LONG_TEXT = ma.validate.Length(max=10_000)
NOTE = ma.validate.Length(max=1000)
EXTERNAL_ID = ma.validate.Length(min=1, max=100)
TRL = ma.validate.Range(min=1, max=9)
# Amounts in cents: up to ten billion euros, far beyond any R&D project, within 64 bits.
CENTS = ma.validate.Range(min=0, max=10**12)
COUNT = ma.validate.Range(min=0, max=1_000_000)
YEAR = ma.validate.Range(min=1900, max=2199)
DAY = ma.validate.Range(date(1900, 1, 1), date(2199, 12, 31))
MAX_TEAM = 20


def _cents(**kwargs: Any) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, allow_none=True, validate=CENTS, **kwargs)


def _day(**kwargs: Any) -> ma.fields.Date:
    return ma.fields.Date(validate=DAY, **kwargs)


def _no_repeats(values: list[Any]) -> None:
    if len(values) != len(set(values)):
        raise ma.ValidationError("Each value may appear only once.")


class TransitionOut(ma.Schema):
    """One move of the project's lifecycle."""

    from_state = ma.fields.String(metadata={"enum": STATES})
    to_state = ma.fields.String(metadata={"enum": STATES})
    on = ma.fields.Date(metadata={"description": "The day the move happened."})
    at = AwareDateTime(metadata={"description": "When it was recorded."})
    by_user_id = ma.fields.UUID(metadata={"description": "Who recorded it."})
    note = ma.fields.String(allow_none=True)


class ResultsOut(ma.Schema):
    """What the project produced (filled in once it is closed)."""

    products_launched = ma.fields.Integer(allow_none=True)
    patents_filed = ma.fields.Integer(allow_none=True)
    jobs_created = ma.fields.Integer(allow_none=True)
    follow_on_funding_cents = ma.fields.Integer(allow_none=True)
    notes = ma.fields.String(allow_none=True, attribute="results_notes")


class ProjectResults(ma.fields.Field):
    """``ResultsOut`` read from the project's own columns (a record or a mapping of them).

    Its fields are plain values (numbers, text, null), so each is read as it is; building a
    ``ResultsOut`` per project cost more than the rest of the record.
    """

    _CHECK_ATTRIBUTE = False
    _SOURCES = tuple(
        (name, field.attribute or name) for name, field in ResultsOut._declared_fields.items()
    )

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return {name: get_value(obj, source) for name, source in self._SOURCES}


class ProjectSummaryOut(ma.Schema):
    """A project as a list row shows it."""

    id = ma.fields.UUID(dump_only=True)
    acronym = ma.fields.String()
    title = ma.fields.String()
    summary = ma.fields.String(allow_none=True)
    domains = ma.fields.List(ma.fields.Nested(DomainRef))
    trl_start = ma.fields.Integer(allow_none=True)
    trl_target = ma.fields.Integer(allow_none=True)
    duration_months = ma.fields.Integer(allow_none=True)
    total_budget_cents = ma.fields.Integer(allow_none=True)
    currency = ma.fields.String()
    follower_id = ma.fields.UUID()
    # Read as a value (sorted as text by whoever builds the record) rather than computed by a
    # ``Function`` field, which inspects its function's signature on every call.
    team_ids = ma.fields.List(ma.fields.UUID(), dump_only=True)
    confidential = ma.fields.Boolean()
    external_id = ma.fields.String(allow_none=True)
    state = ma.fields.String(metadata={"enum": STATES})
    state_since = ma.fields.Date()
    allowed_transitions = ma.fields.List(
        ma.fields.String(metadata={"enum": STATES}),
        metadata={"description": "The states the project may move to next."},
    )
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class PartnerOut(ma.Schema):
    """A member or an outside organisation in the consortium."""

    id = ma.fields.UUID(dump_only=True)
    project_id = ma.fields.UUID()
    member_id = ma.fields.UUID(allow_none=True)
    organisation_name = ma.fields.String(allow_none=True)
    siren = ma.fields.String(allow_none=True)
    role = ma.fields.String(metadata={"enum": ROLES})
    category = ma.fields.String(
        metadata={
            "enum": CATEGORIES,
            "description": "The partner's category when the project was submitted (frozen).",
        }
    )
    budget_cents = ma.fields.Integer(allow_none=True)
    aid_requested_cents = ma.fields.Integer(allow_none=True)
    aid_obtained_cents = ma.fields.Integer(allow_none=True)
    aid_form = ma.fields.String(allow_none=True, metadata={"enum": AID_FORMS})
    currency = ma.fields.String()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class SubmissionOut(ma.Schema):
    """A submission of the project to a funding call, with its label decision."""

    id = ma.fields.UUID(dump_only=True)
    project_id = ma.fields.UUID()
    programme = ma.fields.String(metadata={"enum": PROGRAMMES})
    call_name = ma.fields.String()
    deadline = ma.fields.Date(allow_none=True)
    submitted_on = ma.fields.Date(allow_none=True)
    label_decision = ma.fields.String(metadata={"enum": [d.value for d in LabelDecision]})
    label_decided_on = ma.fields.Date(allow_none=True)
    label_decided_by_id = ma.fields.UUID(allow_none=True)
    label_note = ma.fields.String(allow_none=True)
    decision_date = ma.fields.Date(allow_none=True)
    requested_cents = ma.fields.Integer(allow_none=True)
    obtained_cents = ma.fields.Integer(allow_none=True)
    currency = ma.fields.String()
    outcome = ma.fields.String(metadata={"enum": OUTCOMES})
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class ProjectOut(ProjectSummaryOut):
    """A project with its consortium, submissions, lifecycle and results."""

    partners = ma.fields.List(ma.fields.Nested(PartnerOut))
    submissions = ma.fields.List(ma.fields.Nested(SubmissionOut))
    transitions = ma.fields.List(ma.fields.Nested(TransitionOut))
    results = ProjectResults(dump_only=True, metadata={"type": "object"})


class ResultsIn(ma.Schema):
    """What the project produced; only once it is closed (409 before)."""

    products_launched = ma.fields.Integer(strict=True, allow_none=True, validate=COUNT)
    patents_filed = ma.fields.Integer(strict=True, allow_none=True, validate=COUNT)
    jobs_created = ma.fields.Integer(strict=True, allow_none=True, validate=COUNT)
    follow_on_funding_cents = _cents()
    notes = TrimmedString(allow_none=True, validate=LONG_TEXT)


class ProjectPatch(ma.Schema):
    """Fields of a project to change; ``domains`` and ``team_ids``, when sent, replace the
    previous lists. The state moves only through ``/transitions``."""

    acronym = TrimmedString(validate=ACRONYM)
    title = TrimmedString(validate=TITLE)
    summary = TrimmedString(allow_none=True, validate=LONG_TEXT)
    domains = BoundedList(
        Text(validate=ma.validate.Length(min=1, max=50)),
        max_items=20,
        validate=_no_repeats,
        metadata={"description": "Codes of domains of activity (see `/domains`)."},
    )
    trl_start = ma.fields.Integer(strict=True, allow_none=True, validate=TRL)
    trl_target = ma.fields.Integer(strict=True, allow_none=True, validate=TRL)
    duration_months = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=240)
    )
    total_budget_cents = _cents()
    follower_id = ma.fields.UUID(
        metadata={"description": "The staff user following the project (default: you)."}
    )
    team_ids = BoundedList(
        ma.fields.UUID(),
        max_items=MAX_TEAM,
        validate=_no_repeats,
        metadata={"description": "Other staff users of the project's team."},
    )
    confidential = Flag(
        metadata={"description": "Visible only to the follower, the team and admins."}
    )
    external_id = TrimmedString(allow_none=True, validate=EXTERNAL_ID)
    results = ma.fields.Nested(ResultsIn)

    @ma.validates_schema
    def check_trl(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, target = data.get("trl_start"), data.get("trl_target")
        if start is not None and target is not None and target < start:
            raise ma.ValidationError("Must not be below trl_start.", field_name="trl_target")


class ProjectCreate(ProjectPatch):
    """A new project (state `idea`)."""

    acronym = TrimmedString(required=True, validate=ACRONYM)
    title = TrimmedString(required=True, validate=TITLE)
    confidential = Flag(
        load_default=False,
        metadata={"description": "Visible only to the follower, the team and admins."},
    )


class ProjectUpsert(ProjectPatch):
    """A project sent by an importer, identified by the ``external_id`` in the path: on
    creation the body is the new project; on update only the fields sent change."""

    acronym = TrimmedString(required=True, validate=ACRONYM)
    title = TrimmedString(required=True, validate=TITLE)

    class Meta:
        exclude = ("external_id",)


class TransitionCreate(ma.Schema):
    """A move of the lifecycle."""

    to = ma.fields.String(required=True, validate=ma.validate.OneOf(STATES))
    on = _day(metadata={"description": "The day it happened (default today)."})
    note = TrimmedString(allow_none=True, validate=NOTE)


class ProjectQuery(ListQuery):
    """Filters of the project list."""

    sort = sort_field("created_at", "updated_at", "acronym", default="-created_at")
    q = SearchText(description="Search acronym and title, ignoring case and accents.")
    state = ma.fields.String(validate=ma.validate.OneOf(STATES))
    programme = ma.fields.String(
        validate=ma.validate.OneOf(PROGRAMMES),
        metadata={"description": "Projects with a submission to this programme."},
    )
    domain = Text(
        validate=ma.validate.Length(min=1, max=50), metadata={"description": "A domain code."}
    )
    member_id = ma.fields.UUID(metadata={"description": "Projects this member is a partner of."})
    coordinator_category = ma.fields.String(
        validate=ma.validate.OneOf(CATEGORIES),
        metadata={"description": "Projects whose coordinator has this (frozen) category."},
    )
    labelled_in = ma.fields.Integer(
        strict=False,
        validate=YEAR,
        metadata={"description": "Projects with a submission labelled in this year."},
    )
    funded_in = ma.fields.Integer(
        strict=False,
        validate=YEAR,
        metadata={"description": "Projects with a submission funded (decision date) this year."},
    )
    follower_id = ma.fields.UUID()
    external_id = Text(validate=EXTERNAL_ID)


ProjectPage = page_of(ProjectSummaryOut, "ProjectPage")


class PartnerPatch(ma.Schema):
    """Fields of a partner to change."""

    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    category = ma.fields.String(
        validate=ma.validate.OneOf(CATEGORIES),
        metadata={"description": "Default: the member's category (required for outsiders)."},
    )
    organisation_name = TrimmedString(allow_none=True, validate=ma.validate.Length(min=1, max=200))
    siren = Siren(allow_none=True)
    budget_cents = _cents()
    aid_requested_cents = _cents()
    aid_obtained_cents = _cents()
    aid_form = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(AID_FORMS))


class PartnerCreate(PartnerPatch):
    """A partner: a member (``member_id``) or an outside organisation (name, SIREN, category)."""

    member_id = ma.fields.UUID(allow_none=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))

    @ma.validates_schema
    def check_member_or_outsider(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("member_id") is not None:
            for name in ("organisation_name", "siren"):
                if data.get(name) is not None:
                    raise ma.ValidationError(
                        "Give either member_id or an outside organisation.", field_name=name
                    )
            return
        if not data.get("organisation_name"):
            raise ma.ValidationError(
                "An outside organisation needs a name (or give member_id).",
                field_name="organisation_name",
            )
        if not data.get("category"):
            raise ma.ValidationError(
                "An outside organisation needs a category.", field_name="category"
            )


PartnerPage = page_of(PartnerOut, "PartnerPage")


class SubmissionPatch(ma.Schema):
    """Fields of a submission to change; the label decision has its own action."""

    programme = ma.fields.String(validate=ma.validate.OneOf(PROGRAMMES))
    call_name = TrimmedString(validate=ma.validate.Length(min=1, max=200))
    deadline = _day(allow_none=True)
    submitted_on = _day(allow_none=True)
    decision_date = _day(allow_none=True)
    requested_cents = _cents()
    obtained_cents = _cents()
    outcome = ma.fields.String(validate=ma.validate.OneOf(OUTCOMES))


class SubmissionCreate(SubmissionPatch):
    """A submission to a funding call."""

    programme = ma.fields.String(required=True, validate=ma.validate.OneOf(PROGRAMMES))
    call_name = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=200))


SubmissionPage = page_of(SubmissionOut, "SubmissionPage")


class LabelCreate(ma.Schema):
    """The cluster's label decision on one submission."""

    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISIONS))
    on = _day(metadata={"description": "The day of the decision (default today)."})
    note = TrimmedString(allow_none=True, validate=NOTE)


class PartnerQuery(ListQuery):
    """Page of a project's partners (in the order they joined)."""

    sort = sort_field("created_at", default="created_at")


class SubmissionQuery(ListQuery):
    """Page of a project's submissions (oldest first)."""

    sort = sort_field("created_at", default="created_at")


class EligibilityQuery(ma.Schema):
    """Which call's rules to check."""

    programme = ma.fields.String(required=True, validate=ma.validate.OneOf(PROGRAMMES))


class EligibilityRule(ma.Schema):
    rule = ma.fields.String()
    passed = ma.fields.Boolean()
    reason = ma.fields.String()


class EligibilityReport(ma.Schema):
    """Which rules of the call the consortium passes, and why not."""

    programme = ma.fields.String(metadata={"enum": PROGRAMMES})
    eligible = ma.fields.Boolean()
    rules = ma.fields.List(ma.fields.Nested(EligibilityRule))


class ProjectTimelineQuery(ExportArgs):
    """Page and filters of a project's timeline (newest first)."""

    limit = ListQuery._declared_fields["limit"]
    cursor = ListQuery._declared_fields["cursor"]
    kinds = BoundedList(
        ma.fields.String(validate=ma.validate.OneOf(["transition", "submission", "interaction"])),
        max_items=3,
        metadata={"description": "Only these kinds (repeat the argument for several)."},
    )
    since = QueryDateTime(metadata={"description": "At or after this instant."})
    until = QueryDateTime(metadata={"description": "Before this instant."})

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ma.ValidationError("Must not be before since.", field_name="until")
