"""Deterministic R&D project data for the benchmark: projects along their lifecycle, each with
its consortium (one coordinator), its submissions, its transitions and its team.

Called by ``bench.generate`` with a generator of its own; the rows follow the rules the services
apply (allowed transitions only, one coordinator, categories copied from the members), so the
application reads them as it reads its own.
"""

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import (
    Member,
    Programme,
    Project,
    ProjectPartner,
    ProjectStaff,
    ProjectSubmission,
    ProjectTransition,
    project_domains,
)
from services.text import fold_all

PROJECTS_PER_MEMBER = 0.06  # 300 projects for 5,000 members (scale 1)
COMPANIES = ("startup", "sme", "midcap", "large_company")
# A path through the lifecycle, and how far along it projects stop (weights).
PATH = (
    "idea", "consortium_building", "label_requested", "labelled", "submitted", "funded",
    "agreement_signed", "running", "closed",
)  # fmt: skip
STOPS = (5, 10, 8, 6, 10, 8, 5, 30, 18)
ACRONYM_WORDS = (
    "CARDIA", "NEURO", "ONCO", "GENOM", "IMAGE", "VACCI", "DIAG", "THERA", "BIOM", "TELE",
    "PREV", "CELL", "RADIO", "PHARM", "SOIN",
)  # fmt: skip
TITLE_WORDS = (
    "Détection précoce", "Imagerie cérébrale", "Thérapie génique", "Biomarqueurs sanguins",
    "Télésurveillance", "Intelligence artificielle", "Dispositif implantable", "Vaccin",
    "Médecine personnalisée", "Essai clinique", "Jumeau numérique", "Cancer du sein",
    "Insuffisance cardiaque", "Maladies rares", "Neurodégénérescence",
)  # fmt: skip


@dataclass
class ProjectCounts:
    projects: int = 0
    partners: int = 0
    submissions: int = 0
    transitions: int = 0


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate_projects(
    session: Session,
    rng: random.Random,
    member_ids: Sequence[uuid.UUID],
    staff_ids: Sequence[uuid.UUID],
    domain_ids: Sequence[uuid.UUID],
    now: datetime,
) -> ProjectCounts:
    """Insert about ``PROJECTS_PER_MEMBER`` projects per member (flushes; the caller commits)."""
    counts = ProjectCounts()
    if not member_ids or not staff_ids:
        return counts
    # Every member's category, kept for those given: an IN list of all of them would pass
    # PostgreSQL's limit of 65,535 parameters at scale 20.
    wanted = set(member_ids)
    category_of = {
        member_id: category
        for member_id, category in session.execute(select(Member.id, Member.category))
        if member_id in wanted
    }
    companies = [m for m in member_ids if category_of.get(m) in COMPANIES]
    research = [m for m in member_ids if category_of.get(m) in ("academic_lab", "clinical_centre")]
    rows: dict[str, list[dict[str, Any]]] = {
        "projects": [], "domains": [], "staff": [], "partners": [], "submissions": [],
        "transitions": [],
    }  # fmt: skip
    programmes = [programme.value for programme in Programme]
    for index in range(round(len(member_ids) * PROJECTS_PER_MEMBER)):
        project_id = _uuid(rng)
        created = now - timedelta(days=rng.randrange(60, 1500))
        stop = rng.choices(range(len(PATH)), weights=STOPS)[0]
        state = PATH[stop]
        acronym = f"{rng.choice(ACRONYM_WORDS)}{index:03d}"
        title = f"{rng.choice(TITLE_WORDS)} et {rng.choice(TITLE_WORDS).lower()}"
        follower = rng.choice(staff_ids)
        day = created.date()
        for from_state, to_state in zip(PATH[:stop], PATH[1 : stop + 1], strict=True):
            day += timedelta(days=rng.randrange(20, 120))
            rows["transitions"].append(
                {"id": _uuid(rng), "project_id": project_id, "from_state": from_state,
                 "to_state": to_state, "on": min(day, now.date()),
                 "at": datetime.combine(min(day, now.date()), datetime.min.time(), UTC),
                 "by_user_id": follower, "note": None}
            )  # fmt: skip
        budget = rng.randrange(50, 800) * 1_000_000  # 0.5 to 8 M EUR, in cents
        rows["projects"].append(
            {"id": project_id, "created_at": created, "updated_at": created, "version": 1,
             "acronym": acronym, "title": title, "summary": f"{title} : projet collaboratif.",
             "trl_start": rng.randrange(2, 5), "trl_target": rng.randrange(5, 8),
             "duration_months": rng.choice((24, 30, 36, 48)), "total_budget_cents": budget,
             "currency": "EUR", "follower_id": follower, "confidential": rng.random() < 0.1,
             "external_id": None, "state": state, "state_since": min(day, now.date()),
             "products_launched": None, "patents_filed": None, "jobs_created": None,
             "follow_on_funding_cents": None, "results_notes": None,
             "search_text": fold_all(acronym, title)}
        )  # fmt: skip
        for domain_id in rng.sample(list(domain_ids), min(len(domain_ids), rng.randrange(1, 3))):
            rows["domains"].append({"project_id": project_id, "domain_id": domain_id})
        for user_id in {rng.choice(staff_ids) for _ in range(rng.randrange(0, 3))} - {follower}:
            rows["staff"].append({"project_id": project_id, "user_id": user_id})
        # Two companies and a laboratory when the data has them (small scales may not).
        consortium = rng.sample(companies, min(2, len(companies)))
        consortium += rng.sample(research, min(1, len(research)))
        consortium += rng.sample(member_ids, min(len(member_ids), rng.randrange(1, 5)))
        share = budget // len(consortium)
        for position, member_id in enumerate(dict.fromkeys(consortium)):
            rows["partners"].append(
                {"id": _uuid(rng), "created_at": created, "updated_at": created, "version": 1,
                 "project_id": project_id, "member_id": member_id, "organisation_name": None,
                 "siren": None, "role": "coordinator" if position == 0 else "partner",
                 "category": category_of[member_id], "budget_cents": share,
                 "aid_requested_cents": share // 2, "aid_obtained_cents": None,
                 "aid_form": "grant", "currency": "EUR"}
            )  # fmt: skip
        if stop >= PATH.index("label_requested"):
            for attempt in range(rng.randrange(1, 3)):
                last = attempt == 0
                labelled = stop >= PATH.index("labelled") and last
                funded = stop >= PATH.index("funded") and last
                decided = date(created.year, 1, 1) + timedelta(days=rng.randrange(0, 700))
                rows["submissions"].append(
                    {"id": _uuid(rng), "created_at": created, "updated_at": created,
                     "version": 1, "project_id": project_id,
                     "programme": rng.choice(programmes),
                     "call_name": f"Appel {created.year + attempt}", "deadline": decided,
                     "submitted_on": decided if labelled else None,
                     "label_decision": "granted" if labelled else "pending",
                     "label_decided_on": decided if labelled else None,
                     "label_decided_by_id": follower if labelled else None, "label_note": None,
                     "decision_date": decided if funded else None,
                     "requested_cents": budget // 2,
                     "obtained_cents": budget * 2 // 5 if funded else None, "currency": "EUR",
                     "outcome": "funded" if funded else "pending"}
                )  # fmt: skip
    for name, target in (
        ("projects", Project),
        ("domains", project_domains),
        ("staff", ProjectStaff),
        ("partners", ProjectPartner),
        ("submissions", ProjectSubmission),
        ("transitions", ProjectTransition),
    ):
        if rows[name]:
            session.execute(insert(target), rows[name])
    counts.projects = len(rows["projects"])
    counts.partners = len(rows["partners"])
    counts.submissions = len(rows["submissions"])
    counts.transitions = len(rows["transitions"])
    return counts
