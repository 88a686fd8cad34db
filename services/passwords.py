"""Password hashing with argon2id; the cost is configurable so tests stay fast.

A password check costs much CPU time (argon2 runs several threads per check) and memory, on
purpose. Each worker process runs only a few at once (``password_check_slot``): a flood of
logins gets 503 answers at once instead of taking every core from the rest of the API. The
checks that do run use threads of lower CPU priority (Linux ``nice``), so that on a busy machine
the other requests go first.
"""

import contextlib
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.errors import ServiceBusy

BUSY_DETAIL = "Too many logins are being checked right now; try again in a moment."
# Added to the checking threads' nice value; argon2's own threads inherit it.
CHECK_NICENESS = 10


@dataclass
class _HashingState:
    hasher: PasswordHasher
    dummy_hash: str | None = None
    # None: unbounded, checks run in the request's thread. Per process, shared by its threads.
    slots: threading.BoundedSemaphore | None = None
    checkers: ThreadPoolExecutor | None = None


_state = _HashingState(hasher=PasswordHasher())


def configure_password_hashing(*, time_cost: int, memory_kib: int, concurrency: int = 0) -> None:
    """Set the argon2 cost and how many checks may run at once in this process (0: no bound).

    Called once at start-up (tests lower the cost).
    """
    _state.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _state.dummy_hash = None
    if _state.checkers is not None:
        _state.checkers.shutdown(wait=False)
    if concurrency > 0:
        _state.slots = threading.BoundedSemaphore(concurrency)
        # Threads start on first use, after gunicorn's fork.
        _state.checkers = ThreadPoolExecutor(
            max_workers=concurrency,
            thread_name_prefix="password-check",
            initializer=_lower_thread_priority,
        )
    else:
        _state.slots = _state.checkers = None


def _lower_thread_priority() -> None:
    """On Linux the nice value is per thread, and threads started from this one inherit it."""
    if sys.platform != "linux":
        return  # elsewhere it would slow the whole process
    with contextlib.suppress(OSError):  # not permitted: normal priority, still bounded
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECK_NICENESS)


PasswordCheck = Callable[[Callable[[], bool]], bool]


def _run_inline(check: Callable[[], bool]) -> bool:
    return check()


@contextmanager
def password_check_slot() -> Iterator[PasswordCheck]:
    """Hold one of this process's password-check slots, or raise ``ServiceBusy`` at once.

    Yields a function that runs a check in a low-priority thread of the slot. Refusing rather
    than queueing keeps the worker's threads free for other requests.
    """
    slots, checkers = _state.slots, _state.checkers
    if slots is None or checkers is None:
        yield _run_inline
        return
    if not slots.acquire(blocking=False):
        raise ServiceBusy(BUSY_DETAIL, retry_after=1)
    try:
        yield lambda check: checkers.submit(check).result()
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


def burn_verification_time(password: str) -> bool:
    """Spend what a real check costs, so an unknown e-mail answers as slowly as a known one.

    Always False: no password matches.
    """
    if _state.dummy_hash is None:
        _state.dummy_hash = _state.hasher.hash(secrets.token_urlsafe(16))
    verify_password(_state.dummy_hash, password)
    return False
