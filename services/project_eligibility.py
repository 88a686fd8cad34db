"""Does a consortium fit a funding call? PSPC-Régions-style rules, each with its reason.

The rules are those collaborative calls share: exactly one coordinator, at least two companies
including an SME (start-ups count) or a mid-cap, at least one research partner (laboratory or
clinical centre), a company as coordinator, and a total budget within the call's range.
Subcontractors are not consortium members and count for none of them. Categories are the
partners' frozen ones, so the answer does not drift when a company grows.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import MemberCategory, PartnerRole, Programme
from services.principals import Actor
from services.projects import get_project

C = MemberCategory
COMPANIES = frozenset({C.STARTUP, C.SME, C.MIDCAP, C.LARGE_COMPANY})
SME_OR_MIDCAP = frozenset({C.STARTUP, C.SME, C.MIDCAP})
RESEARCH = frozenset({C.ACADEMIC_LAB, C.CLINICAL_CENTRE})
# Total budget range of each call, in cents (None: no bound).
BUDGET_RANGES: dict[Programme, tuple[int | None, int | None]] = {
    Programme.PSPC_REGIONS: (100_000_000, 500_000_000),
    Programme.I_DEMO: (400_000_000, None),
    Programme.EUROSTARS: (None, 200_000_000),
}


@dataclass(frozen=True)
class Rule:
    rule: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Eligibility:
    programme: str
    eligible: bool
    rules: list[Rule]


def _euros(cents: int) -> str:
    return f"{cents // 100:,} EUR".replace(",", " ")


def _budget_rule(programme: Programme, budget: int | None) -> Rule:
    low, high = BUDGET_RANGES.get(programme, (None, None))
    if low is None and high is None:
        return Rule("budget_range", True, f"The {programme.value} call sets no budget range.")
    if budget is None:
        return Rule("budget_range", False, "The project has no total budget.")
    if low is not None and budget < low:
        return Rule("budget_range", False, f"{_euros(budget)} is below {_euros(low)}.")
    if high is not None and budget > high:
        return Rule("budget_range", False, f"{_euros(budget)} is above {_euros(high)}.")
    return Rule("budget_range", True, f"{_euros(budget)} is within the call's range.")


def check_eligibility(
    session: Session, *, actor: Actor, project_id: uuid.UUID, programme: str
) -> Eligibility:
    """Which of the call's rules the consortium passes, and why one fails."""
    project = get_project(session, actor=actor, project_id=project_id)
    members = [p for p in project.partners if p.role != PartnerRole.SUBCONTRACTOR]
    coordinators = [p for p in members if p.role == PartnerRole.COORDINATOR]
    companies = [p for p in members if p.category in COMPANIES]
    rules = [
        Rule(
            "one_coordinator",
            len(coordinators) == 1,
            f"{len(coordinators)} coordinator(s); exactly one is needed.",
        ),
        Rule(
            "two_companies",
            len(companies) >= 2,
            f"{len(companies)} compan(y/ies) in the consortium; at least two are needed.",
        ),
        Rule(
            "sme_or_midcap",
            any(p.category in SME_OR_MIDCAP for p in companies),
            "An SME, start-up or mid-cap is needed among the companies.",
        ),
        Rule(
            "research_partner",
            any(p.category in RESEARCH for p in members),
            "A research partner (laboratory or clinical centre) is needed.",
        ),
        Rule(
            "led_by_company",
            len(coordinators) == 1 and coordinators[0].category in COMPANIES,
            "The coordinator must be a company"
            + (f" (it is {coordinators[0].category})." if len(coordinators) == 1 else "."),
        ),
    ]
    budget = project.total_budget_cents
    if budget is None and any(p.budget_cents is not None for p in project.partners):
        budget = sum(p.budget_cents or 0 for p in project.partners)
    rules.append(_budget_rule(Programme(programme), budget))
    return Eligibility(programme, all(rule.passed for rule in rules), rules)
