"""Contact list pages read as plain rows (what GET /contacts answers) are the ORM pages."""

from dataclasses import replace
from datetime import date
from functools import partial

import pytest
from sqlalchemy.orm import Session

from models import Contact
from schemas.contacts import ContactOut
from services.contact_views import contact_rows_of, list_contact_rows
from services.contacts import CONTACT_SORT_KEYS, list_contacts
from services.pagination import Page
from tests.contacts.factories import make_affiliation, make_contact
from tests.members.factories import make_member
from tests.pages import side_by_side, small_page


@pytest.mark.parametrize(
    "filters",
    [{}, {"q": "martin"}, {"archived": None}, {"role": "board"}, {"member_id": "first"}],
)
@pytest.mark.parametrize("sort", ["last_name", "-created_at", "updated_at"])
def test_list_pages_read_the_same(session, filters, sort):
    first, second = make_member(session, name="Première"), make_member(session, name="Seconde")
    jeanne = make_contact(
        session,
        first_name="Jeanne",
        last_name="Martin",
        email="jeanne@example.org",
        phones=[{"number": "+33612345678", "kind": "mobile"}],
        preferred_language="fr",
        notes="Rencontrée au salon.",
        external_id="crm-1",
    )
    # Recorded before the primary one: listed after it.
    make_affiliation(session, contact=jeanne, member=second, end_date=date(2021, 1, 1))
    make_affiliation(
        session,
        contact=jeanne,
        member=first,
        job_title="CEO",
        roles=["primary", "board"],
        start_date=date(2020, 1, 1),
        is_primary=True,
    )
    make_contact(session, first_name="Paul", last_name="Martinez", archived=True)
    make_affiliation(session, contact=make_contact(session, last_name="Durand"), member=second)
    make_contact(session, last_name="Sans Lien")
    session.commit()
    if filters.get("member_id") == "first":
        filters = {"member_id": first.id}
    schema = ContactOut(many=True)
    page = partial(small_page, id_column=Contact.id, sortable=CONTACT_SORT_KEYS, sort=sort)

    def orm_page(cursor: str | None) -> Page:
        # The ORM page as a request reads it: in a session that holds no contact yet.
        with Session(bind=session.connection()) as reader:
            listed = page(reader, list_contacts(**filters), cursor)
            return replace(listed, items=schema.dump(listed.items))

    for orm, rows in side_by_side(
        orm_page, lambda cursor: page(session, list_contact_rows(**filters), cursor)
    ):
        assert schema.dump(contact_rows_of(session, list(rows.items))) == orm.items


def test_a_page_reads_two_statements_whatever_its_size(
    client, session, staff_headers, count_queries
):
    member = make_member(session)
    for number in range(12):
        contact = make_contact(session, last_name=f"Counted {number}")
        make_affiliation(session, contact=contact, member=member, is_primary=True)
    session.commit()
    for limit in (2, 12):
        with count_queries() as statements:
            response = client.get(
                "/api/v1/contacts", query_string={"limit": limit}, headers=staff_headers
            )
        assert response.status_code == 200
        assert len(response.json["data"]) == limit
        reads = [sql for sql in statements if "FROM contacts" in sql or "FROM affiliations" in sql]
        assert len(reads) == 2, reads
