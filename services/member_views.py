"""A member as the API shows it, read as plain rows: the most frequent read of the API.

``get_member`` builds the ORM object a write needs (its domains and parent as objects, its
identity in the session); a GET needs none of that. Here one statement, built once per process,
reads the member's columns, its parent's name, its contact count and one row per domain, and
the result is a mapping keyed by the response's field names, which the compiled dumper reads
fastest (``services.driver_rows``: on PostgreSQL on the driver's own cursor). The answer is the
same as from the ORM object (tested field by field on both databases).
"""

import functools
import uuid
from collections.abc import Sequence
from typing import Any, Unpack

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from models import Domain, Member, member_domains
from services.driver_rows import FieldsView, among_ids, mappings, mappings_for_ids
from services.errors import NotFound
from services.members import MemberFilters, contacts_count, filter_members

# Columns of the member the response does not show (a list keeps the sort name: its cursor
# needs it).
_UNSHOWN = frozenset({"search_text", "sort_name"})
_UNSHOWN_IN_LISTS = frozenset({"search_text", "version"})


class MemberView(FieldsView):
    """A member's response fields."""

    # A list row read without ``as_of`` shows no membership standing.
    membership_as_of = None


@functools.cache
def member_statement() -> Select[Any]:
    """The member, its parent's name, its contact count, then its domains: one row per domain
    (one row with no domain when it has none), ordered by code as the ORM relationship is (the
    ceiling sends it too)."""
    members, domains = Member.__table__, Domain.__table__
    parent = members.alias("parent")
    shown = [column for column in members.c if column.key not in _UNSHOWN]
    return (
        select(
            *shown,
            parent.c.name.label("parent_name"),
            contacts_count().label("contacts_count"),
            domains.c.code.label("domain_code"),
            domains.c.label.label("domain_label"),
        )
        .select_from(
            members.outerjoin(parent, parent.c.id == members.c.parent_id)
            .outerjoin(member_domains, member_domains.c.member_id == members.c.id)
            .outerjoin(domains, domains.c.id == member_domains.c.domain_id)
        )
        .where(members.c.id == bindparam("member_id"))
        .order_by(domains.c.code)
    )


def read_member(session: Session, member_id: uuid.UUID) -> MemberView:
    """``get_member`` for reading only: the same answer from plain rows; ``NotFound``."""
    rows = mappings(session, member_statement(), {"member_id": member_id})
    if not rows:
        raise NotFound("member", member_id)
    first = rows[0]
    view = MemberView(first)
    for key in ("parent_name", "domain_code", "domain_label"):
        del view[key]
    parent_id = first["parent_id"]
    view["parent"] = None if parent_id is None else {"id": parent_id, "name": first["parent_name"]}
    view["domains"] = [
        {"code": row["domain_code"], "label": row["domain_label"]}
        for row in rows
        if row["domain_code"] is not None
    ]
    view["is_archived"] = first["archived_at"] is not None
    return view


@functools.cache
def _list_columns() -> tuple[Any, ...]:
    """What a list row shows of a member (and its sort keys), its parent's name and its contact
    count (its domains come in a second statement for the whole page)."""
    members = Member.__table__
    parent = members.alias("parent")
    shown = [column for column in members.c if column.key not in _UNSHOWN_IN_LISTS]
    columns = (
        *shown,
        parent.c.name.label("parent_name"),
        contacts_count().label("contacts_count"),
    )
    return columns, members.outerjoin(parent, parent.c.id == members.c.parent_id)


def list_member_rows(**filters: Unpack[MemberFilters]) -> Select[Any]:
    """``list_members`` as columns rather than ORM objects, for lists read without ``as_of``
    (``member_rows_of`` turns a page of them into list rows)."""
    columns, joined = _list_columns()
    return filter_members(select(*columns).select_from(joined), **filters)


@functools.cache
def domains_of_members(postgresql: bool) -> Select[Any]:
    """The domains of a page's members (``ids``), by code (the ceiling sends it too)."""
    domains = Domain.__table__
    return (
        select(member_domains.c.member_id, domains.c.code, domains.c.label)
        .join(domains, domains.c.id == member_domains.c.domain_id)
        .where(among_ids(member_domains.c.member_id, postgresql))
        .order_by(domains.c.code)
    )


def member_rows_of(session: Session, rows: Sequence[Row[Any]]) -> list[MemberView]:
    """A page of ``list_member_rows`` as list rows, with their domains (one more statement)."""
    views = []
    for row in rows:
        view = MemberView(row._mapping)
        parent_id, parent_name = view["parent_id"], view.pop("parent_name")
        view["parent"] = None if parent_id is None else {"id": parent_id, "name": parent_name}
        view["domains"] = []
        view["is_archived"] = view["archived_at"] is not None
        views.append(view)
    if views:
        by_id = {view["id"]: view for view in views}
        for row in mappings_for_ids(session, domains_of_members, by_id):
            by_id[row["member_id"]]["domains"].append({"code": row["code"], "label": row["label"]})
    return views
