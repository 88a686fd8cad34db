"""Yearly renewal campaigns: pending renewals for everyone who was a member at the end of the
previous period, and how far the renewals have come."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Invoice, Membership, MembershipCampaign, MembershipStatus
from services.errors import Conflict, InvalidInput, NotFound
from services.journal import JournalSpec, register
from services.membership_renewals import build_renewal
from services.membership_status import status_on
from services.transactions import commit

MAX_SKIPPED_LISTED = 1000

# A run journals the campaign (created, then updated with the counts of a later run) and
# each renewal it creates as membership.renewed; the list of skipped memberships is left out.
register(
    MembershipCampaign,
    JournalSpec("membership_campaign", "memberships:read", exclude=frozenset({"skipped"})),
)
ENDED = (MembershipStatus.EXPIRED, MembershipStatus.CANCELLED)


@dataclass(frozen=True)
class CampaignReport:
    """A campaign and its progress on ``as_of``."""

    campaign: MembershipCampaign
    as_of: date
    members: int
    renewed: int
    pending: int
    lapsed: int
    invoiced_cents: int
    collected_cents: int

    @property
    def version(self) -> int:
        return self.campaign.version


def _status(membership: Membership, as_of: date) -> MembershipStatus:
    paid = sum(p.amount_cents for p in membership.payments if p.paid_on <= as_of)
    return status_on(membership, as_of=as_of, paid_cents=paid)


def _members_of_previous_period(session: Session, year: int) -> list[Membership]:
    """Memberships whose period ended in ``year - 1`` and that were active on their last day,
    with their payments and their renewal (and its payments): three queries in all."""
    stmt = (
        select(Membership)
        .where(
            Membership.end_date >= date(year - 1, 1, 1),
            Membership.end_date <= date(year - 1, 12, 31),
        )
        .options(
            joinedload(Membership.plan),
            selectinload(Membership.payments),
            selectinload(Membership.renewal).selectinload(Membership.payments),
        )
        .order_by(Membership.end_date, Membership.id)
    )
    rows = session.scalars(stmt).unique().all()
    return [m for m in rows if _status(m, m.end_date) == MembershipStatus.ACTIVE]


def _report(session: Session, campaign: MembershipCampaign, as_of: date) -> CampaignReport:
    population = _members_of_previous_period(session, campaign.year)
    renewals = [m.renewal for m in population if m.renewal is not None]
    invoiced = session.scalar(
        select(func.coalesce(func.sum(Invoice.total_excl_tax_cents), 0)).where(
            Invoice.membership_id.in_([r.id for r in renewals]), Invoice.issued_on <= as_of
        )
    )
    counts = {"renewed": 0, "pending": 0, "lapsed": 0}
    for original in population:
        renewal = original.renewal
        if renewal is None:
            ended = _status(original, as_of) in (
                MembershipStatus.EXPIRED,
                MembershipStatus.CANCELLED,
            )
            counts["lapsed" if ended else "pending"] += 1
            continue
        # A renewal that counted stays renewed after its own period ends.
        status = _status(renewal, min(as_of, renewal.end_date))
        if _status(renewal, as_of) == MembershipStatus.CANCELLED:
            counts["lapsed"] += 1
        elif status == MembershipStatus.ACTIVE:
            counts["renewed"] += 1
        elif as_of <= renewal.end_date:
            counts["pending"] += 1
        else:
            counts["lapsed"] += 1
    collected = sum(
        p.amount_cents for renewal in renewals for p in renewal.payments if p.paid_on <= as_of
    )
    return CampaignReport(
        campaign=campaign,
        as_of=as_of,
        members=len(population),
        invoiced_cents=int(invoiced or 0),
        collected_cents=collected,
        **counts,
    )


def run_campaign(session: Session, *, year: int, as_of: date) -> tuple[CampaignReport, bool]:
    """Create the missing renewals of ``year`` for the members of the previous period; True if
    the campaign is new.

    Running it again creates only what is still missing (renewals are unique per membership).
    A membership that cannot be renewed (no schedule, missing member data, a period already
    taken) is skipped with the reason, and counted.
    """
    campaign = session.scalar(
        select(MembershipCampaign).where(MembershipCampaign.year == year).with_for_update()
    )
    is_new = campaign is None
    if campaign is None:
        campaign = MembershipCampaign(id=uuid.uuid4(), year=year)
        session.add(campaign)
        session.flush()
    created = 0
    skipped: list[dict[str, Any]] = []
    for original in _members_of_previous_period(session, year):
        if original.renewal is not None:
            skipped.append({"membership_id": str(original.id), "reason": "Already renewed."})
            continue
        try:
            renewal = build_renewal(session, original)
        except (InvalidInput, Conflict) as error:
            reasons = [m for ms in getattr(error, "errors", {}).values() for m in ms]
            skipped.append(
                {"membership_id": str(original.id), "reason": " ".join(reasons) or error.detail}
            )
            continue
        renewal.campaign_id = campaign.id
        session.add(renewal)
        created += 1
    campaign.created_count = created
    campaign.skipped_count = len(skipped)
    campaign.skipped = skipped[:MAX_SKIPPED_LISTED]
    commit(
        session,
        {
            "uq_membership_campaigns_year": lambda: Conflict(
                f"The {year} campaign is being run; try again.", field="year"
            ),
            "uq_memberships_renewal_of_id": lambda: Conflict(
                "A renewal was created meanwhile; run the campaign again.", field="year"
            ),
            "ex_memberships_member_period": lambda: Conflict(
                "A membership was created meanwhile; run the campaign again.", field="year"
            ),
        },
    )
    session.expire_all()  # read the new renewals into the report
    return _report(session, campaign, as_of), is_new


def get_campaign(session: Session, campaign_id: uuid.UUID, *, as_of: date) -> CampaignReport:
    """A campaign and its progress on ``as_of``: renewed, pending, lapsed, invoiced, collected."""
    campaign = session.get(MembershipCampaign, campaign_id)
    if campaign is None:
        raise NotFound("membership campaign", campaign_id)
    return _report(session, campaign, as_of)
