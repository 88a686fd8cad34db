"""Login checks remembered per process on PostgreSQL, and forgotten when the database says so.

Each change is made by another app on the same database (another worker, whose commit this
process hears only through ``NOTIFY``), and must be refused here within a second.
"""

import time
import uuid
from datetime import timedelta

import jwt
import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from api import create_app
from api.auth import login_listener
from api.config import Settings
from api.extensions import db
from models import AuthSession, User
from models.types import utcnow
from services.login_cache import LoginCache
from tests.api_clients.helpers import client_headers, register_client
from tests.conftest import make_settings
from tests.factories import bearer, log_in, make_user
from tests.login_cache.helpers import eventually, listening

ME_URL = "/api/v1/auth/me"
LOGOUT_URL = "/api/v1/auth/logout"
MEMBERS_URL = "/api/v1/members"
LOGIN_SQL = "JOIN auth_sessions"


def _login(token: str) -> tuple[uuid.UUID, uuid.UUID]:
    claims = jwt.decode(token, options={"verify_signature": False})
    return uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])


@pytest.fixture
def staff_login(committing_app, real_session):
    """A staff user logged in on the app under test, its login remembered by its cache."""
    listener = listening(committing_app)
    user = make_user(real_session, role="staff")
    real_session.commit()
    client = committing_app.test_client()
    token = log_in(client, user.email)["access_token"]
    user_id, session_id = _login(token)

    def remembered() -> bool:
        assert client.get(ME_URL, headers=bearer(token)).status_code == 200
        return listener.cache.role(user_id=user_id, session_id=session_id) is not None

    assert eventually(remembered, 5)
    return client, bearer(token), user, listener, session_id


def _sql(database_url: str, statement: str, *params: object) -> None:
    """Run a statement from a connection of its own, as another program would."""
    url = make_url(database_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as connection:
        connection.execute(statement, params)


@pytest.mark.postgres_only
def test_a_remembered_login_is_checked_without_a_query(staff_login, count_queries):
    client, headers, _user, _listener, _sid = staff_login
    with count_queries() as statements:
        assert client.get(ME_URL, headers=headers).status_code == 200
    assert not [s for s in statements if LOGIN_SQL in s]


@pytest.mark.postgres_only
def test_a_logout_elsewhere_is_refused_here_within_a_second(staff_login, other_worker):
    client, headers, _user, listener, session_id = staff_login
    assert other_worker.test_client().post(LOGOUT_URL, headers=headers).status_code == 204
    assert eventually(lambda: client.get(ME_URL, headers=headers).status_code == 401)
    assert listener.cache.role(user_id=_user.id, session_id=session_id) is None


@pytest.mark.postgres_only
def test_a_deactivation_elsewhere_is_refused_here_within_a_second(
    staff_login, other_worker, admin_on_other_worker
):
    client, headers, user, _listener, _sid = staff_login
    path = f"/api/v1/users/{user.id}/deactivate"
    response = other_worker.test_client().post(path, headers=admin_on_other_worker)
    assert response.status_code == 200, response.get_json()
    assert eventually(lambda: client.get(ME_URL, headers=headers).status_code == 401)


@pytest.mark.postgres_only
def test_a_role_change_elsewhere_applies_here_within_a_second(
    staff_login, other_worker, admin_on_other_worker
):
    client, headers, user, _listener, _sid = staff_login
    assert "members:write" in client.get(ME_URL, headers=headers).get_json()["scopes"]
    response = other_worker.test_client().patch(
        f"/api/v1/users/{user.id}", json={"role": "viewer"}, headers=admin_on_other_worker
    )
    assert response.status_code == 200, response.get_json()
    assert eventually(
        lambda: "members:write" not in client.get(ME_URL, headers=headers).get_json()["scopes"]
    )


@pytest.mark.postgres_only
def test_a_logout_in_this_process_is_refused_by_its_next_request(staff_login):
    client, headers, _user, _listener, _sid = staff_login
    assert client.post(LOGOUT_URL, headers=headers).status_code == 204
    assert client.get(ME_URL, headers=headers).status_code == 401  # no waiting


def _quiet(cache: LoginCache) -> int:
    """The generation once no notification has arrived for a fifth of a second."""
    while True:
        generation = cache.generation()
        time.sleep(0.2)
        if cache.generation() == generation and generation is not None:
            return generation


@pytest.mark.postgres_only
def test_this_process_forgets_when_it_commits_a_checked_column(committing_app, real_session):
    """At its own commit, before any notification (none comes: no row matches)."""
    cache = listening(committing_app).cache
    nobody = uuid.uuid4()
    generation = _quiet(cache)
    refresh = update(AuthSession).where(AuthSession.id == nobody).values(refreshed_at=utcnow())
    real_session.execute(refresh)
    real_session.commit()
    assert cache.generation() == generation  # a refresh changes nothing a check reads
    real_session.execute(refresh.values(revoked_at=utcnow()))
    real_session.rollback()
    assert cache.generation() == generation  # nothing committed
    real_session.execute(update(User).where(User.id == nobody).values(is_active=False))
    real_session.commit()
    assert cache.generation() != generation


@pytest.mark.postgres_only
def test_a_change_to_one_user_forgets_only_that_user(staff_login, real_session, database_url):
    _client, _headers, user, listener, session_id = staff_login
    other = make_user(real_session, role="staff")
    real_session.commit()
    generation = listener.cache.generation()
    _sql(database_url, "UPDATE users SET role = 'viewer' WHERE id = %s", other.id)
    assert eventually(lambda: listener.cache.generation() != generation)
    assert listener.cache.role(user_id=user.id, session_id=session_id) == "staff"
    _sql(database_url, "UPDATE users SET role = 'viewer' WHERE id = %s", user.id)
    assert eventually(lambda: listener.cache.role(user_id=user.id, session_id=session_id) is None)


@pytest.fixture
def partner(committing_app, other_worker, admin_on_other_worker):
    """A registered API client whose token the app under test has remembered."""
    listener = listening(committing_app)
    registered = register_client(other_worker.test_client(), admin_on_other_worker)
    client = committing_app.test_client()
    headers = client_headers(client, registered)
    client_id = uuid.UUID(registered["client_id"])

    def remembered() -> bool:
        assert client.get(MEMBERS_URL, headers=headers).status_code == 200
        return listener.cache.client_scopes(client_id) is not None

    assert eventually(remembered, 5)
    return client, headers, f"/api/v1/api-clients/{client_id}", listener, client_id


@pytest.mark.postgres_only
def test_a_remembered_client_is_checked_without_a_query(partner, count_queries):
    client, headers, _path, _listener, _cid = partner
    with count_queries() as statements:
        assert client.get(MEMBERS_URL, headers=headers).status_code == 200
    assert not [s for s in statements if "FROM api_clients" in s]


@pytest.mark.postgres_only
def test_a_client_deactivated_elsewhere_is_refused_within_a_second(
    partner, other_worker, admin_on_other_worker
):
    client, headers, path, _listener, _cid = partner
    response = other_worker.test_client().patch(
        path, json={"is_active": False}, headers=admin_on_other_worker
    )
    assert response.status_code == 200, response.get_json()
    assert eventually(lambda: client.get(MEMBERS_URL, headers=headers).status_code == 401)


@pytest.mark.postgres_only
def test_a_client_deleted_elsewhere_is_refused_within_a_second(
    partner, other_worker, admin_on_other_worker
):
    client, headers, path, _listener, _cid = partner
    response = other_worker.test_client().delete(path, headers=admin_on_other_worker)
    assert response.status_code == 204
    assert eventually(lambda: client.get(MEMBERS_URL, headers=headers).status_code == 401)


@pytest.mark.postgres_only
def test_a_client_scope_narrowed_elsewhere_applies_within_a_second(
    partner, other_worker, admin_on_other_worker
):
    client, headers, path, _listener, _cid = partner
    response = other_worker.test_client().patch(
        path, json={"scopes": ["members:write"]}, headers=admin_on_other_worker
    )
    assert response.status_code == 200, response.get_json()
    assert eventually(lambda: client.get(MEMBERS_URL, headers=headers).status_code == 403)


@pytest.mark.postgres_only
def test_a_remembered_client_expires_on_time_without_a_notification(
    partner, other_worker, admin_on_other_worker
):
    client, headers, path, listener, client_id = partner
    expires_at = utcnow() + timedelta(seconds=2)
    response = other_worker.test_client().patch(
        path, json={"expires_at": expires_at.isoformat()}, headers=admin_on_other_worker
    )
    assert response.status_code == 200, response.get_json()

    def remembered_with_expiry() -> bool:
        assert client.get(MEMBERS_URL, headers=headers).status_code == 200
        return listener.cache._clients.get(client_id, ("", None))[1] is not None

    assert eventually(remembered_with_expiry)
    generation = listener.cache.generation()
    time.sleep(max(0.0, (expires_at - utcnow()).total_seconds()) + 0.05)
    assert client.get(MEMBERS_URL, headers=headers).status_code == 401
    assert listener.cache.generation() == generation  # nothing was notified meanwhile


@pytest.mark.postgres_only
def test_a_lost_listener_connection_reconnects_and_starts_empty(staff_login, database_url):
    client, headers, user, listener, session_id = staff_login
    connections, backend_pid = listener.connections, listener.backend_pid
    # Revoke while the listener is away: its notification is lost with the connection.
    _sql(
        database_url,
        "SELECT pg_terminate_backend(%s)",
        backend_pid,
    )
    assert eventually(lambda: not listener.cache.listening or listener.connections > connections)
    _sql(database_url, "UPDATE auth_sessions SET revoked_at = now() WHERE id = %s", session_id)
    assert eventually(lambda: listener.connections > connections and listener.cache.listening, 10)
    assert listener.backend_pid != backend_pid
    assert listener.cache.role(user_id=user.id, session_id=session_id) is None
    assert client.get(ME_URL, headers=headers).status_code == 401


@pytest.mark.postgres_only
def test_nothing_is_remembered_while_the_listener_is_away(staff_login, count_queries):
    client, headers, _user, listener, _sid = staff_login
    listener.stop()
    assert not listener.cache.listening
    with count_queries() as statements:
        assert client.get(ME_URL, headers=headers).status_code == 200  # restarts it
    assert [s for s in statements if LOGIN_SQL in s]
    listening(client.application)


def test_sqlite_and_the_switched_off_setting_have_no_cache(app, backend, database_url, tmp_path):
    if backend == "sqlite":
        assert login_listener(app) is None
    else:
        assert login_listener(app) is not None
    assert Settings.from_env({"MRM_LOGIN_CACHE": "0"}, jwt_secret_key="k" * 40).login_cache is False
    switched_off = create_app(make_settings(database_url, tmp_path, login_cache=False))
    assert login_listener(switched_off) is None
    db.state(switched_off).engine.dispose()


def test_requests_inside_a_test_transaction_do_not_use_the_cache(client, staff_headers, app):
    """Their writes are not committed, so no notification would ever correct the cache."""
    listener = login_listener(app)
    user_id, session_id = _login(staff_headers["Authorization"].split()[1])
    assert client.get(ME_URL, headers=staff_headers).status_code == 200
    if listener is not None:
        assert listener.cache.role(user_id=user_id, session_id=session_id) is None
    assert client.post(LOGOUT_URL, headers=staff_headers).status_code == 204
    assert client.get(ME_URL, headers=staff_headers).status_code == 401


# The cache's own rules, without a database.

USER, LOGIN = uuid.uuid4(), uuid.uuid4()


def test_an_answer_read_before_a_forget_is_not_stored():
    cache = LoginCache()
    cache.start_listening()
    generation = cache.generation()
    assert generation is not None
    cache.forget(f"s:{uuid.uuid4()}")  # any change handled meanwhile
    assert not cache.store_role(generation, user_id=USER, session_id=LOGIN, role="staff")
    assert cache.role(user_id=USER, session_id=LOGIN) is None
    assert cache.store_role(cache.generation(), user_id=USER, session_id=LOGIN, role="staff")
    assert cache.role(user_id=USER, session_id=LOGIN) == "staff"
    assert cache.role(user_id=uuid.uuid4(), session_id=LOGIN) is None  # another user's token


def test_nothing_is_read_or_stored_unless_listening():
    cache = LoginCache()
    assert cache.generation() is None
    cache.start_listening()
    generation = cache.generation()
    assert cache.store_role(generation, user_id=USER, session_id=LOGIN, role="staff")
    cache.stop_listening()
    assert cache.role(user_id=USER, session_id=LOGIN) is None
    assert not cache.store_role(generation, user_id=USER, session_id=LOGIN, role="staff")
    cache.start_listening()  # a reconnection starts from nothing
    assert cache.role(user_id=USER, session_id=LOGIN) is None
    assert not cache.store_role(generation, user_id=USER, session_id=LOGIN, role="staff")


def test_forgetting_a_user_forgets_all_their_logins_and_no_one_else():
    cache = LoginCache()
    cache.start_listening()
    other_user, other_login, second_login = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for user_id, session_id in ((USER, LOGIN), (USER, second_login), (other_user, other_login)):
        cache.store_role(cache.generation(), user_id=user_id, session_id=session_id, role="staff")
    cache.forget(f"u:{USER}")
    assert cache.role(user_id=USER, session_id=LOGIN) is None
    assert cache.role(user_id=USER, session_id=second_login) is None
    assert cache.role(user_id=other_user, session_id=other_login) == "staff"
    cache.forget("something else")
    assert len(cache) == 0


def test_the_cache_is_bounded_and_drops_the_oldest():
    cache = LoginCache(max_entries=3)
    cache.start_listening()
    logins = [uuid.uuid4() for _ in range(5)]
    for session_id in logins:
        cache.store_role(cache.generation(), user_id=USER, session_id=session_id, role="staff")
        cache.store_client(cache.generation(), client_id=session_id, scopes="a", expires_at=None)
    assert len(cache) == 6
    assert cache.role(user_id=USER, session_id=logins[0]) is None
    assert cache.role(user_id=USER, session_id=logins[-1]) == "staff"
    assert cache.client_scopes(logins[0]) is None
    cache.forget(f"u:{USER}")
    assert cache.role(user_id=USER, session_id=logins[-1]) is None


def test_an_expired_client_is_not_answered_from_memory():
    cache = LoginCache()
    cache.start_listening()
    client_id = uuid.uuid4()
    past = utcnow() - timedelta(seconds=1)
    cache.store_client(cache.generation(), client_id=client_id, scopes="a", expires_at=past)
    assert cache.client_scopes(client_id) is None
