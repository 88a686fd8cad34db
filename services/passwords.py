"""Password hashing with argon2id; the cost is configurable so tests stay fast."""

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass
class _HashingState:
    hasher: PasswordHasher
    dummy_hash: str | None = None


_state = _HashingState(hasher=PasswordHasher())


def configure_password_hashing(*, time_cost: int, memory_kib: int) -> None:
    """Set the argon2 cost once at start-up (lower it only for tests)."""
    _state.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _state.dummy_hash = None


def hash_password(password: str) -> str:
    return _state.hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed stored hash counts as a mismatch."""
    try:
        return _state.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_verification_time(password: str) -> None:
    """Spend what a real check costs, so an unknown e-mail answers as slowly as a known one."""
    if _state.dummy_hash is None:
        _state.dummy_hash = _state.hasher.hash(secrets.token_urlsafe(16))
    verify_password(_state.dummy_hash, password)
