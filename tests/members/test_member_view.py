"""A member read as plain rows (``read_member``, what GET answers) is the ORM member's answer."""

import uuid
from datetime import date, timedelta
from functools import partial

import pytest

from models import Member
from models.types import utcnow
from schemas.members import MemberListOut, MemberOut
from services.errors import NotFound
from services.member_views import list_member_rows, member_rows_of, read_member
from services.members import MEMBER_SORT_KEYS, get_member, list_members
from tests.contacts.factories import make_affiliation, make_contact
from tests.members.factories import make_member, valid_siret
from tests.pages import side_by_side, small_page

SIREN = "552120222"


def _both(session, member_id):
    orm = MemberOut().dump(get_member(session, member_id))
    rows = MemberOut().dump(read_member(session, member_id))
    return orm, rows


def test_a_bare_member_reads_the_same(session):
    member = make_member(session, name="Bare")
    session.commit()
    orm, rows = _both(session, member.id)
    assert rows == orm
    assert rows["domains"] == []
    assert rows["parent"] is None
    assert rows["contacts_count"] == 0


def test_a_full_member_reads_the_same(session):
    parent = make_member(session, name="Groupe Parent")
    member = make_member(
        session,
        name="Hôpital Saint-Éloi",
        legal_name="Centre Hospitalier Saint-Éloi",
        category="clinical_centre",
        siren=SIREN,
        siret=valid_siret(SIREN),
        vat_number="FR40552120222",
        headcount_band="21",
        year_founded=1987,
        website="https://example.org",
        email="contact@example.org",
        phone="+33123456789",
        street="1 rue de la Paix",
        postal_code="91000",
        city="Évry",
        description="Un centre clinique.",
        external_id="crm-42",
        parent_id=parent.id,
        domains=["imaging", "diagnostics"],
        archived_at=utcnow(),
        archive_reason="merged",
    )
    today = date.today()
    for number, (archived, end_date) in enumerate(
        [(False, None), (False, today + timedelta(days=3)), (False, today - timedelta(days=1))]
        + [(True, None)]
    ):
        contact = make_contact(session, last_name=f"Person {number}", archived=archived)
        make_affiliation(session, contact=contact, member=member, end_date=end_date)
    session.commit()
    orm, rows = _both(session, member.id)
    assert rows == orm
    assert [domain["code"] for domain in rows["domains"]] == ["diagnostics", "imaging"]
    assert rows["parent"] == {"id": str(parent.id), "name": "Groupe Parent"}
    assert rows["contacts_count"] == 2
    assert rows["is_archived"] is True
    assert read_member(session, member.id).version == get_member(session, member.id).version


def test_an_unknown_member_is_not_found(session):
    with pytest.raises(NotFound):
        read_member(session, uuid.uuid4())


def test_get_reads_one_statement(client, session, staff_headers, count_queries):
    member = make_member(session, name="Counted", domains=["imaging", "diagnostics"])
    session.commit()
    with count_queries() as statements:
        response = client.get(f"/api/v1/members/{member.id}", headers=staff_headers)
    assert response.status_code == 200
    reads = [sql for sql in statements if "FROM members" in sql]
    assert len(reads) == 1


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"q": "saint"},
        {"archived": None},
        {"domain": "imaging"},
        {"category": "clinical_centre"},
        {"has_siren": True},
    ],
)
@pytest.mark.parametrize("sort", ["name", "-created_at", "updated_at"])
def test_list_pages_read_the_same(session, filters, sort):
    parent = make_member(session, name="Groupe Saint")
    make_member(session, name="Saint Louis", category="clinical_centre", parent_id=parent.id)
    make_member(session, name="Imagerie Saint", domains=["imaging", "diagnostics"], siren=SIREN)
    make_member(session, name="Archived Saint", archived_at=utcnow(), domains=["imaging"])
    counted = make_member(session, name="Counted", category="clinical_centre")
    make_affiliation(session, contact=make_contact(session), member=counted)
    session.commit()
    schema = MemberListOut(many=True)
    page = partial(small_page, id_column=Member.id, sortable=MEMBER_SORT_KEYS, sort=sort)
    for orm, rows in side_by_side(
        lambda cursor: page(session, list_members(**filters), cursor),
        lambda cursor: page(session, list_member_rows(**filters), cursor),
    ):
        # Each row as the ORM member answers on its own page (``MemberOut``: the list row's
        # fields, as the membership standing is left out without ``as_of``).
        expected = [MemberOut().dump(get_member(session, member.id)) for member in orm.items]
        assert schema.dump(member_rows_of(session, list(rows.items))) == expected


def test_a_page_holding_a_member_and_its_parent_lists(client, session, staff_headers):
    """A parent met first as a newer member's parent (read partly), then as a row of its own,
    made the list answer 500: the row's unread columns could not be loaded."""
    parent = make_member(session, name="Groupe Parent")
    make_member(session, name="Filiale", parent_id=parent.id)
    session.commit()
    response = client.get(
        "/api/v1/members", query_string={"sort": "-created_at"}, headers=staff_headers
    )
    assert response.status_code == 200, response.json
    names = [row["name"] for row in response.json["data"]]
    assert names[:2] == ["Filiale", "Groupe Parent"]
    assert response.json["data"][0]["parent"] == {"id": str(parent.id), "name": "Groupe Parent"}
