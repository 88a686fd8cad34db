"""The vocabulary of domains of activity (diagnostics, imaging...), extended by admins."""

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import Domain
from services.errors import Conflict, InvalidInput, NotFound
from services.pagination import attribute_key, datetime_key
from services.transactions import check_version, commit

DOMAIN_SORT_KEYS = {
    "code": attribute_key(Domain.code),
    "label": attribute_key(Domain.label),
    "created_at": datetime_key(Domain.created_at),
    "updated_at": datetime_key(Domain.updated_at),
}


def _duplicate_code(session: Session, code: str) -> Conflict:
    existing = session.scalar(select(Domain).where(Domain.code == code))
    return Conflict(
        "A domain with this code already exists.",
        field="code",
        existing={"id": str(existing.id), "code": existing.code} if existing else None,
    )


def list_domains(
    *, is_active: bool | None = None, updated_since: datetime | None = None
) -> Select[tuple[Domain]]:
    """Domains matching every filter given; the API layer orders and pages the result."""
    stmt = select(Domain)
    if is_active is not None:
        stmt = stmt.where(Domain.is_active.is_(is_active))
    if updated_since is not None:
        stmt = stmt.where(Domain.updated_at >= updated_since)
    return stmt


def get_domain(session: Session, domain_id: uuid.UUID) -> Domain:
    domain = session.get(Domain, domain_id)
    if domain is None:
        raise NotFound("domain", domain_id)
    return domain


def create_domain(session: Session, *, code: str, label: str, is_active: bool = True) -> Domain:
    """Add a domain; codes are unique and never change."""
    if session.scalar(select(Domain.id).where(Domain.code == code)) is not None:
        raise _duplicate_code(session, code)
    domain = Domain(code=code, label=label, is_active=is_active)
    session.add(domain)
    commit(session, {"uq_domains_code": lambda: _duplicate_code(session, code)})
    return domain


def update_domain(
    session: Session,
    *,
    domain_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> Domain:
    """Relabel a domain or (de)activate it; members keep a deactivated domain."""
    domain = get_domain(session, domain_id)
    check_version(domain.version, if_match)
    for name in ("label", "is_active"):
        if name in changes:
            setattr(domain, name, changes[name])
    commit(session)
    return domain


def resolve_domains(session: Session, codes: Iterable[str]) -> list[Domain]:
    """The active domains named by ``codes`` (duplicates ignored); unknown or inactive codes are
    a 422 on ``domains``. Does not commit."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    found = {
        domain.code: domain
        for domain in session.scalars(select(Domain).where(Domain.code.in_(wanted)))
    }
    unknown = [code for code in wanted if code not in found]
    inactive = [code for code in wanted if code in found and not found[code].is_active]
    messages = []
    if unknown:
        messages.append(f"Unknown domain codes: {', '.join(unknown)}.")
    if inactive:
        messages.append(f"Inactive domain codes: {', '.join(inactive)}.")
    if messages:
        raise InvalidInput({"domains": messages})
    return [found[code] for code in wanted]
