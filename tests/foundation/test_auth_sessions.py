"""Refresh rotation, logout and revocation: a login's life in the database."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from api.extensions import db
from models import AuthSession, User
from models.types import utcnow
from services.passwords import hash_password
from tests.factories import PASSWORD, bearer, log_in, make_user
from tests.foundation.test_auth_tokens import assert_unauthorized

REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/auth/me"
USERS_URL = "/api/v1/users"


def refresh(client, token):
    return client.post(REFRESH_URL, json={"refresh_token": token})


def leave_reuse_window(session):
    """Move every rotation back in time, past the reuse window (10 s by default)."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.refreshed_at.is_not(None))
        .values(refreshed_at=utcnow() - timedelta(minutes=1))
    )
    session.commit()


@pytest.fixture
def staff(session):
    user = make_user(session, role="staff")
    session.commit()
    return user


def test_refresh_rotates_and_reuse_revokes_the_login(client, staff):
    first = log_in(client, staff.email)
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.get_json()
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert client.get(ME_URL, headers=bearer(second["access_token"])).status_code == 200
    third = refresh(client, second["refresh_token"]).get_json()
    assert client.get(ME_URL, headers=bearer(third["access_token"])).status_code == 200

    # The first refresh token comes back: someone else holds a copy.
    assert_unauthorized(refresh(client, first["refresh_token"]))
    # The whole login is gone: the newest tokens no longer work either.
    assert_unauthorized(client.get(ME_URL, headers=bearer(third["access_token"])))
    assert_unauthorized(client.get(ME_URL, headers=bearer(first["access_token"])))
    assert_unauthorized(refresh(client, third["refresh_token"]))


def test_reuse_revokes_only_that_login(client, session, staff):
    stolen = log_in(client, staff.email)
    other = log_in(client, staff.email)
    refresh(client, stolen["refresh_token"])
    leave_reuse_window(session)
    assert_unauthorized(refresh(client, stolen["refresh_token"]))
    assert client.get(ME_URL, headers=bearer(other["access_token"])).status_code == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_logout_revokes_access_and_refresh_tokens(client, staff, session):
    tokens = log_in(client, staff.email)
    other = log_in(client, staff.email)
    response = client.post(LOGOUT_URL, headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert response.data == b""
    assert_unauthorized(client.get(ME_URL, headers=bearer(tokens["access_token"])))
    assert_unauthorized(refresh(client, tokens["refresh_token"]))
    assert_unauthorized(client.post(LOGOUT_URL, headers=bearer(tokens["access_token"])))
    # another login of the same user is untouched
    assert client.get(ME_URL, headers=bearer(other["access_token"])).status_code == 200
    reasons = session.scalars(
        select(AuthSession.revoked_reason).where(AuthSession.user_id == staff.id)
    ).all()
    assert sorted(reasons, key=str) == sorted(["logout", None], key=str)


def test_logout_requires_a_token(client):
    assert_unauthorized(client.post(LOGOUT_URL))


def test_revocation_holds_across_app_instances(committed, make_app, database_url):
    """Two workers on one database: a logout in one is seen by the other."""
    first = committed.test_client()
    second_app = make_app(database_url)
    second = second_app.test_client()
    with committed.app_context():
        user = User(email="worker@example.org", password_hash=hash_password(PASSWORD), role="staff")
        db.session.add(user)
        db.session.commit()
    tokens = log_in(first, user.email)
    assert second.get(ME_URL, headers=bearer(tokens["access_token"])).status_code == 200
    assert first.post(LOGOUT_URL, headers=bearer(tokens["access_token"])).status_code == 204
    assert_unauthorized(second.get(ME_URL, headers=bearer(tokens["access_token"])))
    assert_unauthorized(refresh(second, tokens["refresh_token"]))
    # and refresh reuse detected by one worker revokes the login for the other
    tokens = log_in(second, user.email)
    assert refresh(first, tokens["refresh_token"]).status_code == 200
    with committed.app_context():
        leave_reuse_window(db.session)
    assert_unauthorized(refresh(second, tokens["refresh_token"]))
    assert_unauthorized(first.get(ME_URL, headers=bearer(tokens["access_token"])))


def test_downscoped_token(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    tokens = log_in(client, admin.email, scopes=["members:read"])
    assert tokens["scope"] == "members:read"
    response = client.get(USERS_URL, headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "users:admin" in response.get_json()["detail"]
    assert client.get(ME_URL, headers=bearer(tokens["access_token"])).get_json()["scopes"] == [
        "members:read"
    ]
    # the refreshed token keeps the narrower scopes
    refreshed = refresh(client, tokens["refresh_token"]).get_json()
    assert refreshed["scope"] == "members:read"
    assert client.get(USERS_URL, headers=bearer(refreshed["access_token"])).status_code == 403


def test_asking_for_a_scope_the_role_lacks(client, session):
    viewer = make_user(session, role="viewer")
    session.commit()
    response = client.post(
        "/api/v1/auth/token",
        json={"email": viewer.email, "password": PASSWORD, "scopes": ["members:write"]},
    )
    assert response.status_code == 422
    assert "scopes" in response.get_json()["errors"]
    assert session.scalar(select(AuthSession.id).where(AuthSession.user_id == viewer.id)) is None


@pytest.mark.parametrize("scopes", [["no:such"], [], "members:read"])
def test_malformed_scopes(client, staff, scopes):
    response = client.post(
        "/api/v1/auth/token", json={"email": staff.email, "password": PASSWORD, "scopes": scopes}
    )
    assert response.status_code == 422
    assert any(key.startswith("scopes") for key in response.get_json()["errors"])


def test_role_demotion_takes_effect_at_once(client, session, admin_headers):
    target = make_user(session, role="admin")
    session.commit()
    tokens = log_in(client, target.email)
    assert client.get(USERS_URL, headers=bearer(tokens["access_token"])).status_code == 200
    response = client.patch(
        f"{USERS_URL}/{target.id}", json={"role": "viewer"}, headers=admin_headers
    )
    assert response.status_code == 200, response.get_json()
    assert client.get(USERS_URL, headers=bearer(tokens["access_token"])).status_code == 403
    me = client.get(ME_URL, headers=bearer(tokens["access_token"])).get_json()
    assert "users:admin" not in me["scopes"]
    assert "members:write" not in me["scopes"]
    assert "members:read" in me["scopes"]
    refreshed = refresh(client, tokens["refresh_token"]).get_json()
    assert "users:admin" not in refreshed["scope"].split()


@pytest.mark.parametrize("how", ["patch", "deactivate", "delete"])
def test_deactivated_users_tokens_stop_working(client, session, admin_headers, how):
    target = make_user(session, role="staff")
    session.commit()
    tokens = log_in(client, target.email)
    if how == "patch":
        response = client.patch(
            f"{USERS_URL}/{target.id}", json={"is_active": False}, headers=admin_headers
        )
        assert response.status_code == 200
    elif how == "deactivate":
        response = client.post(f"{USERS_URL}/{target.id}/deactivate", headers=admin_headers)
        assert response.status_code == 200
    else:
        assert client.delete(f"{USERS_URL}/{target.id}", headers=admin_headers).status_code == 204
    assert_unauthorized(client.get(ME_URL, headers=bearer(tokens["access_token"])))
    assert_unauthorized(refresh(client, tokens["refresh_token"]))
    if how == "delete":
        return
    # reactivation does not bring old tokens back
    response = client.post(f"{USERS_URL}/{target.id}/reactivate", headers=admin_headers)
    assert response.status_code == 200
    assert_unauthorized(client.get(ME_URL, headers=bearer(tokens["access_token"])))
    assert log_in(client, target.email)["access_token"]


def test_password_change_ends_logins(client, session, admin_headers):
    target = make_user(session)
    session.commit()
    tokens = log_in(client, target.email)
    response = client.patch(
        f"{USERS_URL}/{target.id}",
        json={"password": "a brand new passphrase"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert_unauthorized(client.get(ME_URL, headers=bearer(tokens["access_token"])))
    log_in(client, target.email, "a brand new passphrase")


def test_refresh_token_may_come_as_the_bearer_token(client, staff):
    tokens = log_in(client, staff.email)
    response = client.post(REFRESH_URL, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200, response.get_json()
    assert (
        client.get(ME_URL, headers=bearer(response.get_json()["access_token"])).status_code == 200
    )
    # the body wins over the header, and an access token is no refresh token
    assert_unauthorized(client.post(REFRESH_URL, headers=bearer(tokens["access_token"])))


def test_refresh_without_any_token_is_unauthorized(client):
    assert_unauthorized(client.post(REFRESH_URL))
    assert_unauthorized(client.post(REFRESH_URL, json={}))
