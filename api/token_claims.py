"""Access-token claims, verified once per process and token.

A client sends the same access token on every request for its lifetime (15 minutes by
default), and checking its HS256 signature with PyJWT costs more than the rest of the
authentication in Python. The claims of a token whose signature was verified with a given key
are kept here, keyed by that key and the exact token text, so that the next request only
checks the times (``exp``, ``nbf``, ``iat``) again. Nothing else is trusted from the cache: the
login is still looked up in the database on every request, so revocation and deactivation stay
immediate.
Failed decodes are never cached.
"""

import threading
import time
from collections import OrderedDict
from typing import Any

import jwt as pyjwt
from jwt.exceptions import ExpiredSignatureError, ImmatureSignatureError

ALGORITHM = "HS256"
_ALGORITHMS = [ALGORITHM]
# Distinct tokens in use within one lifetime, per process; the oldest are dropped beyond it.
CACHE_SIZE = 4096

_verified: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def _check_times(claims: dict[str, Any]) -> None:
    """What PyJWT checks of the times (no leeway), raising its own errors."""
    now = time.time()
    expires = claims.get("exp")
    if expires is not None and expires <= now:
        raise ExpiredSignatureError("Signature has expired")
    for name in ("nbf", "iat"):
        start = claims.get(name)
        if start is not None and start > now:
            raise ImmatureSignatureError(f"The token is not yet valid ({name})")


def verified_claims(token: str, key: str) -> dict[str, Any]:
    """The claims of ``token`` signed with ``key``; PyJWT's exceptions when it is not valid.

    The returned dict is shared between requests: callers read it, never change it.
    """
    cache_key = (key, token)
    with _lock:
        claims = _verified.get(cache_key)
        if claims is not None:
            _verified.move_to_end(cache_key)
    if claims is None:
        claims = pyjwt.decode(token, key, algorithms=_ALGORITHMS)
        with _lock:
            _verified[cache_key] = claims
            while len(_verified) > CACHE_SIZE:
                _verified.popitem(last=False)
        return claims
    _check_times(claims)
    return claims
