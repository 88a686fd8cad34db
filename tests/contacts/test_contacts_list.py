"""``GET /contacts`` and ``GET /members/{id}/contacts``: search, filters, order, pages."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.contacts.factories import make_affiliation, make_contact, make_member

URL = "/api/v1/contacts"


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [contact["id"] for contact in response.get_json()["data"]]


def _list(client, headers, **query):
    return client.get(URL, query_string=query, headers=headers)


@pytest.mark.parametrize("q", ["helene", "HÉLÈNE", "Helene", "hélène lefevre", "LEFÈVRE h"])
def test_search_ignores_case_and_accents(client, viewer_headers, session, q):
    helene = make_contact(session, first_name="Hélène", last_name="Lefèvre")
    make_contact(session, first_name="Hervé", last_name="Martin")
    assert _ids(_list(client, viewer_headers, q=q)) == [str(helene.id)]


def test_search_matches_email_and_folds_ligatures(client, viewer_headers, session):
    by_email = make_contact(session, email="c.dupont@clinique.fr")
    oeuvre = make_contact(session, first_name="Cœur", last_name="Strøm")
    assert _ids(_list(client, viewer_headers, q="clinique.fr")) == [str(by_email.id)]
    assert _ids(_list(client, viewer_headers, q="coeur strom")) == [str(oeuvre.id)]


def test_search_treats_like_wildcards_literally(client, viewer_headers, session):
    make_contact(session, first_name="Anna", last_name="Bell")
    underscore = make_contact(session, email="a_b@example.org")
    assert _ids(_list(client, viewer_headers, q="a_b")) == [str(underscore.id)]
    assert _ids(_list(client, viewer_headers, q="%")) == []


def test_default_order_is_by_folded_last_name(client, viewer_headers, session):
    names = ["Zola", "émile", "Durand", "Éluard", "albert"]
    for name in names:
        make_contact(session, last_name=name)
    body = _list(client, viewer_headers).get_json()
    assert [c["last_name"] for c in body["data"]] == ["albert", "Durand", "Éluard", "émile", "Zola"]
    reverse = _list(client, viewer_headers, sort="-last_name").get_json()
    assert [c["last_name"] for c in reverse["data"]] == [
        "Zola",
        "émile",
        "Éluard",
        "Durand",
        "albert",
    ]


def test_sort_by_timestamps(client, viewer_headers, session):
    first, second = make_contact(session), make_contact(session)
    first.updated_at = datetime.now(UTC) + timedelta(minutes=5)
    session.flush()
    assert _ids(_list(client, viewer_headers, sort="-updated_at")) == [
        str(first.id),
        str(second.id),
    ]
    created = _ids(_list(client, viewer_headers, sort="created_at"))
    assert set(created) == {str(first.id), str(second.id)}


def test_archived_filters(client, viewer_headers, session):
    active = make_contact(session)
    archived = make_contact(session, archived=True)
    assert _ids(_list(client, viewer_headers)) == [str(active.id)]
    assert _ids(_list(client, viewer_headers, archived="true")) == [str(archived.id)]
    assert set(_ids(_list(client, viewer_headers, include_archived="true"))) == {
        str(active.id),
        str(archived.id),
    }
    both = _list(client, viewer_headers, archived="true", include_archived="true")
    assert both.status_code == 422
    assert "include_archived" in both.get_json()["errors"]


def test_member_and_role_filters_apply_to_one_affiliation(client, viewer_headers, session):
    hospital, lab = make_member(session), make_member(session)
    billing_at_hospital = make_contact(session)
    make_affiliation(
        session, contact=billing_at_hospital, member=hospital, roles=["billing_contact"]
    )
    billing_elsewhere = make_contact(session)
    make_affiliation(session, contact=billing_elsewhere, member=hospital, roles=["decision_maker"])
    make_affiliation(session, contact=billing_elsewhere, member=lab, roles=["billing_contact"])
    make_contact(session)  # no affiliation at all

    at_hospital = _ids(_list(client, viewer_headers, member_id=str(hospital.id)))
    assert set(at_hospital) == {str(billing_at_hospital.id), str(billing_elsewhere.id)}
    billing = _ids(_list(client, viewer_headers, role="billing_contact"))
    assert set(billing) == {str(billing_at_hospital.id), str(billing_elsewhere.id)}
    both = _ids(_list(client, viewer_headers, member_id=str(hospital.id), role="billing_contact"))
    assert both == [str(billing_at_hospital.id)]
    assert _ids(_list(client, viewer_headers, role="board_member")) == []


def test_updated_since_and_external_id_filters(client, viewer_headers, session):
    old = make_contact(session, external_id="crm-1")
    old.updated_at = datetime(2020, 1, 1, tzinfo=UTC)
    recent = make_contact(session, external_id="crm-2")
    session.flush()
    since = _list(client, viewer_headers, updated_since="2024-01-01T00:00:00+01:00")
    assert _ids(since) == [str(recent.id)]
    assert _ids(_list(client, viewer_headers, external_id="crm-1")) == [str(old.id)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"role": "cook"}, "role"),
        ({"member_id": "nope"}, "member_id"),
        ({"sort": "first_name"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"updated_since": "2024-01-01T00:00:00"}, "updated_since"),
        ({"q": ""}, "q"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_query_parameters_are_422(client, viewer_headers, query, field):
    response = _list(client, viewer_headers, **query)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_keyset_pages_cover_every_contact_once(client, viewer_headers, session):
    created = {str(make_contact(session, last_name="Same").id) for _ in range(7)}
    seen: list[str] = []
    query: dict[str, object] = {"limit": 3, "include_total": "true"}
    pages = 0
    while True:
        response = _list(client, viewer_headers, **query)
        body = response.get_json()
        assert body["total"] == 7
        seen += _ids(response)
        pages += 1
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
        query["cursor"] = body["next_cursor"]
    assert pages == 3
    assert sorted(seen) == sorted(created)


def test_list_runs_a_fixed_number_of_queries(client, viewer_headers, session, count_queries):
    members = [make_member(session) for _ in range(3)]
    for index in range(60):
        contact = make_contact(session)
        make_affiliation(session, contact=contact, member=members[index % 3], is_primary=True)
    session.commit()
    counts = []
    for limit in (5, 50):
        with count_queries() as statements:
            response = _list(client, viewer_headers, limit=limit)
        assert len(response.get_json()["data"]) == limit
        assert response.get_json()["data"][0]["affiliations"][0]["member"]["name"]
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_member_contacts_embed_only_the_affiliation_with_that_member(
    client, viewer_headers, session
):
    hospital, university = make_member(session, name="CHU"), make_member(session, name="Univ")
    clinician = make_contact(session, first_name="Hélène", last_name="Arnaud")
    make_affiliation(session, contact=clinician, member=hospital, job_title="Surgeon")
    make_affiliation(
        session, contact=clinician, member=university, job_title="Professor", is_primary=True
    )
    other = make_contact(session, last_name="Blanc")
    make_affiliation(session, contact=other, member=hospital, roles=["billing_contact"])
    make_affiliation(session, contact=make_contact(session), member=university)

    response = client.get(f"/api/v1/members/{hospital.id}/contacts", headers=viewer_headers)
    assert _ids(response) == [str(clinician.id), str(other.id)]
    first = response.get_json()["data"][0]
    assert "affiliations" not in first
    assert first["affiliation"]["job_title"] == "Surgeon"
    assert first["affiliation"]["member"] == {"id": str(hospital.id), "name": "CHU"}
    filtered = client.get(
        f"/api/v1/members/{hospital.id}/contacts",
        query_string={"role": "billing_contact", "q": "blanc"},
        headers=viewer_headers,
    )
    assert _ids(filtered) == [str(other.id)]
    # The full contact still has both affiliations.
    full = client.get(f"{URL}/{clinician.id}", headers=viewer_headers).get_json()
    assert len(full["affiliations"]) == 2


def test_member_contacts_fixed_number_of_queries(client, viewer_headers, session, count_queries):
    member = make_member(session)
    for _ in range(30):
        make_affiliation(session, contact=make_contact(session), member=member)
    session.commit()
    counts = []
    for limit in (5, 25):
        with count_queries() as statements:
            response = client.get(
                f"/api/v1/members/{member.id}/contacts",
                query_string={"limit": limit},
                headers=viewer_headers,
            )
        assert len(response.get_json()["data"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_member_contacts_refusals(client, viewer_headers, session):
    url = f"/api/v1/members/{uuid.uuid4()}/contacts"
    assert client.get(url, headers=viewer_headers).status_code == 404
    member = make_member(session)
    url = f"/api/v1/members/{member.id}/contacts"
    assert (
        client.get(
            url, query_string={"member_id": str(member.id)}, headers=viewer_headers
        ).status_code
        == 422
    )
    assert client.get(url).status_code == 401


def test_list_needs_a_token(client):
    assert client.get(URL).status_code == 401


def test_list_needs_the_read_scope(client, session):
    from tests.factories import bearer, log_in, make_user

    user = make_user(session, role="viewer")
    session.commit()
    token = log_in(client, user.email, scopes=["members:read"])["access_token"]
    response = client.get(URL, headers=bearer(token))
    assert response.status_code == 403
