"""Importing members: the rows of ``POST /members`` (``MemberCreate``), matched on
``external_id`` or SIREN, checked by the member service's own rules.

The rules and derivations are the service's functions (``services.members``), applied row by
row; the statements are per chunk, so that a chunk of a thousand rows costs a handful: one
query finds who holds the rows' SIRENs and external_ids, two read the stored columns and
domains of the members matched, which are compared in Python (an unchanged row writes
nothing); then one statement updates the members rows change (``member_updates``) and one
inserts the new ones (``bulk``), and the journal is told of both. The unique constraints still
decide under concurrency (the runner then replays the chunk row by row).
"""

import uuid
from collections.abc import Collection, Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row as StoredRow
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Domain, Member, member_domains
from models.types import utcnow
from schemas.members import MemberCreate
from services.domains import resolve_domains
from services.errors import InvalidInput
from services.imports.bulk import among, insert_rows
from services.imports.columns import HeaderMatch
from services.imports.member_updates import MemberChange, record_updates, update_members
from services.imports.runner import ImportOptions, Row, load_with
from services.journal import record_created

# The member service's own rules and derivations, applied here row by row (never copied).
from services.members import _SCALAR_FIELDS as _APPLIED
from services.members import _apply, _check_consistency, _check_parent

# Column names a spreadsheet may use for each field, French and English; matched ignoring
# case, accents, spaces and punctuation (README "Imports" lists them).
MEMBER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("nom", "raison sociale", "denomination", "organisation", "organization", "company"),
    "legal_name": ("denomination sociale", "nom legal", "legal name"),
    "category": ("categorie", "type de structure", "type"),
    "siren": ("numero siren", "n siren", "no siren"),
    "siret": ("numero siret", "n siret", "no siret", "siret du siege"),
    "vat_number": ("tva intracommunautaire", "numero de tva", "n tva", "vat", "tva"),
    "headcount_band": ("tranche d effectif", "tranche effectif", "effectif", "headcount"),
    "year_founded": ("annee de creation", "annee creation", "founded"),
    "website": ("site web", "site internet", "url", "web"),
    "email": ("courriel", "e mail", "mail", "adresse e mail", "adresse email"),
    "phone": ("telephone", "tel", "phone number"),
    "street": ("adresse", "rue", "address", "voie"),
    "postal_code": ("code postal", "cp", "zip", "zip code", "postcode"),
    "city": ("ville", "commune", "town"),
    "country": ("pays", "code pays"),
    "description": ("activite", "presentation"),
    "parent_id": ("parent", "maison mere"),
    "domains": ("domaines", "domaines d activite", "domains of activity", "secteurs"),
    "external_id": ("identifiant externe", "id externe", "reference", "ref", "external id"),
}
_COLUMNS = {"external_id": Member.external_id, "siren": Member.siren}


class MemberImporter:
    """Members, matched on ``external_id`` (default) or ``siren``."""

    resource = "members"
    scope = "members:write"
    keys = ("external_id", "siren")
    unique = ("external_id", "siren")
    aliases = MEMBER_ALIASES
    required = ("name", "category")
    schema = MemberCreate()
    # Loaded by its compiled loader (``load_with``; tests compare it with ``schema.load``).
    compiled_schemas = ("schema",)

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        return load_with(self.schema, cells, headers)

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        key = options.key or self.keys[0]
        holders = self._holders(session, rows)
        found, domain_ids = self._current(session, key, holders[key])
        domain_sets: dict[tuple[str, ...], list[Domain] | InvalidInput] = {}
        new: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        changed: list[tuple[Row, MemberChange]] = []
        for row in rows:
            member = found.get(row.values.get(key))
            if member is not None and options.mode == "create":
                row.fail(key, f"A member with this {key} already exists (id {member.id}).")
                continue
            self._check_holders(row, member, holders)
            if row.errors:
                continue
            try:
                domains = self._domains(session, row.values, domain_sets)
                _check_consistency(member, row.values)
                if row.values.get("parent_id") is not None:
                    _check_parent(session, member, row.values["parent_id"])
            except InvalidInput as exc:
                for field_name, messages in exc.errors.items():
                    for message in messages:
                        row.fail(field_name, message)
                continue
            if member is None:
                new.append(_new_member(row.values, domains or [], links))
                row.status = "created"
                continue
            before = domain_ids.get(member.id, [])
            if _unchanged(member, before, row.values, domains):
                # Left untouched: no write, no journal entry, no new updated_at.
                row.status = "unchanged"
            else:
                columns = _applied(member, row.values)
                changed.append((row, MemberChange(member, columns, before, domains)))
        written, updated = update_members(session, [change for _, change in changed])
        for (row, _), was_written in zip(changed, written, strict=True):
            row.status = "updated" if was_written else "unchanged"
        if new:
            # One INSERT for the chunk's new members, without the unit of work: their rows
            # are complete already, and the journal is told they exist.
            now = utcnow()
            for values in new:
                values.update(created_at=now, updated_at=now, version=1)
            insert_rows(session, Member.__table__, new)
            insert_rows(session, member_domains, links)
        # Journaled once every statement of the chunk has succeeded: a chunk the database
        # refuses is replayed row by row, and must leave no entry behind.
        record_updates(session, updated)
        record_created(session, Member, [values["id"] for values in new])

    @staticmethod
    def _current(
        session: Session, key: str, holders: dict[str, uuid.UUID]
    ) -> tuple[dict[Any, StoredRow[Any]], dict[uuid.UUID, list[uuid.UUID]]]:
        """The stored columns of the members the rows match, by key, and their domains'
        ids: two queries for the chunk, none when no row matches a member (``holders``: the
        ids holding the chunk's keys). Plain rows, not records: the unit of work never sees
        them."""
        if not holders:
            return {}, {}
        ids = set(holders.values())
        stmt = select(*_SNAPSHOT).where(among(session, Member.id, ids))
        found = {getattr(member, key): member for member in session.execute(stmt)}
        links = select(member_domains.c.member_id, member_domains.c.domain_id).where(
            among(session, member_domains.c.member_id, ids)
        )
        domain_ids: dict[uuid.UUID, list[uuid.UUID]] = {}
        for member_id, domain_id in session.execute(links):
            domain_ids.setdefault(member_id, []).append(domain_id)
        return found, domain_ids

    @staticmethod
    def _holders(session: Session, rows: list[Row]) -> dict[str, dict[str, uuid.UUID]]:
        """Who holds each SIREN and external_id the rows carry (both unique): one query."""
        holders: dict[str, dict[str, uuid.UUID]] = {name: {} for name in _COLUMNS}
        wanted = {
            name: {row.values[name] for row in rows if row.values.get(name)} for name in _COLUMNS
        }
        conditions = [
            among(session, _COLUMNS[name], values) for name, values in wanted.items() if values
        ]
        if not conditions:
            return holders
        stmt = select(Member.id, Member.external_id, Member.siren).where(or_(*conditions))
        for member_id, external_id, siren in session.execute(stmt):
            for name, value in (("external_id", external_id), ("siren", siren)):
                if value in wanted[name]:
                    holders[name][value] = member_id
        return holders

    @staticmethod
    def _check_holders(
        row: Row, member: Member | None, holders: dict[str, dict[str, uuid.UUID]]
    ) -> None:
        for name, label in (("siren", "SIREN"), ("external_id", "external_id")):
            holder = holders[name].get(row.values.get(name))  # type: ignore[arg-type]
            if holder is not None and (member is None or holder != member.id):
                row.fail(name, f"A member with this {label} already exists (id {holder}).")

    @staticmethod
    def _domains(
        session: Session,
        values: Mapping[str, Any],
        cache: dict[tuple[str, ...], list[Domain] | InvalidInput],
    ) -> list[Domain] | None:
        if "domains" not in values:
            return None
        codes = tuple(values["domains"])
        if codes not in cache:
            try:
                cache[codes] = resolve_domains(session, codes)
            except InvalidInput as exc:
                cache[codes] = exc
        resolved = cache[codes]
        if isinstance(resolved, InvalidInput):
            raise resolved
        return resolved


# What ``_apply`` writes besides the fields sent: compared too, so that a rule that derives
# them differently (a new folding) counts as a change.
_DERIVED = ("country", "departement", "search_text", "sort_name")
# The stored columns a row is compared with (and the version its update holds on).
_SNAPSHOT = tuple(
    getattr(Member, name)
    for name in dict.fromkeys(("id", "version", *_APPLIED, "parent_id", *_DERIVED))
)


def _unchanged(
    member: Any,
    domain_ids: Collection[uuid.UUID],
    values: dict[str, Any],
    domains: list[Domain] | None,
) -> bool:
    """Would applying the row leave the member (a record or its stored row) as it is?
    Decided on a scratch copy made by the service's own ``_apply``, so that the stored
    member is not even touched."""
    scratch = _scratch(member, values)
    for name in (*values.keys(), *_DERIVED):
        if name != "domains" and getattr(scratch, name) != getattr(member, name):
            return False
    if domains is not None:
        return sorted(domain.id for domain in domains) == sorted(domain_ids)
    return True


# Every column a new member's row sets (the rest take their defaults).
_INSERTED = (*_APPLIED, "parent_id", "departement", "search_text", "sort_name")


def _scratch(member: Any, values: dict[str, Any]) -> SimpleNamespace:
    """A copy of the member's writable columns with the row applied by the service's own
    ``_apply``; the member itself is not touched."""
    scratch = SimpleNamespace(**{name: getattr(member, name) for name in (*_APPLIED, "parent_id")})
    _apply(scratch, values, None)  # type: ignore[arg-type] - only reads and sets attributes
    return scratch


def _applied(member: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Every column the import writes, as the member is once the row is applied."""
    scratch = _scratch(member, values)
    return {name: getattr(scratch, name) for name in _INSERTED}


def _new_member(
    values: dict[str, Any], domains: list[Domain], links: list[dict[str, Any]]
) -> dict[str, Any]:
    """The new member's row, its columns computed by the service's own ``_apply``."""
    scratch = SimpleNamespace(**dict.fromkeys(_INSERTED))
    _apply(scratch, values, None)  # type: ignore[arg-type] - only reads and sets attributes
    row = {name: getattr(scratch, name) for name in _INSERTED}
    row["id"] = uuid.uuid4()
    links.extend({"member_id": row["id"], "domain_id": domain.id} for domain in domains)
    return row
