"""Contact list pages read as plain rows.

The contact list is read far more often than contacts are written, and a page of ORM contacts
with their affiliations and members costs more in object loading than everything else in the
request. Here the page's contacts are read as columns with the list's own filters and sort
(``list_contacts``'s), then their affiliations, each with its member's name, in one statement
for the whole page (``services.driver_rows``: on PostgreSQL on the driver's own cursor). The
answer is the same as from the ORM contacts (tested on both databases).
"""

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from models import Affiliation, Contact, Member
from services.contacts import filter_contacts
from services.driver_rows import FieldsView, among_ids, mappings_for_ids

# Columns of the contact a list row does not show (its sort name stays: the cursor needs it).
_UNSHOWN = frozenset({"search_text", "version"})


@functools.cache
def _list_columns() -> tuple[Any, ...]:
    contacts = Contact.__table__
    return tuple(column for column in contacts.c if column.key not in _UNSHOWN)


def list_contact_rows(**filters: Any) -> Select[Any]:
    """``list_contacts`` as columns rather than ORM objects (``contact_rows_of`` turns a page of
    them into list rows)."""
    return filter_contacts(select(*_list_columns()), **filters)


@functools.cache
def affiliations_of_contacts(postgresql: bool) -> Select[Any]:
    """Every affiliation of a page's contacts (``ids``) with its member's name (the ceiling
    sends it too)."""
    affiliations, members = Affiliation.__table__, Member.__table__
    return (
        select(affiliations, members.c.name.label("member_name"))
        .join(members, members.c.id == affiliations.c.member_id)
        .where(among_ids(affiliations.c.contact_id, postgresql))
    )


def contact_rows_of(session: Session, rows: Sequence[Row[Any]]) -> list[FieldsView]:
    """A page of ``list_contact_rows`` as list rows, with every affiliation of each contact
    and its member's id and name (one more statement)."""
    views = []
    for row in rows:
        view = FieldsView(row._mapping)
        view["affiliations"] = []
        views.append(view)
    if views:
        by_id = {view["id"]: view for view in views}
        for affiliation in mappings_for_ids(session, affiliations_of_contacts, by_id):
            member = {"id": affiliation["member_id"], "name": affiliation.pop("member_name")}
            affiliation["member"] = member
            by_id[affiliation["contact_id"]]["affiliations"].append(FieldsView(affiliation))
    return views
