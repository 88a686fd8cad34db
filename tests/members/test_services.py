"""Member and domain rules at the service level (no HTTP)."""

import pytest

from services.domains import resolve_domains, update_domain
from services.errors import Conflict, InvalidInput, PreconditionFailed
from services.members import (
    archive_member,
    create_member,
    delete_member,
    get_member,
    update_member,
    upsert_member_by_external_id,
)
from tests.members.factories import domain_by_code, make_member, valid_siret

SIREN = "552120222"


def test_create_member_computes_folded_columns(session):
    member = create_member(
        session, name="  Hôpital  Saint-Éloi", category="clinical_centre", city="Évry", siren=SIREN
    )
    assert member.sort_name == "hopital saint-eloi"
    assert member.search_text == f"hopital saint-eloi {SIREN} evry"
    assert member.contacts_count == 0
    assert member.country == "FR"


def test_update_keeps_identifiers_consistent_with_the_stored_record(session):
    member = make_member(session, siren=SIREN, siret=valid_siret(SIREN))
    session.commit()
    with pytest.raises(InvalidInput) as caught:
        update_member(session, member_id=member.id, changes={"siren": "303265045"}, if_match=None)
    assert list(caught.value.errors) == ["siret"]
    assert not session.dirty  # nothing half-applied
    assert get_member(session, member.id).siren == SIREN


def test_update_checks_the_version(session):
    member = make_member(session)
    session.commit()
    with pytest.raises(PreconditionFailed):
        update_member(session, member_id=member.id, changes={"city": "Paris"}, if_match={2})


def test_member_cannot_be_its_own_parent(session):
    member = make_member(session)
    session.commit()
    with pytest.raises(InvalidInput) as caught:
        update_member(session, member_id=member.id, changes={"parent_id": member.id}, if_match=None)
    assert list(caught.value.errors) == ["parent_id"]


def test_resolve_domains_refuses_unknown_and_inactive_codes(session):
    imaging = domain_by_code(session, "imaging")
    assert [d.code for d in resolve_domains(session, ["imaging", "biotech", "imaging"])] == [
        "imaging",
        "biotech",
    ]
    update_domain(session, domain_id=imaging.id, changes={"is_active": False}, if_match=None)
    with pytest.raises(InvalidInput) as caught:
        resolve_domains(session, ["imaging", "astrology"])
    assert caught.value.errors["domains"] == [
        "Unknown domain codes: astrology.",
        "Inactive domain codes: imaging.",
    ]


def test_members_keep_a_deactivated_domain(session):
    member = make_member(session, domains=["imaging"])
    session.commit()
    imaging = domain_by_code(session, "imaging")
    update_domain(session, domain_id=imaging.id, changes={"is_active": False}, if_match=None)
    assert [d.code for d in get_member(session, member.id).domains] == ["imaging"]


def test_archived_member_still_holds_its_siren(session):
    member = make_member(session, siren=SIREN)
    session.commit()
    archive_member(session, member_id=member.id, reason="closed", if_match=None)
    with pytest.raises(Conflict) as caught:
        create_member(session, name="New", category="sme", siren=SIREN)
    assert caught.value.existing["id"] == str(member.id)


def test_delete_refuses_a_parent(session):
    parent = make_member(session)
    make_member(session, parent_id=parent.id)
    session.commit()
    with pytest.raises(Conflict):
        delete_member(session, member_id=parent.id, if_match=None)


def test_upsert_reports_whether_it_created(session):
    first, created = upsert_member_by_external_id(
        session, external_id="imp-1", fields={"name": "A", "category": "sme"}
    )
    assert created
    second, created = upsert_member_by_external_id(
        session, external_id="imp-1", fields={"name": "B", "category": "sme"}
    )
    assert not created
    assert second.id == first.id
    assert second.name == "B"
