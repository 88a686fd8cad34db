"""Deterministic benchmark data: members, contacts, affiliations and memberships in Île-de-France.

``python -m bench.generate --scale 1`` loads 5,000 members and 20,000 contacts (scale 20: twenty
times that), and about ten interactions per member and year over three years (150,000; three
million at scale 20) owned by generated staff users, one event per 50 members with their
registrations (about 100 events and 9,000 registrations at scale 1), 300 R&D projects per
scale with their partners and submissions (bench/projects.py), into ``DATABASE_URL`` after
migrating it, and creates the bench users. The same seed
gives the same rows, ids included, so two runs measure the same data. Rows go in through the
project's models in bulk (``session.execute(insert(Model), rows)``, which SQLAlchemy sends as
multi-row INSERTs), with ``search_text``/``sort_name`` folded by ``services.text`` exactly as the
services fold them, so the application finds what the generator wrote.
"""

import argparse
import functools
import random
import string
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session
from stdnum import luhn

from bench.bulk import insert_rows
from bench.events import generate_events
from bench.memberships import generate_memberships
from bench.projects import generate_projects
from models import (
    AuthSession,
    Event,
    FeeSchedule,
    Interaction,
    InteractionContact,
    InteractionMember,
    InteractionParticipant,
    InteractionType,
    Invoice,
    InvoiceCounter,
    LoginThrottle,
    Membership,
    MembershipCampaign,
    MembershipPayment,
    MembershipPlan,
    Project,
    ProjectInteraction,
    ProjectPartner,
    ProjectStaff,
    ProjectSubmission,
    ProjectTransition,
    Registration,
    User,
    event_domains,
    event_organisers,
    project_domains,
)
from models.contacts import Affiliation, AffiliationRole, Contact
from models.members import HEADCOUNT_BANDS, Domain, Member, MemberCategory, member_domains
from services.geography import departement_of
from services.text import fold, fold_all

MEMBERS_PER_SCALE = 5_000
CONTACTS_PER_SCALE = 20_000
BATCH_SIZE = 5_000
SEED = 20_240_501

BENCH_PASSWORD = "bench-password-not-secret"
BENCH_USERS = {"admin": "bench-admin@example.org", "viewer": "bench-viewer@example.org"}

# Real Île-de-France postal codes with their commune, a few per département.
IDF_PLACES: tuple[tuple[str, str], ...] = (
    ("75001", "Paris"), ("75005", "Paris"), ("75010", "Paris"), ("75012", "Paris"),
    ("75013", "Paris"), ("75014", "Paris"), ("75015", "Paris"), ("75018", "Paris"),
    ("77000", "Melun"), ("77100", "Meaux"), ("77300", "Fontainebleau"),
    ("77420", "Champs-sur-Marne"), ("77700", "Chessy"),
    ("78000", "Versailles"), ("78100", "Saint-Germain-en-Laye"),
    ("78180", "Montigny-le-Bretonneux"),
    ("78280", "Guyancourt"), ("78350", "Jouy-en-Josas"),
    ("91000", "Évry-Courcouronnes"), ("91190", "Gif-sur-Yvette"), ("91300", "Massy"),
    ("91400", "Orsay"), ("91120", "Palaiseau"), ("91058", "Évry-Courcouronnes"),
    ("92100", "Boulogne-Billancourt"), ("92200", "Neuilly-sur-Seine"),
    ("92130", "Issy-les-Moulineaux"),
    ("92400", "Courbevoie"), ("92120", "Montrouge"), ("92290", "Châtenay-Malabry"),
    ("93200", "Saint-Denis"), ("93100", "Montreuil"), ("93000", "Bobigny"),
    ("93400", "Saint-Ouen-sur-Seine"), ("93160", "Noisy-le-Grand"),
    ("94000", "Créteil"), ("94800", "Villejuif"), ("94270", "Le Kremlin-Bicêtre"),
    ("94200", "Ivry-sur-Seine"), ("94300", "Vincennes"),
    ("95000", "Cergy"), ("95100", "Argenteuil"), ("95200", "Sarcelles"),
    ("95880", "Enghien-les-Bains"), ("95300", "Pontoise"),
)  # fmt: skip

CATEGORY_WEIGHTS: tuple[tuple[str, int], ...] = (
    (MemberCategory.STARTUP, 35), (MemberCategory.SME, 25), (MemberCategory.MIDCAP, 6),
    (MemberCategory.LARGE_COMPANY, 5), (MemberCategory.ACADEMIC_LAB, 12),
    (MemberCategory.CLINICAL_CENTRE, 6), (MemberCategory.TRAINING_ORGANISATION, 3),
    (MemberCategory.INVESTOR, 4), (MemberCategory.PUBLIC_BODY, 2), (MemberCategory.OTHER, 2),
)  # fmt: skip

NAME_WORDS = (
    "Santé", "Médical", "Diagnostics", "Thérapeutics", "Biotech", "Imagerie", "Génomique",
    "Cardio", "Neuro", "Onco", "Pharma", "Dispositifs", "Numérique", "Soins", "Cellules",
    "Vaccins", "Prévention", "Télésanté", "Radiologie", "Biomarqueurs",
)  # fmt: skip
LEGAL_FORMS = ("SAS", "SA", "SARL", "SASU", "SCOP")
LAB_PREFIXES = ("Laboratoire", "Institut", "Unité", "Centre de recherche")
HOSPITAL_PREFIXES = ("Hôpital", "Clinique", "Centre hospitalier", "Institut")

# SIRENs of generated members start with 1-4; bench/scenario.lua creates members with 5-8.
SIREN_PAYLOADS = range(10_000_000, 50_000_000)

INTERACTIONS_PER_MEMBER_YEAR = 10
INTERACTION_YEARS = 3
GENERATED_STAFF = 20
INTERACTION_SUBJECTS = (
    "Point d'étape projet", "Mise en relation avec un industriel", "Conseil réglementaire MDR",
    "Préparation dossier Bpifrance", "Visite du laboratoire", "Suivi après l'événement",
    "Accompagnement à l'international", "Échange sur la stratégie clinique",
    "Présentation du cluster", "Relance adhésion", "Appel de qualification",
    "Réunion de lancement", "Revue du marquage CE", "Recherche de partenaires hospitaliers",
)  # fmt: skip


@dataclass
class GenerationReport:
    members: int = 0
    contacts: int = 0
    affiliations: int = 0
    member_domains: int = 0
    memberships: int = 0
    payments: int = 0
    interactions: int = 0
    events: int = 0
    registrations: int = 0
    projects: int = 0
    project_partners: int = 0
    project_submissions: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    member_ids: list[uuid.UUID] = field(default_factory=list, repr=False)
    timings: dict[str, float] = field(default_factory=dict)


def valid_siren(payload: int) -> str:
    """A SIREN whose ninth digit is the Luhn check digit of the first eight."""
    digits = f"{payload:08d}"
    return digits + luhn.calc_check_digit(digits)


def valid_siret(siren: str, nic: int) -> str:
    """A SIRET: the SIREN, a four-digit establishment number and a Luhn check digit."""
    digits = f"{siren}{nic:04d}"
    return digits + luhn.calc_check_digit(digits)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _ascii(value: str) -> str:
    folded = fold(value)
    return "".join(ch for ch in folded if ch in string.ascii_lowercase + string.digits) or "x"


class Pools:
    """Names drawn once from Faker and combined many times: Faker is the slow part."""

    def __init__(self, faker: Faker) -> None:
        self.first_names = sorted({faker.first_name() for _ in range(1500)})
        self.last_names = sorted({faker.last_name() for _ in range(1500)})
        self.companies = sorted({faker.last_name() for _ in range(800)})
        self.streets = [faker.street_address() for _ in range(800)]
        self.jobs = [faker.job()[:200] for _ in range(300)]
        self.phrases = [faker.catch_phrase() for _ in range(300)]
        self.mail_domains = ["sante.fr", "medtech.fr", "biolab.fr", "chu-idf.fr", "example.fr"]


def _member_name(rng: random.Random, pools: Pools, category: str, index: int) -> str:
    family = rng.choice(pools.companies)
    word = rng.choice(NAME_WORDS)
    if category == MemberCategory.ACADEMIC_LAB:
        return f"{rng.choice(LAB_PREFIXES)} {word} {family} U{1000 + index % 9000}"
    if category == MemberCategory.CLINICAL_CENTRE:
        return f"{rng.choice(HOSPITAL_PREFIXES)} {family} {word}"
    return f"{family} {word}"


def member_rows(
    rng: random.Random, pools: Pools, count: int, now: datetime
) -> Iterator[dict[str, Any]]:
    """Members with valid, unique SIRENs (most of them) and a département derived from the
    postal code as the services derive it."""
    categories = [c for c, _ in CATEGORY_WEIGHTS]
    weights = [w for _, w in CATEGORY_WEIGHTS]
    payloads = rng.sample(SIREN_PAYLOADS, count)
    ids: list[uuid.UUID] = []
    for index in range(count):
        category = str(rng.choices(categories, weights)[0])
        name = _member_name(rng, pools, category, index)
        has_siren = category not in (MemberCategory.ACADEMIC_LAB, MemberCategory.OTHER) or (
            rng.random() < 0.3
        )
        siren = valid_siren(payloads[index]) if has_siren else None
        postal_code, city = rng.choice(IDF_PLACES)
        legal_name = f"{name} {rng.choice(LEGAL_FORMS)}" if has_siren else None
        created = now - timedelta(days=rng.randrange(1, 3650), seconds=rng.randrange(86400))
        member_id = _uuid(rng)
        parent_id = rng.choice(ids) if ids and rng.random() < 0.03 else None
        ids.append(member_id)
        archived = rng.random() < 0.03
        yield {
            "id": member_id,
            "created_at": created,
            "updated_at": created + timedelta(days=rng.randrange(0, 30)),
            "version": 1,
            "name": name,
            "legal_name": legal_name,
            "category": category,
            "siren": siren,
            "siret": valid_siret(siren, rng.randrange(1, 100)) if siren else None,
            "vat_number": None,
            "headcount_band": rng.choice(HEADCOUNT_BANDS),
            "year_founded": rng.randrange(1950, 2025),
            "website": f"https://www.{_ascii(name)[:40]}.fr",
            "email": f"contact@{_ascii(name)[:40]}.fr",
            "phone": f"+331{rng.randrange(40000000, 79999999)}",
            "street": rng.choice(pools.streets),
            "postal_code": postal_code,
            "city": city,
            "country": "FR",
            "departement": departement_of(postal_code),
            "description": rng.choice(pools.phrases),
            "parent_id": parent_id,
            "external_id": f"bench-{index}",
            "archived_at": created + timedelta(days=30) if archived else None,
            "archive_reason": "Cessation d'activité" if archived else None,
            "search_text": fold_all(name, legal_name, siren, city),
            "sort_name": fold(name)[:200],
        }


def contact_rows(
    rng: random.Random, pools: Pools, count: int, now: datetime
) -> Iterator[dict[str, Any]]:
    """Contacts with accented names and unique e-mail addresses."""
    for index in range(count):
        first = rng.choice(pools.first_names)
        last = rng.choice(pools.last_names)
        email = f"{_ascii(first)}.{_ascii(last)}.{index}@{rng.choice(pools.mail_domains)}"
        created = now - timedelta(days=rng.randrange(1, 3650), seconds=rng.randrange(86400))
        yield {
            "id": _uuid(rng),
            "created_at": created,
            "updated_at": created + timedelta(days=rng.randrange(0, 30)),
            "version": 1,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phones": [{"number": f"+336{rng.randrange(10000000, 99999999)}", "kind": "mobile"}],
            "preferred_language": "fr" if rng.random() < 0.9 else "en",
            "notes": None,
            "external_id": f"bench-c{index}",
            "archived_at": None,
            "archive_reason": None,
            "search_text": fold_all(first, last, email),
            "sort_name": fold_all(last, first)[:200],
        }


ROLE_CHOICES = [role.value for role in AffiliationRole]


def affiliation_rows(
    rng: random.Random,
    pools: Pools,
    contact_ids: Sequence[uuid.UUID],
    member_ids: Sequence[uuid.UUID],
    now: datetime,
) -> Iterator[dict[str, Any]]:
    """One primary affiliation per contact, and a second one for about a fifth of them."""
    for contact_id in contact_ids:
        first = rng.choice(member_ids)
        targets = [first]
        if rng.random() < 0.2:
            second = rng.choice(member_ids)
            if second != first:
                targets.append(second)
        for position, member_id in enumerate(targets):
            started = date(2010, 1, 1) + timedelta(days=rng.randrange(0, 5000))
            yield {
                "id": _uuid(rng),
                "created_at": now,
                "updated_at": now,
                "version": 1,
                "contact_id": contact_id,
                "member_id": member_id,
                "job_title": rng.choice(pools.jobs),
                "roles": rng.sample(ROLE_CHOICES, rng.randrange(1, 3)),
                "start_date": started,
                "end_date": None,
                "is_primary": position == 0,
            }


def staff_rows(rng: random.Random, count: int, now: datetime) -> list[dict[str, Any]]:
    """Staff users who own the generated interactions (they cannot log in: no usable hash)."""
    return [
        {
            "id": _uuid(rng),
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "email": f"bench-staff-{index}@example.org",
            "full_name": f"Staff {index}",
            "password_hash": "!",
            "role": "staff",
            "is_active": True,
        }
        for index in range(count)
    ]


# Subjects and notes come from small vocabularies: fold each pair once.
_folded = functools.lru_cache(maxsize=100_000)(fold_all)


def interaction_rows(
    rng: random.Random,
    member_ids: Sequence[uuid.UUID],
    contacts_of: dict[uuid.UUID, list[uuid.UUID]],
    staff_ids: Sequence[uuid.UUID],
    now: datetime,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """About ``INTERACTIONS_PER_MEMBER_YEAR`` interactions per member and year over
    ``INTERACTION_YEARS`` years, each linked to its member and often to one of its contacts;
    yields (table, row) so that links follow their interaction."""
    types = [kind.value for kind in InteractionType]
    span = INTERACTION_YEARS * 365 * 86400
    per_member = INTERACTIONS_PER_MEMBER_YEAR * INTERACTION_YEARS
    for member_id in member_ids:
        for _ in range(rng.randrange(per_member // 2, per_member * 3 // 2 + 1)):
            interaction_id = _uuid(rng)
            occurred = now - timedelta(seconds=rng.randrange(span))
            subject = rng.choice(INTERACTION_SUBJECTS)
            notes = f"{rng.choice(INTERACTION_SUBJECTS)} ; {rng.choice(NAME_WORDS)}"
            owner = rng.choice(staff_ids)
            follow_up = rng.random() < 0.15
            done = follow_up and rng.random() < 0.5
            yield (
                "interactions",
                {
                    "id": interaction_id,
                    "created_at": occurred,
                    "updated_at": occurred,
                    "version": 1,
                    "kind": "service" if rng.random() < 0.4 else "touchpoint",
                    "type": rng.choice(types),
                    "channel": rng.choice(("phone", "email", "video", "in_person")),
                    "subject": subject,
                    "notes": notes,
                    "outcome": None,
                    "minutes_spent": rng.randrange(5, 240),
                    "occurred_at": occurred,
                    "owner_id": owner,
                    "confidential": rng.random() < 0.05,
                    "external_id": None,
                    "source": None,
                    "follow_up_due": (occurred + timedelta(days=rng.randrange(3, 60))).date()
                    if follow_up
                    else None,
                    "follow_up_assignee_id": rng.choice(staff_ids) if follow_up else None,
                    "follow_up_done": done,
                    "follow_up_done_at": occurred + timedelta(days=2) if done else None,
                    "archived_at": None,
                    "archive_reason": None,
                    "restored_at": None,
                    "restore_reason": None,
                    "search_text": _folded(subject, notes),
                },
            )
            yield (
                "interaction_members",
                {
                    "interaction_id": interaction_id,
                    "member_id": member_id,
                    "role": "requester" if rng.random() < 0.3 else "participant",
                },
            )
            contacts = contacts_of.get(member_id)
            if contacts and rng.random() < 0.6:
                yield (
                    "interaction_contacts",
                    {
                        "interaction_id": interaction_id,
                        "contact_id": rng.choice(contacts),
                        "role": "participant",
                    },
                )
            if rng.random() < 0.2:
                other = rng.choice(staff_ids)
                if other != owner:
                    yield (
                        "interaction_participants",
                        {
                            "interaction_id": interaction_id,
                            "user_id": other,
                        },
                    )


_INTERACTION_TABLES = {
    "interactions": Interaction,
    "interaction_members": InteractionMember,
    "interaction_contacts": InteractionContact,
    "interaction_participants": InteractionParticipant,
}


def _copy_interactions(session: Session, rows: Iterator[tuple[str, dict[str, Any]]]) -> int:
    """PostgreSQL: stream the rows with COPY, the tables' secondary indexes dropped meanwhile
    and built once at the end (at scale 20, three million interactions and their links: row
    by row index upkeep, the trigram index above all, made the INSERTs take hours)."""
    tables = {name: model.__table__ for name, model in _INTERACTION_TABLES.items()}
    indexes = [index for table in tables.values() for index in table.indexes]
    connection = session.connection()
    for index in indexes:
        index.drop(connection)
    raw = connection.connection.dbapi_connection
    count = 0
    # One COPY per table; links wait in memory until their interactions are in (foreign keys).
    links: dict[str, list[tuple[Any, ...]]] = {
        name: [] for name in tables if name != "interactions"
    }
    columns = {name: [column.name for column in table.columns] for name, table in tables.items()}
    with raw.cursor() as cursor:
        interaction_columns = columns["interactions"]
        statement = f"COPY interactions ({', '.join(interaction_columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for table, row in rows:
                if table == "interactions":
                    copy.write_row(tuple(row[name] for name in interaction_columns))
                    count += 1
                else:
                    links[table].append(tuple(row[name] for name in columns[table]))
        for table, values in links.items():
            statement = f"COPY {table} ({', '.join(columns[table])}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for value in values:
                    copy.write_row(value)
    for index in indexes:
        index.create(connection)
    return count


def _insert_interactions(
    session: Session, rows: Iterator[tuple[str, dict[str, Any]]], batch_size: int
) -> int:
    """Insert the rows table by table in batches, interactions before their links (COPY on
    PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return _copy_interactions(session, rows)
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in _INTERACTION_TABLES}
    count = 0

    def flush() -> None:
        for name, model in _INTERACTION_TABLES.items():  # interactions first
            if pending[name]:
                session.execute(insert(model), pending[name])
                pending[name] = []

    for table, row in rows:
        pending[table].append(row)
        count += table == "interactions"
        if len(pending["interactions"]) >= batch_size:
            flush()
    flush()
    return count


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def wipe_bench_data(session: Session) -> None:
    """Empty the tables the generator and the benchmark write (the domain vocabulary stays)."""
    tables = [
        "registrations", "event_organisers", "event_domains", "events",
        "project_interactions", "project_transitions", "project_submissions", "project_partners",
        "project_staff", "project_domains", "projects",
        "interaction_participants", "interaction_contacts", "interaction_members", "interactions",
        "invoices", "invoice_counters", "membership_payments", "memberships",
        "membership_campaigns", "fee_schedules", "membership_plans",
        "affiliations", "contacts", "member_domains", "members", "auth_sessions",
        "login_throttle", "users",
    ]  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    else:
        session.execute(delete(Invoice).where(Invoice.credited_invoice_id.is_not(None)))
        session.execute(delete(Invoice))
        session.execute(delete(InvoiceCounter))
        session.execute(delete(MembershipPayment))
        # Renewals refer to the membership they renew: delete the latest periods first.
        while session.execute(
            delete(Membership).where(
                ~Membership.id.in_(
                    select(Membership.renewal_of_id).where(Membership.renewal_of_id.is_not(None))
                )
            )
        ).rowcount:
            pass
        for model in (MembershipCampaign, FeeSchedule, MembershipPlan):
            session.execute(delete(model))
        for model in (
            ProjectInteraction, ProjectTransition, ProjectSubmission, ProjectPartner,
            ProjectStaff, project_domains, Project,
        ):  # fmt: skip
            session.execute(delete(model))
        for model in reversed(_INTERACTION_TABLES.values()):
            session.execute(delete(model))
        for model in (Registration, event_organisers, event_domains, Event):
            session.execute(delete(model))
        # SQLite checks RESTRICT row by row: a parent may not go before its subsidiaries.
        session.execute(update(Member).values(parent_id=None))
        for model in (Affiliation, Contact, member_domains, Member, AuthSession, LoginThrottle):
            session.execute(delete(model))
        session.execute(delete(User))


def create_bench_users(session: Session) -> dict[str, str]:
    """The accounts the benchmark logs in with (role -> e-mail), all with ``BENCH_PASSWORD``."""
    from services.users import create_user  # noqa: PLC0415 - keeps argon2 set-up out of imports

    for role, email in BENCH_USERS.items():
        if session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(session, email=email, password=BENCH_PASSWORD, role=role)
    return dict(BENCH_USERS)


def generate(
    session: Session, *, members: int, contacts: int, seed: int = SEED, batch_size: int = BATCH_SIZE
) -> GenerationReport:
    """Insert ``members`` members and ``contacts`` contacts (flushes; the caller commits)."""
    rng = random.Random(seed)
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    pools = Pools(faker)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    report = GenerationReport()
    started = time.perf_counter()

    domain_ids = list(session.scalars(select(Domain.id).order_by(Domain.code)))
    member_ids: list[uuid.UUID] = []
    for batch in _batches(member_rows(rng, pools, members, now), batch_size):
        insert_rows(session, Member, batch)
        member_ids.extend(row["id"] for row in batch)
    report.timings["members"] = time.perf_counter() - started

    links = (
        {"member_id": member_id, "domain_id": domain_id}
        for member_id in member_ids
        for domain_id in rng.sample(domain_ids, min(len(domain_ids), rng.randrange(1, 4)))
    )
    for batch in _batches(links, batch_size):
        insert_rows(session, member_domains, batch)
        report.member_domains += len(batch)
    report.timings["member_domains"] = time.perf_counter() - started

    contact_ids: list[uuid.UUID] = []
    for batch in _batches(contact_rows(rng, pools, contacts, now), batch_size):
        insert_rows(session, Contact, batch)
        contact_ids.extend(row["id"] for row in batch)
    report.timings["contacts"] = time.perf_counter() - started

    contacts_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    if member_ids:
        rows = affiliation_rows(rng, pools, contact_ids, member_ids, now)
        for batch in _batches(rows, batch_size):
            insert_rows(session, Affiliation, batch)
            report.affiliations += len(batch)
            for row in batch:
                contacts_of.setdefault(row["member_id"], []).append(row["contact_id"])
    report.timings["affiliations"] = time.perf_counter() - started

    counts = generate_memberships(session, rng, member_ids, batch_size)
    report.memberships, report.payments = counts.memberships, counts.payments
    report.timings["memberships"] = time.perf_counter() - started
    started = time.perf_counter()
    # A generator of its own, so that adding interactions changed none of the rows above.
    interaction_rng = random.Random(seed + 1)
    staff = staff_rows(interaction_rng, GENERATED_STAFF, now)
    session.execute(insert(User), staff)
    report.interactions = _insert_interactions(
        session,
        interaction_rows(
            interaction_rng, member_ids, contacts_of, [row["id"] for row in staff], now
        ),
        batch_size,
    )
    report.timings["interactions"] = time.perf_counter() - started
    # Events draw from a generator of their own too: the rows above stay as they were.
    event_counts = generate_events(session, random.Random(seed + 2), contacts_of, batch_size, now)
    report.events, report.registrations = event_counts.events, event_counts.registrations
    report.timings["events"] = time.perf_counter() - started
    # Projects too have a generator of their own: the rows above stay the same.
    project_counts = generate_projects(
        session,
        random.Random(seed + 3),
        member_ids,
        [row["id"] for row in staff],
        domain_ids,
        now,
    )
    report.projects = project_counts.projects
    report.project_partners = project_counts.partners
    report.project_submissions = project_counts.submissions
    report.timings["projects"] = time.perf_counter() - started

    session.flush()
    report.members = len(member_ids)
    report.contacts = len(contact_ids)
    report.member_ids = member_ids
    report.seconds = time.perf_counter() - started
    rows_total = (
        report.members
        + report.contacts
        + report.affiliations
        + report.member_domains
        + report.interactions
    )
    report.rows_per_second = rows_total / report.seconds if report.seconds else 0.0
    return report


def load(
    database_url: str, *, members: int, contacts: int, seed: int = SEED, analyze: bool = True
) -> GenerationReport:
    """Migrate the database, wipe earlier bench data, generate, commit, and ANALYZE."""
    from api import create_app  # noqa: PLC0415
    from api.config import Settings  # noqa: PLC0415
    from api.extensions import db  # noqa: PLC0415
    from services.migrations import upgrade_database  # noqa: PLC0415

    # Only the engine and the password hashing are used: no token is signed with this key.
    settings = Settings.from_env(
        database_url=database_url, jwt_secret_key="generator-" * 4, log_level="WARNING"
    )
    app = create_app(settings)
    engine = db.state(app).engine
    upgrade_database(engine)
    with Session(engine) as session:
        wipe_bench_data(session)
        session.commit()
        report = generate(session, members=members, contacts=contacts, seed=seed)
        commit_started = time.perf_counter()
        session.commit()
        report.timings["commit"] = time.perf_counter() - commit_started
        with app.app_context():
            create_bench_users(session)
    if analyze and engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return report


def main(argv: list[str] | None = None) -> int:
    import os  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--members", type=int, help="overrides the scale")
    parser.add_argument("--contacts", type=int, help="overrides the scale")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    members = args.members if args.members is not None else round(MEMBERS_PER_SCALE * args.scale)
    contacts = (
        args.contacts if args.contacts is not None else round(CONTACTS_PER_SCALE * args.scale)
    )
    report = load(args.database_url, members=members, contacts=contacts, seed=args.seed)
    print(
        f"Loaded {report.members} members, {report.contacts} contacts, "
        f"{report.affiliations} affiliations, {report.member_domains} member domains, "
        f"{report.memberships} memberships, {report.payments} payments, "
        f"{report.interactions} interactions, {report.events} events, "
        f"{report.registrations} registrations, {report.projects} projects "
        f"({report.project_partners} partners, {report.project_submissions} submissions) "
        f"in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s; "
        + ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items())
        + ")"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
