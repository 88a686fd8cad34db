"""Concurrent writes to one contact, in real transactions on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from api.extensions import db
from models import Affiliation
from services.transactions import violated_constraint
from tests.concurrency import send_together
from tests.contacts.factories import make_affiliation, make_contact, make_member

pytestmark = pytest.mark.postgres_only


def test_same_etag_one_patch_wins(committing_app, real_session, real_staff_headers):
    contact = make_contact(real_session)
    real_session.commit()
    url = f"/api/v1/contacts/{contact.id}"
    headers = {**real_staff_headers, "If-Match": '"v1"'}
    responses = send_together(
        committing_app,
        lambda client: client.patch(url, json={"notes": "first"}, headers=headers),
        lambda client: client.patch(url, json={"notes": "second"}, headers=headers),
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200)
    current = committing_app.test_client().get(url, headers=real_staff_headers)
    assert current.get_json()["notes"] == winner.get_json()["notes"]
    assert current.headers["ETag"] == '"v2"'


def test_two_new_primaries_at_once_leave_exactly_one(
    committing_app, real_session, real_staff_headers
):
    contact = make_contact(real_session)
    first, second = make_member(real_session), make_member(real_session)
    real_session.commit()
    url = f"/api/v1/contacts/{contact.id}/affiliations"
    responses = send_together(
        committing_app,
        *(
            lambda client, member=member: client.post(
                url,
                json={"member_id": str(member.id), "is_primary": True},
                headers=real_staff_headers,
            )
            for member in (first, second)
        ),
    )
    # The contact row is locked while its affiliations change, so the second request sees
    # and demotes the first one's primary.
    assert [r.status_code for r in responses] == [201, 201]
    primaries = real_session.scalar(
        select(func.count())
        .select_from(Affiliation)
        .where(Affiliation.contact_id == contact.id, Affiliation.is_primary)
    )
    assert primaries == 1


def test_same_email_created_twice_at_once(committing_app, real_staff_headers):
    body = {"first_name": "A", "last_name": "B", "email": "race@example.org"}
    responses = send_together(
        committing_app,
        lambda client: client.post("/api/v1/contacts", json=body, headers=real_staff_headers),
        lambda client: client.post("/api/v1/contacts", json=body, headers=real_staff_headers),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    conflict = next(r for r in responses if r.status_code == 409).get_json()
    created = next(r for r in responses if r.status_code == 201).get_json()
    assert conflict["existing"]["id"] == created["id"]


def test_database_refuses_a_second_primary_from_a_concurrent_transaction(
    committing_app, real_session
):
    """The partial unique index holds even for writers that skip the service's lock."""
    contact = make_contact(real_session)
    first, second = make_member(real_session), make_member(real_session)
    real_session.commit()
    engine = db.state(committing_app).engine
    insert = text(
        "INSERT INTO affiliations (id, contact_id, member_id, roles, is_primary, created_at,"
        " updated_at, version) VALUES (gen_random_uuid(), :contact, :member, '[]', true,"
        " now(), now(), 1)"
    )
    with engine.connect() as holder:
        holder.execute(insert, {"contact": contact.id, "member": first.id})

        def second_writer() -> str | None:
            with engine.connect() as connection:
                connection.execute(text("SET lock_timeout = '10s'"))
                try:
                    connection.execute(insert, {"contact": contact.id, "member": second.id})
                    connection.commit()
                except IntegrityError as exc:
                    return violated_constraint(exc)
                return None

        with ThreadPoolExecutor(1) as pool:
            outcome = pool.submit(second_writer)
            holder.commit()  # the waiting insert now sees the committed primary
            assert outcome.result(timeout=20) == "uq_affiliations_contact_id"


def test_factories_work_with_real_commits(committing_app, real_session):
    contact = make_contact(real_session)
    make_affiliation(real_session, contact=contact, member=make_member(real_session))
    real_session.commit()
    assert real_session.scalar(select(func.count()).select_from(Affiliation)) == 1


CONCURRENT_WRITERS = 20


def test_concurrent_patches_without_if_match_all_apply(
    committing_app, real_session, real_staff_headers
):
    """Without If-Match the last write wins, for contacts as for members."""
    contact = make_contact(real_session)
    real_session.commit()
    url = f"/api/v1/contacts/{contact.id}"
    notes = [f"note {n}" for n in range(CONCURRENT_WRITERS)]
    responses = send_together(
        committing_app,
        *(
            lambda client, note=note: client.patch(
                url, json={"notes": note}, headers=real_staff_headers
            )
            for note in notes
        ),
    )
    assert [r.status_code for r in responses] == [200] * CONCURRENT_WRITERS
    current = committing_app.test_client().get(url, headers=real_staff_headers)
    assert current.headers["ETag"] == f'"v{CONCURRENT_WRITERS + 1}"'
    assert current.get_json()["notes"] in notes


def test_concurrent_upserts_without_if_match_all_apply(
    committing_app, real_session, real_staff_headers
):
    make_contact(real_session, external_id="crm-7")
    real_session.commit()
    url = "/api/v1/contacts/by-external-id/crm-7"
    responses = send_together(
        committing_app,
        *(
            lambda client, n=n: client.put(
                url,
                json={"first_name": f"Jeanne {n}", "last_name": "Martin"},
                headers=real_staff_headers,
            )
            for n in range(CONCURRENT_WRITERS)
        ),
    )
    assert [r.status_code for r in responses] == [200] * CONCURRENT_WRITERS


def test_concurrent_affiliation_patches_without_if_match_all_apply(
    committing_app, real_session, real_staff_headers
):
    """Affiliation writes lock their contact's row first, so they never meet a stale version."""
    contact = make_contact(real_session)
    affiliation = make_affiliation(real_session, contact=contact, member=make_member(real_session))
    real_session.commit()
    url = f"/api/v1/contacts/{contact.id}/affiliations/{affiliation.id}"
    responses = send_together(
        committing_app,
        *(
            lambda client, n=n: client.patch(
                url, json={"job_title": f"Poste {n}"}, headers=real_staff_headers
            )
            for n in range(CONCURRENT_WRITERS)
        ),
    )
    assert [r.status_code for r in responses] == [200] * CONCURRENT_WRITERS


def test_concurrent_first_upserts_of_one_external_id_create_it_once(
    committing_app, real_staff_headers
):
    url = "/api/v1/contacts/by-external-id/crm-new"
    responses = send_together(
        committing_app,
        *(
            lambda client, n=n: client.put(
                url,
                json={"first_name": f"Jeanne {n}", "last_name": "Martin"},
                headers=real_staff_headers,
            )
            for n in range(CONCURRENT_WRITERS)
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (CONCURRENT_WRITERS - 1) + [201], statuses
