"""The per-process cache of verified token claims trusts nothing but a verified signature, and
keeps checking the token's times on every use."""

import time

import jwt
import pytest
from jwt.exceptions import ExpiredSignatureError, ImmatureSignatureError, InvalidSignatureError

from api import token_claims
from api.token_claims import verified_claims

KEY = "k" * 48
OTHER_KEY = "o" * 48


def _token(key: str = KEY, **claims: object) -> str:
    now = int(time.time())
    body = {"sub": "someone", "iat": now, "nbf": now, "exp": now + 60, **claims}
    return jwt.encode(body, key, algorithm="HS256")


def test_a_cached_token_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token()
    assert verified_claims(token, KEY)["sub"] == "someone"
    later = time.time() + 61
    monkeypatch.setattr(token_claims.time, "time", lambda: later)
    with pytest.raises(ExpiredSignatureError):
        verified_claims(token, KEY)


def test_a_cached_token_is_not_valid_before_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token()
    verified_claims(token, KEY)
    earlier = time.time() - 3600
    monkeypatch.setattr(token_claims.time, "time", lambda: earlier)
    with pytest.raises(ImmatureSignatureError):
        verified_claims(token, KEY)


def test_a_token_verified_with_one_key_is_refused_with_another() -> None:
    token = _token()
    verified_claims(token, KEY)
    with pytest.raises(InvalidSignatureError):
        verified_claims(token, OTHER_KEY)


def test_a_refused_token_is_not_cached() -> None:
    forged = _token(OTHER_KEY)
    for _ in range(2):
        with pytest.raises(InvalidSignatureError):
            verified_claims(forged, KEY)
    assert (KEY, forged) not in token_claims._verified


def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_claims, "CACHE_SIZE", 3)
    tokens = [_token(jti=str(index)) for index in range(5)]
    for token in tokens:
        verified_claims(token, KEY)
    assert len(token_claims._verified) <= 3
    assert (KEY, tokens[-1]) in token_claims._verified
