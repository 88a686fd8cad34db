"""Logging in, and every way a token can be wrong."""

import hashlib
import hmac
from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token
from jwt.warnings import InsecureKeyLengthWarning

from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, bearer, log_in, make_user
from tests.foundation.conftest import b64url, b64url_json, token_parts

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/auth/me"


def assert_unauthorized(response):
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.get_json()
    assert body["status"] == 401
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.fixture
def staff(session):
    user = make_user(session, role="staff", email="staff.member@example.org")
    session.commit()
    return user


@pytest.fixture
def tokens(client, staff):
    return log_in(client, staff.email)


def test_good_credentials_give_working_tokens(client, staff):
    response = client.post(
        TOKEN_URL, json={"email": "Staff.Member@Example.org ", "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert "members:write" in body["scope"].split()
    assert "users:admin" not in body["scope"].split()
    me = client.get(ME_URL, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["email"] == staff.email
    assert me.get_json()["role"] == "staff"
    assert "password" not in me.get_json()
    assert "password_hash" not in me.get_json()
    assert set(me.get_json()["scopes"]) == set(body["scope"].split())


def test_bad_password_and_unknown_email_look_the_same(client, staff):
    headers = {"X-Request-ID": "same-request"}
    bad_password = client.post(
        TOKEN_URL, json={"email": staff.email, "password": "wrong password!"}, headers=headers
    )
    unknown = client.post(
        TOKEN_URL,
        json={"email": "nobody@example.org", "password": "wrong password!"},
        headers=headers,
    )
    assert_unauthorized(bad_password)
    assert_unauthorized(unknown)
    assert bad_password.get_json() == unknown.get_json()
    assert bad_password.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]


def test_inactive_user_cannot_log_in(client, session):
    user = make_user(session, is_active=False)
    session.commit()
    headers = {"X-Request-ID": "r1"}
    inactive = client.post(
        TOKEN_URL, json={"email": user.email, "password": PASSWORD}, headers=headers
    )
    unknown = client.post(
        TOKEN_URL, json={"email": "ghost@example.org", "password": PASSWORD}, headers=headers
    )
    assert_unauthorized(inactive)
    assert inactive.get_json() == unknown.get_json()


@pytest.mark.parametrize("body", [{}, {"email": "a@example.org"}, {"password": "x"}])
def test_missing_credentials_are_422(client, body):
    response = client.post(TOKEN_URL, json=body)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"email", "password"} - set(body)


def test_me_without_token(client):
    assert_unauthorized(client.get(ME_URL))


@pytest.mark.parametrize(
    "authorization", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer abc"]
)
def test_malformed_authorization_header(client, authorization):
    assert_unauthorized(client.get(ME_URL, headers={"Authorization": authorization}))


def test_expired_access_token(client, app, tokens):
    _, claims, _ = token_parts(tokens["access_token"])
    with app.app_context():
        expired = create_access_token(
            identity=claims["sub"],
            additional_claims={"sid": claims["sid"], "scope": claims["scope"]},
            expires_delta=timedelta(seconds=-30),
        )
    response = client.get(ME_URL, headers=bearer(expired))
    assert_unauthorized(response)
    assert "expired" in response.get_json()["detail"]
    # The same claims with a live expiry work: only the expiry made the difference.
    with app.app_context():
        fresh = create_access_token(
            identity=claims["sub"],
            additional_claims={"sid": claims["sid"], "scope": claims["scope"]},
        )
    assert client.get(ME_URL, headers=bearer(fresh)).status_code == 200


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1 :]


def test_tampered_signature(client, tokens):
    header, payload, signature = tokens["access_token"].split(".")
    tampered = f"{header}.{payload}.{_flip(signature, len(signature) // 2)}"
    assert_unauthorized(client.get(ME_URL, headers=bearer(tampered)))


def test_tampered_payload(client, tokens):
    header, payload, signature = tokens["access_token"].split(".")
    _, claims, _ = token_parts(tokens["access_token"])
    claims["scope"] += " users:admin"
    forged = f"{header}.{b64url_json(claims)}.{signature}"
    assert_unauthorized(client.get(ME_URL, headers=bearer(forged)))
    flipped = f"{header}.{_flip(payload, len(payload) // 2)}.{signature}"
    assert_unauthorized(client.get(ME_URL, headers=bearer(flipped)))


def test_token_signed_with_another_secret(client, tokens):
    _, claims, _ = token_parts(tokens["access_token"])
    other = jwt.encode(claims, "another-secret-that-is-also-long-enough-xx", algorithm="HS256")
    assert_unauthorized(client.get(ME_URL, headers=bearer(other)))
    # Control: the same claims signed with the right secret are accepted.
    same = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    assert client.get(ME_URL, headers=bearer(same)).status_code == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_token(client, tokens, alg):
    _, claims, _ = token_parts(tokens["access_token"])
    unsigned = f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}."
    assert_unauthorized(client.get(ME_URL, headers=bearer(unsigned)))


def test_hs512_token_with_the_right_secret(client, tokens):
    _, claims, _ = token_parts(tokens["access_token"])
    with pytest.warns(InsecureKeyLengthWarning):  # our 45-byte secret is short for HS512
        hs512 = jwt.encode(claims, TEST_SECRET, algorithm="HS512")
    assert_unauthorized(client.get(ME_URL, headers=bearer(hs512)))


def test_rs256_header_is_refused(client, tokens):
    """Key confusion: an RS256 header HMAC-signed with the shared secret must not pass."""
    _, claims, _ = token_parts(tokens["access_token"])
    signing_input = f"{b64url_json({'alg': 'RS256', 'typ': 'JWT'})}.{b64url_json(claims)}"
    signature = hmac.new(TEST_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert_unauthorized(client.get(ME_URL, headers=bearer(f"{signing_input}.{b64url(signature)}")))


def test_refresh_token_is_not_an_access_token(client, tokens):
    assert_unauthorized(client.get(ME_URL, headers=bearer(tokens["refresh_token"])))


def test_access_token_is_not_a_refresh_token(client, tokens):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert_unauthorized(response)
    # and the login it belongs to is still open
    assert client.get(ME_URL, headers=bearer(tokens["access_token"])).status_code == 200


@pytest.mark.parametrize("refresh_token", ["garbage", "a.b.c"])
def test_garbage_refresh_token(client, refresh_token):
    assert_unauthorized(client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token}))


def test_token_for_a_missing_login_is_refused(client, app, tokens):
    _, claims, _ = token_parts(tokens["access_token"])
    with app.app_context():
        no_sid = create_access_token(
            identity=claims["sub"], additional_claims={"scope": claims["scope"]}
        )
        bad_sub = create_access_token(
            identity="not-a-uuid",
            additional_claims={"sid": claims["sid"], "scope": claims["scope"]},
        )
    assert_unauthorized(client.get(ME_URL, headers=bearer(no_sid)))
    assert_unauthorized(client.get(ME_URL, headers=bearer(bad_sub)))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(client, tokens, scheme):
    """RFC 7235: the authentication scheme is matched without regard to case."""
    headers = {"Authorization": f"{scheme} {tokens['access_token']}"}
    assert client.get(ME_URL, headers=headers).status_code == 200
    refresh = client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"{scheme} {tokens['refresh_token']}"}
    )
    assert refresh.status_code == 200, refresh.get_json()


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Basic dXNlcjpwYXNz", "A valid access token is required."),
        ("Bearer", "The access token is invalid."),
        ("Bearer two parts", "The access token is invalid."),
        ("Bearer not.a.jwt", "The access token is invalid."),
    ],
)
def test_authorization_header_errors_say_what_is_wrong(client, authorization, detail):
    response = client.get(ME_URL, headers={"Authorization": authorization})
    assert_unauthorized(response)
    assert response.get_json()["detail"] == detail


def test_one_query_checks_the_login(client, tokens, count_queries):
    """The login check is one statement per request, whatever the view does after it."""
    with count_queries() as statements:
        assert client.get(ME_URL, headers=bearer(tokens["access_token"])).status_code == 200
    login_checks = [s for s in statements if "auth_sessions" in s]
    assert len(login_checks) == 1, statements
