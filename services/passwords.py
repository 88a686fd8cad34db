"""Password hashing with argon2id; the cost is configurable so tests stay fast.

A password check costs tens of milliseconds of CPU and argon2's memory on purpose. Each worker
process allows only a few at once (``password_check_slot``): a flood of logins then gets 503
answers at once instead of taking every core from the rest of the API.
"""

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.errors import ServiceBusy

BUSY_DETAIL = "Too many logins are being checked right now; try again in a moment."


@dataclass
class _HashingState:
    hasher: PasswordHasher
    dummy_hash: str | None = None
    # None: unbounded. Per process, shared by its threads.
    slots: threading.BoundedSemaphore | None = None


_state = _HashingState(hasher=PasswordHasher())


def configure_password_hashing(*, time_cost: int, memory_kib: int, concurrency: int = 0) -> None:
    """Set the argon2 cost and how many checks may run at once in this process (0: no bound).

    Called once at start-up (tests lower the cost).
    """
    _state.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _state.dummy_hash = None
    _state.slots = threading.BoundedSemaphore(concurrency) if concurrency > 0 else None


@contextmanager
def password_check_slot() -> Iterator[None]:
    """Hold one of this process's password-check slots, or raise ``ServiceBusy`` at once.

    Refusing rather than queueing keeps the worker's threads free for other requests.
    """
    slots = _state.slots
    if slots is None:
        yield
        return
    if not slots.acquire(blocking=False):
        raise ServiceBusy(BUSY_DETAIL, retry_after=1)
    try:
        yield
    finally:
        slots.release()


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
