"""Members an import changes, updated in bulk: one ``UPDATE`` sent for the whole chunk
(executemany: psycopg pipelines it), their domain links replaced with one ``DELETE`` and one
insert, and one journal entry each, as the unit of work would have written them.

What the unit of work would do for each member, done here for the chunk at once:

- the row's values applied by the member service's own ``_apply`` (on a scratch copy made
  from the stored row), every column the import may write set, ``updated_at`` now and the
  version raised; the ``UPDATE`` holds on the version read (optimistic lock): a member
  another writer changed meanwhile is not overwritten, and the chunk fails as a stale
  flush would (``StaleDataError``);
- the journal entry ``member.updated`` with the changed fields, old -> new, for the fields the
  journal records (not the derived search and sort columns), the domains as sorted codes; a
  member whose only change is a derived column is updated without an entry, as the journal
  skips flushes that change nothing it records.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Domain, Member, member_domains
from models.types import utcnow
from services.imports.bulk import among, insert_rows
from services.journal import record_action

_TABLE = Member.__table__
# Columns whose changes the member's journal entries record, in the table's order (the order
# the unit of work lists them in): not the bookkeeping nor the derived search/sort columns.
_UNRECORDED = {"id", "created_at", "updated_at", "version", "search_text", "sort_name"}
_UNRECORDED.add("departement")


@dataclass
class MemberChange:
    """One member a row changes: its stored row, what it becomes, its domains before and
    after (None: the row does not set them)."""

    member: Any  # the stored row (``id``, ``version`` and the columns compared)
    columns: dict[str, Any]
    domains_before: list[uuid.UUID]
    domains: list[Domain] | None

    def changes(self, codes: Mapping[uuid.UUID, str]) -> dict[str, list[Any]]:
        """``{field: [old, new]}`` as the journal records a flush of the member."""
        changes = {
            name: [getattr(self.member, name), new]
            for name, new in self.columns.items()
            if name not in _UNRECORDED and getattr(self.member, name) != new
        }
        if self.domains_changed:
            assert self.domains is not None
            changes["domains"] = [
                sorted(codes[domain_id] for domain_id in self.domains_before),
                sorted(domain.code for domain in self.domains),
            ]
        return changes

    @property
    def domains_changed(self) -> bool:
        if self.domains is None:
            return False
        return sorted(self.domains_before) != sorted(domain.id for domain in self.domains)

    @property
    def columns_changed(self) -> bool:
        return any(getattr(self.member, name) != new for name, new in self.columns.items())


def _update_statement(columns: tuple[str, ...]) -> Any:
    return (
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.version == bindparam("b_version"))
        .values({name: bindparam(f"b_{name}") for name in (*columns, "updated_at")})
        .values(version=_TABLE.c.version + 1)
    )


Entries = list[tuple[uuid.UUID, dict[str, list[Any]]]]


def update_members(session: Session, changes: list[MemberChange]) -> tuple[list[bool], Entries]:
    """Write the chunk's changes; for each, whether the member changed (else it is left
    untouched, as the unit of work leaves a record whose values are all the same), and the
    journal entries to record once every statement of the chunk has succeeded."""
    written = [change.columns_changed or change.domains_changed for change in changes]
    todo = [change for change, changed in zip(changes, written, strict=True) if changed]
    if not todo:
        return written, []
    now = utcnow()
    columns = tuple(todo[0].columns)
    params = [
        {
            "b_id": change.member.id,
            "b_version": change.member.version,
            "b_updated_at": now,
            **{f"b_{name}": value for name, value in change.columns.items()},
        }
        for change in todo
    ]
    result = session.execute(_update_statement(columns), params)
    if result.rowcount != len(todo):
        raise StaleDataError(
            f"UPDATE of {len(todo)} members matched {result.rowcount}: changed meanwhile."
        )
    relinked = [change for change in todo if change.domains_changed]
    if relinked:
        ids = [change.member.id for change in relinked]
        session.execute(
            delete(member_domains).where(among(session, member_domains.c.member_id, ids))
        )
        links = [
            {"member_id": change.member.id, "domain_id": domain.id}
            for change in relinked
            for domain in change.domains or []
        ]
        insert_rows(session, member_domains, links)
    codes = _codes(session, [i for change in relinked for i in change.domains_before])
    entries = [(change.member.id, change.changes(codes)) for change in todo]
    return written, [(member_id, recorded) for member_id, recorded in entries if recorded]


def record_updates(session: Session, entries: Entries) -> None:
    """Journal the members ``update_members`` changed, as the unit of work's flush would."""
    for member_id, changes in entries:
        # A reference to the record (its id), never added to the session.
        record_action(session, Member(id=member_id), "updated", changes)


def _codes(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The codes of the domains the changed members had (for their journal entries)."""
    if not ids:
        return {}
    stmt = select(Domain.id, Domain.code).where(among(session, Domain.id, set(ids)))
    return {domain_id: code for domain_id, code in session.execute(stmt)}
