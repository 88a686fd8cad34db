"""The contact list as a file: the columns of the contacts import template (the primary
affiliation's member, job title and roles included), then id and timestamps. Personal data:
every export is logged by the API layer."""

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, aliased

from models import Affiliation, Contact, Member
from services.contacts import CONTACT_SORT_KEYS, list_contacts
from services.exports.streaming import BATCH, csv_lines, ndjson_lines

COLUMNS = (
    "first_name", "last_name", "email", "phones", "preferred_language", "notes", "external_id",
    "member_external_id", "member_siren", "job_title", "roles", "is_primary", "start_date",
    "end_date", "id", "archived_at", "created_at", "updated_at",
)  # fmt: skip
# An alias: the list's own filters refer to ``Affiliation`` in subqueries, which must stay
# correlated to the contact only.
_PRIMARY = aliased(Affiliation, name="primary_affiliation")
_SOURCES = (
    Contact.first_name, Contact.last_name, Contact.email, Contact.phones,
    Contact.preferred_language, Contact.notes, Contact.external_id, Member.external_id,
    Member.siren, _PRIMARY.job_title, _PRIMARY.roles, _PRIMARY.is_primary,
    _PRIMARY.start_date, _PRIMARY.end_date, Contact.id, Contact.archived_at,
    Contact.created_at, Contact.updated_at,
)  # fmt: skip
_PHONES, _ROLES = COLUMNS.index("phones"), COLUMNS.index("roles")
_TIMESTAMPS = tuple(COLUMNS.index(name) for name in ("archived_at", "created_at", "updated_at"))


def _statement(filters: Mapping[str, Any], sort: str) -> Select[Any]:
    """The list's filters and order; each contact once, with its primary affiliation."""
    listed = list_contacts(**filters)
    key = CONTACT_SORT_KEYS[sort.lstrip("-")].column
    order = (key.desc(), Contact.id.desc()) if sort.startswith("-") else (key, Contact.id)
    stmt = (
        select(*_SOURCES)
        .select_from(Contact)
        .outerjoin(_PRIMARY, and_(_PRIMARY.contact_id == Contact.id, _PRIMARY.is_primary))
        .outerjoin(Member, Member.id == _PRIMARY.member_id)
    )
    if listed.whereclause is not None:
        stmt = stmt.where(listed.whereclause)
    return stmt.order_by(*order)


def _batches(session: Session, stmt: Select[Any]) -> Iterator[list[list[Any]]]:
    result = session.connection().execute(stmt.execution_options(yield_per=BATCH))
    try:
        for partition in result.partitions():
            rows = [list(row) for row in partition]
            for row in rows:
                row[_PHONES] = ", ".join(phone["number"] for phone in row[_PHONES] or [])
                row[_ROLES] = ",".join(row[_ROLES] or []) if row[_ROLES] is not None else None
            yield rows
    finally:
        result.close()  # a server-side cursor left open would outlive the request


def contact_export(session: Session, query: Mapping[str, Any], export: Any) -> Iterator[Any]:
    """The lines of the export ``export`` (format, excel) of the contact list ``query``."""
    filters = {k: v for k, v in query.items() if k not in ("limit", "cursor", "include_total")}
    sort = filters.pop("sort", "last_name")
    batches = _batches(session, _statement(filters, sort))
    if export.format == "ndjson":
        return ndjson_lines(COLUMNS, batches)
    return csv_lines(COLUMNS, batches, excel=export.excel, timestamps=_TIMESTAMPS)
