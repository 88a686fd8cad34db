"""The admin endpoints of /users: listing, creating, reading, updating, deactivating."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from models import AuthSession, User
from services.errors import Conflict
from services.users import delete_user, update_user
from tests.factories import bearer, log_in, make_user

URL = "/api/v1/users"
NEW = {"email": "new.user@example.org", "password": "a long enough password", "role": "staff"}


def problem(response, status):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


@pytest.fixture
def population(session):
    """Eleven users beside the admin of ``admin_headers``: roles, states and names vary."""
    users = [
        make_user(session, role="viewer", email=f"viewer{i}@example.org", full_name=f"Viewer {i}")
        for i in range(4)
    ]
    users += [
        make_user(session, role="staff", email=f"staff{i}@example.org", full_name=f"Ana {i}")
        for i in range(5)
    ]
    users += [
        make_user(session, role="staff", email=f"gone{i}@example.org", is_active=False)
        for i in range(2)
    ]
    # identical timestamps: the id must break the tie in keyset order
    tie = datetime(2030, 1, 1, tzinfo=UTC)
    session.execute(
        update(User).where(User.email.like("staff%")).values(created_at=tie, updated_at=tie)
    )
    session.commit()
    return users


def all_pages(client, headers, query):
    seen, url, pages = [], f"{URL}?{query}", 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen.extend(user["id"] for user in body["data"])
        pages += 1
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        target = urlsplit(link[1 : link.index(">")])
        assert parse_qs(target.query)["cursor"] == [body["next_cursor"]]
        url = f"{target.path}?{target.query}"
    return seen, pages


@pytest.mark.parametrize(
    "sort", ["email", "-email", "created_at", "-created_at", "updated_at", "-updated_at"]
)
def test_cursor_pages_cover_every_user_once(client, admin_headers, population, session, sort):
    seen, pages = all_pages(client, admin_headers, f"limit=3&sort={sort}")
    assert len(seen) == len(set(seen)) == 12
    assert pages == 4
    column = getattr(User, sort.lstrip("-"))
    order = (column.desc(), User.id.desc()) if sort.startswith("-") else (column, User.id)
    assert seen == [str(i) for i in session.scalars(select(User.id).order_by(*order))]


def test_a_row_inserted_between_pages_does_not_shift_the_next(
    client, admin_headers, population, session
):
    first = client.get(f"{URL}?limit=3&sort=email", headers=admin_headers).get_json()
    make_user(session, email="aaa-first@example.org")
    session.commit()
    second = client.get(
        f"{URL}?limit=3&sort=email&cursor={first['next_cursor']}", headers=admin_headers
    ).get_json()
    assert first["data"][-1]["email"] < second["data"][0]["email"]
    assert {u["id"] for u in first["data"]}.isdisjoint(u["id"] for u in second["data"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("role=viewer", {f"viewer{i}@example.org" for i in range(4)}),
        ("is_active=false", {"gone0@example.org", "gone1@example.org"}),
        ("role=staff&is_active=true", {f"staff{i}@example.org" for i in range(5)}),
        ("q=ANA", {f"staff{i}@example.org" for i in range(5)}),
        ("q=viewer2", {"viewer2@example.org"}),
        ("q=_", set()),
        ("q=%25", set()),
        ("updated_since=2029-12-31T23:00:00%2B00:00", {f"staff{i}@example.org" for i in range(5)}),
        ("updated_since=2030-01-01T00:00:00.000001Z", set()),
    ],
)
def test_filters(client, admin_headers, population, query, expected):
    response = client.get(f"{URL}?{query}&include_total=true", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {user["email"] for user in body["data"]} == expected
    assert body["total"] == len(expected)


def test_total_counts_all_pages(client, admin_headers, population):
    body = client.get(f"{URL}?limit=2&include_total=true", headers=admin_headers).get_json()
    assert body["total"] == 12
    assert len(body["data"]) == 2
    assert "total" not in client.get(f"{URL}?limit=2", headers=admin_headers).get_json()


def test_list_item_shape(client, admin_headers):
    body = client.get(URL, headers=admin_headers).get_json()
    assert set(body) == {"data", "next_cursor"}
    (user,) = body["data"]
    assert set(user) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert user["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("role=superuser", "role"),
        ("is_active=maybe", "is_active"),
        ("updated_since=2030-01-01T00:00:00", "updated_since"),
        ("updated_since=yesterday", "updated_since"),
        ("sort=password_hash", "sort"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJzIjoiZW1haWwiLCJ2IjpbMV19", "cursor"),
        ("q=", "q"),
        ("page=2", "page"),
        ("include_total=perhaps", "include_total"),
    ],
)
def test_bad_list_arguments(client, admin_headers, query, field):
    body = problem(client.get(f"{URL}?{query}", headers=admin_headers), 422)
    assert field in body["errors"], body


def test_cursor_of_another_sort_is_refused(client, admin_headers, population):
    cursor = client.get(f"{URL}?limit=2&sort=email", headers=admin_headers).get_json()
    body = problem(
        client.get(
            f"{URL}?limit=2&sort=created_at&cursor={cursor['next_cursor']}", headers=admin_headers
        ),
        422,
    )
    assert "cursor" in body["errors"]


def test_create(client, admin_headers, session):
    response = client.post(URL, json={**NEW, "full_name": "  New User "}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert response.headers["ETag"] == '"v1"'
    assert body["full_name"] == "New User"
    assert body["role"] == "staff"
    assert body["is_active"] is True
    assert "password" not in body
    fetched = client.get(response.headers["Location"], headers=admin_headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == body
    log_in(client, NEW["email"], NEW["password"])


def test_duplicate_email_is_a_conflict_whatever_the_case(client, admin_headers, session):
    first = client.post(URL, json=NEW, headers=admin_headers).get_json()
    duplicate = {**NEW, "email": NEW["email"].upper()}
    body = problem(client.post(URL, json=duplicate, headers=admin_headers), 409)
    assert "email" in body["errors"]
    assert body["existing"] == {"id": first["id"]}
    assert session.scalar(select(func.count()).select_from(User)) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "two@@example.org"}, "email"),
        ({"role": "root"}, "role"),
        ({"is_admin": True}, "is_admin"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"email": None}, "email"),
        ({"password": 123456789012}, "password"),
    ],
)
def test_create_rejects_bad_input(client, admin_headers, session, change, field):
    body = problem(client.post(URL, json={**NEW, **change}, headers=admin_headers), 422)
    assert field in body["errors"], body
    assert session.scalar(select(User).where(User.email == NEW["email"])) is None


@pytest.mark.parametrize("missing", ["email", "password", "role"])
def test_create_requires_fields(client, admin_headers, missing):
    body = {key: value for key, value in NEW.items() if key != missing}
    assert missing in problem(client.post(URL, json=body, headers=admin_headers), 422)["errors"]


def test_get_unknown_user(client, admin_headers):
    body = problem(client.get(f"{URL}/{uuid.uuid4()}", headers=admin_headers), 404)
    assert body["type"].endswith("not-found")


@pytest.mark.parametrize("path", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
def test_non_uuid_path_is_404(client, admin_headers, path):
    problem(client.get(f"{URL}/{path}", headers=admin_headers), 404)
    problem(client.patch(f"{URL}/{path}", json={}, headers=admin_headers), 404)


@pytest.fixture
def target(client, admin_headers):
    response = client.post(URL, json=NEW, headers=admin_headers)
    return response.get_json()["id"], response.headers["ETag"]


def test_patch_with_the_current_etag(client, admin_headers, target):
    user_id, etag = target
    response = client.patch(
        f"{URL}/{user_id}",
        json={"full_name": "Renamed", "role": "viewer"},
        headers={**admin_headers, "If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] == '"v2"'
    assert response.get_json()["full_name"] == "Renamed"
    assert response.get_json()["role"] == "viewer"
    assert client.get(f"{URL}/{user_id}", headers=admin_headers).headers["ETag"] == '"v2"'
    # the old ETag no longer matches
    stale = client.patch(
        f"{URL}/{user_id}", json={"full_name": "Again"}, headers={**admin_headers, "If-Match": etag}
    )
    problem(stale, 412)
    assert (
        client.get(f"{URL}/{user_id}", headers=admin_headers).get_json()["full_name"] == "Renamed"
    )


@pytest.mark.parametrize("if_match", ['"v9"', "garbage", '"v1x"', 'W/"v2"'])
def test_patch_with_a_mismatched_etag(client, admin_headers, target, if_match):
    user_id, _ = target
    response = client.patch(
        f"{URL}/{user_id}", json={"full_name": "X"}, headers={**admin_headers, "If-Match": if_match}
    )
    problem(response, 412)


def test_delete_with_a_mismatched_etag(client, admin_headers, target):
    user_id, _ = target
    problem(client.delete(f"{URL}/{user_id}", headers={**admin_headers, "If-Match": '"v7"'}), 412)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"is_active": "sometimes"}, "is_active"),
        ({"password": "short"}, "password"),
        ({"email": "other@example.org"}, "email"),
        ({"id": str(uuid.uuid4())}, "id"),
    ],
)
def test_patch_rejects_bad_input(client, admin_headers, target, change, field):
    user_id, _ = target
    body = problem(client.patch(f"{URL}/{user_id}", json=change, headers=admin_headers), 422)
    assert field in body["errors"]


def test_patch_unknown_user(client, admin_headers):
    problem(
        client.patch(f"{URL}/{uuid.uuid4()}", json={"role": "staff"}, headers=admin_headers), 404
    )
    problem(client.delete(f"{URL}/{uuid.uuid4()}", headers=admin_headers), 404)


def test_delete_removes_the_account_and_its_logins(client, admin_headers, target, session):
    user_id, etag = target
    tokens = log_in(client, NEW["email"], NEW["password"])
    response = client.delete(f"{URL}/{user_id}", headers={**admin_headers, "If-Match": etag})
    assert response.status_code == 204
    assert response.data == b""
    problem(client.get(f"{URL}/{user_id}", headers=admin_headers), 404)
    assert session.scalar(select(func.count()).select_from(AuthSession)) >= 1  # the admin's
    owned = (
        select(func.count())
        .select_from(AuthSession)
        .where(AuthSession.user_id == uuid.UUID(user_id))
    )
    assert session.scalar(owned) == 0
    problem(client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 401)
    # the address is free again
    assert client.post(URL, json=NEW, headers=admin_headers).status_code == 201


def test_deactivate_and_reactivate(client, admin_headers, target):
    user_id, etag = target
    problem(
        client.post(f"{URL}/{user_id}/deactivate", headers={**admin_headers, "If-Match": '"v9"'}),
        412,
    )
    response = client.post(
        f"{URL}/{user_id}/deactivate", headers={**admin_headers, "If-Match": etag}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_active"] is False
    assert response.headers["ETag"] == '"v2"'
    login = {"email": NEW["email"], "password": NEW["password"]}
    problem(client.post("/api/v1/auth/token", json=login), 401)
    again = problem(client.post(f"{URL}/{user_id}/deactivate", headers=admin_headers), 409)
    assert "is_active" in again["errors"]
    assert client.get(f"{URL}/{user_id}", headers=admin_headers).get_json()["is_active"] is False

    response = client.post(f"{URL}/{user_id}/reactivate", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_active"] is True
    assert response.headers["ETag"] == '"v3"'
    assert log_in(client, NEW["email"], NEW["password"])["access_token"]
    problem(client.post(f"{URL}/{user_id}/reactivate", headers=admin_headers), 409)


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_deactivate_and_reactivate_unknown_or_malformed(client, admin_headers, action):
    problem(client.post(f"{URL}/{uuid.uuid4()}/{action}", headers=admin_headers), 404)
    problem(client.post(f"{URL}/not-a-uuid/{action}", headers=admin_headers), 404)
    user_id = uuid.uuid4()
    body = problem(
        client.post(f"{URL}/{user_id}/{action}", json={"is_active": False}, headers=admin_headers),
        422,
    )
    assert body["errors"] == {"is_active": ["Unknown field."]}


def test_the_last_active_admin_cannot_be_deleted(client, session, admin):
    user, headers = admin
    make_user(session, role="admin", is_active=False)
    other = make_user(session, role="admin")
    session.commit()
    # another admin may delete this one while two are active...
    assert client.delete(f"{URL}/{other.id}", headers=headers).status_code == 204
    # ... but not the last one, even through another admin's account
    problem(client.delete(f"{URL}/{user.id}", headers=headers), 409)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_the_last_active_admin_rule_blocks_deletion_by_someone_else(session):
    only_admin = make_user(session, role="admin")
    someone = make_user(session, role="admin", is_active=False)
    session.commit()
    with pytest.raises(Conflict):
        delete_user(session, actor=someone, user_id=only_admin.id, if_match=None)
    assert session.get(User, only_admin.id) is not None


@pytest.fixture
def admin(client, session):
    user = make_user(session, role="admin")
    session.commit()
    return user, bearer(log_in(client, user.email)["access_token"])


@pytest.mark.parametrize(
    ("method", "change", "field"),
    [
        ("patch", {"role": "staff"}, "role"),
        ("patch", {"is_active": False}, "is_active"),
        ("deactivate", None, "is_active"),
        ("delete", None, None),
    ],
)
def test_admin_cannot_demote_deactivate_or_delete_self(
    client, session, admin, method, change, field
):
    make_user(session, role="admin")  # another admin exists: only the self rule applies
    session.commit()
    user, headers = admin
    if method == "deactivate":
        response = client.post(f"{URL}/{user.id}/deactivate", headers=headers)
    else:
        kwargs = {"json": change} if change is not None else {}
        response = getattr(client, method)(f"{URL}/{user.id}", headers=headers, **kwargs)
    body = problem(response, 409)
    if field:
        assert field in body["errors"]
    assert client.get("/api/v1/auth/me", headers=headers).get_json()["role"] == "admin"


def test_admin_may_change_own_name(client, admin):
    user, headers = admin
    response = client.patch(f"{URL}/{user.id}", json={"full_name": "Me"}, headers=headers)
    assert response.status_code == 200


def test_an_admin_may_demote_another_admin(client, session, admin):
    other = make_user(session, role="admin")
    session.commit()
    _, headers = admin
    response = client.patch(f"{URL}/{other.id}", json={"role": "staff"}, headers=headers)
    assert response.status_code == 200, response.get_json()


def test_the_last_active_admin_stays(session):
    """The rule behind the self rule: no change may leave zero active admins."""
    only_admin = make_user(session, role="admin")
    make_user(session, role="admin", is_active=False)
    someone = make_user(session, role="staff")
    session.commit()
    for changes in ({"role": "viewer"}, {"is_active": False}):
        with pytest.raises(Conflict) as caught:
            update_user(
                session, actor=someone, user_id=only_admin.id, changes=changes, if_match=None
            )
        assert caught.value.field in changes
    session.refresh(only_admin)
    assert (only_admin.role, only_admin.is_active) == ("admin", True)


def test_reactivating_or_promoting_is_never_blocked(session):
    admin = make_user(session, role="admin")
    idle = make_user(session, role="admin", is_active=False)
    session.commit()
    user = update_user(
        session, actor=admin, user_id=idle.id, changes={"is_active": True}, if_match=None
    )
    assert user.is_active


ENDPOINTS = [
    ("get", URL, None),
    ("post", URL, NEW),
    ("get", f"{URL}/{{id}}", None),
    ("patch", f"{URL}/{{id}}", {"full_name": "x"}),
    ("delete", f"{URL}/{{id}}", None),
    ("post", f"{URL}/{{id}}/deactivate", None),
    ("post", f"{URL}/{{id}}/reactivate", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_non_admins_are_forbidden(client, session, method, path, body, role):
    victim = make_user(session, role="viewer")
    session.commit()
    headers = bearer(log_in(client, make_user(session, role=role).email)["access_token"])
    session.commit()
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path.format(id=victim.id), headers=headers, **kwargs)
    body = problem(response, 403)
    assert body["type"].endswith("forbidden")
    session.refresh(victim)
    assert (victim.full_name, victim.is_active) == ("", True)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_no_token_is_401(client, session, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path.format(id=uuid.uuid4()), **kwargs)
    problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_permission_is_checked_before_the_body(client, viewer_headers):
    """A forbidden caller learns nothing from validation messages."""
    problem(client.post(URL, json={"bogus": 1}, headers=viewer_headers), 403)
    problem(client.post(URL, json={"bogus": 1}), 401)


def test_updated_since_sees_changes(client, admin_headers, target):
    user_id, _ = target
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    client.patch(f"{URL}/{user_id}", json={"full_name": "Changed"}, headers=admin_headers)
    response = client.get(URL, query_string={"updated_since": since}, headers=admin_headers)
    assert user_id in {user["id"] for user in response.get_json()["data"]}


def test_weak_etag_never_matches(client, admin_headers, target):
    user_id, etag = target
    weak = client.patch(
        f"{URL}/{user_id}",
        json={"full_name": "X"},
        headers={**admin_headers, "If-Match": f"W/{etag}"},
    )
    problem(weak, 412)
    listed = client.patch(
        f"{URL}/{user_id}",
        json={"full_name": "Y"},
        headers={**admin_headers, "If-Match": f'"v0", {etag}'},
    )
    assert listed.status_code == 200
    star = client.patch(
        f"{URL}/{user_id}", json={"full_name": "Z"}, headers={**admin_headers, "If-Match": "*"}
    )
    assert star.status_code == 200


def test_admin_count_locks_the_admin_rows(client, session, admin, backend, count_queries):
    """Two admins demoting each other at once must not both succeed: the count locks the rows."""
    other = make_user(session, role="admin")
    session.commit()
    _, headers = admin
    with count_queries() as statements:
        response = client.patch(f"{URL}/{other.id}", json={"role": "staff"}, headers=headers)
    assert response.status_code == 200
    (count,) = [s for s in statements if "users.role = " in s]
    if backend == "postgresql":
        assert "FOR UPDATE" in count
