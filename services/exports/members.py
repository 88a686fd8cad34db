"""The member list as a file: the columns of the import template (an export re-imports as is),
then the record's id, département and timestamps."""

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models import Domain, Member, member_domains
from services.exports.copy import copy_csv
from services.exports.streaming import BATCH, csv_lines, ndjson_lines
from services.members import MEMBER_SORT_KEYS, list_members

COLUMNS = (
    "name", "legal_name", "category", "siren", "siret", "vat_number", "headcount_band",
    "year_founded", "website", "email", "phone", "street", "postal_code", "city", "country",
    "description", "parent_id", "domains", "external_id", "id", "departement", "archived_at",
    "created_at", "updated_at",
)  # fmt: skip
_TIMESTAMPS = tuple(COLUMNS.index(name) for name in ("archived_at", "created_at", "updated_at"))
ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'


def _column(name: str, dialect: str) -> Any:
    if name == "domains":
        return _domain_codes()
    column = getattr(Member, name)
    if dialect == "postgresql" and COLUMNS.index(name) in _TIMESTAMPS:
        # ISO 8601 in UTC written by the database: converting 300,000 timestamps in Python
        # would cost more than the rest of the export.
        return func.to_char(func.timezone("UTC", column), ISO_UTC)
    return column


def _statement(filters: Mapping[str, Any], sort: str, dialect: str = "sqlite") -> Select[Any]:
    """The list's filters and order, selecting plain columns instead of members."""
    listed = list_members(**filters)
    # Labelled with the export's column names: COPY writes its header row from them.
    columns = [_column(name, dialect).label(name) for name in COLUMNS]
    key = MEMBER_SORT_KEYS[sort.lstrip("-")].column
    descending = sort.startswith("-")
    order = (key.desc(), Member.id.desc()) if descending else (key, Member.id)
    stmt = select(*columns)
    if listed.whereclause is not None:
        stmt = stmt.where(listed.whereclause)
    return stmt.order_by(*order)


def _domain_codes() -> Any:
    """The member's domain codes, comma-separated, read in the same statement (an indexed
    lookup per row; ``aggregate_strings`` is ``string_agg`` or ``group_concat``)."""
    return (
        select(func.aggregate_strings(Domain.code, ","))
        .join(member_domains, member_domains.c.domain_id == Domain.id)
        .where(member_domains.c.member_id == Member.id)
        .correlate(Member)
        .scalar_subquery()
    )


def _batches(session: Session, stmt: Select[Any], limit: int | None) -> Iterator[list[Any]]:
    """Plain rows from a server-side cursor (PostgreSQL) ``BATCH`` at a time."""
    if limit is not None:
        stmt = stmt.limit(limit)
    # On the statement, not the connection: a connection's options would stay on it.
    result = session.connection().execute(stmt.execution_options(yield_per=BATCH))
    try:
        yield from result.partitions()
    finally:
        result.close()  # a server-side cursor left open would outlive the request


def member_csv_lines(
    session: Session,
    filters: Mapping[str, Any],
    *,
    sort: str = "name",
    excel: bool = False,
    limit: int | None = None,
) -> Iterator[str] | Iterator[bytes]:
    """Every member the list's ``filters`` select, in its ``sort`` order, as CSV: written by
    PostgreSQL (``COPY``) there, except for Excel (its line endings), by Python elsewhere."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and not excel:
        stmt = _statement(filters, sort, dialect)
        return copy_csv(session, stmt if limit is None else stmt.limit(limit))
    return csv_lines(
        COLUMNS,
        _batches(session, _statement(filters, sort, dialect), limit),
        excel=excel,
        timestamps=() if dialect == "postgresql" else _TIMESTAMPS,
    )


def member_ndjson_lines(
    session: Session, filters: Mapping[str, Any], *, sort: str = "name"
) -> Iterator[bytes]:
    """The same rows as NDJSON, one object per member."""
    dialect = session.get_bind().dialect.name
    return ndjson_lines(COLUMNS, _batches(session, _statement(filters, sort, dialect), None))


def member_export(session: Session, query: Mapping[str, Any], export: Any) -> Iterator[Any]:
    """The lines of the export ``export`` (format, excel) of the member list ``query``."""
    filters = {k: v for k, v in query.items() if k not in ("limit", "cursor", "include_total")}
    sort = filters.pop("sort", "name")
    if export.format == "ndjson":
        return member_ndjson_lines(session, filters, sort=sort)
    return member_csv_lines(session, filters, sort=sort, excel=export.excel)
