"""Rate limits per caller and per class of request, counted with the ``limits`` library.

Three classes, each with its own budget (``MRM_RATE_LIMIT_READS``, ``..._WRITES``,
``..._AUTH``, in the ``limits`` notation such as ``600/minute``): reads (GET, HEAD), writes
(every other method) and auth (getting or refreshing a token). The caller is the API client
or user of a valid access token, else the client address. Counters live in Redis when
``MRM_REDIS_URL`` is set, so that a budget holds across workers and machines, and in the
process otherwise.

Every response says where the caller stands (``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` in seconds, and ``RateLimit-Policy``, as the IETF draft names them); a
refusal is a 429 problem with ``Retry-After``.

One check per request, done here with ``limits``' fixed windows and storage directly: a
general-purpose extension evaluating every declared limit, exemption and scope for each
request cost a tenth of a GET's CPU time. Should Redis be unreachable, the process counts in
its own memory for ``FALLBACK_SECONDS`` before trying Redis again, rather than refusing or
delaying every request.
"""

import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from jwt.exceptions import PyJWTError
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string

from api.config import Settings
from api.problems import problem_response
from api.token_claims import verified_claims

EXTENSION_KEY = "mrm-limiter"
AUTH_ENDPOINTS = frozenset({"auth.Token", "auth.Refresh"})
READ_METHODS = frozenset({"GET", "HEAD"})
LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


class ProcessStorage(MemoryStorage):
    """limits' in-process storage, without its clean-up thread started on every hit.

    ``MemoryStorage`` starts a 10 ms timer thread whenever the last one has ended, which at
    a few requests a second means a new thread per request (a tenth of a GET's CPU time).
    Counters past their window are already ignored when read; the clean-up that frees their
    memory runs here inline, at most once a minute.
    """

    STORAGE_SCHEME = ["mrm-process"]
    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, **options: object) -> None:
        super().__init__(uri, **options)  # type: ignore[arg-type]
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the thread per hit
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweep_lock.release()


def request_class() -> str | None:
    """Which budget this request draws on; None for CORS preflights, which are not counted."""
    req = request._get_current_object()  # one context lookup, not one per use
    if req.method == "OPTIONS":
        return None
    if req.endpoint in AUTH_ENDPOINTS:
        return "auth"
    return "reads" if req.method in READ_METHODS else "writes"


def caller_key() -> str:
    """Whose budget: the client or user of a verified access token, else the address.

    The signature is checked (a forged token must not spend someone else's budget); the
    claims are kept for the authentication of this request, which then decodes nothing again.
    """
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token and request_class() != "auth":
        try:
            claims = verified_claims(token, current_app.config["JWT_SECRET_KEY"])
        except PyJWTError:
            claims = None
        if isinstance(claims, dict) and claims.get("type", "access") == "access":
            g.verified_access_claims = (token, claims)
            if "cid" in claims:
                return f"client:{claims['cid']}"
            if "sub" in claims:
                return f"user:{claims['sub']}"
    return f"address:{request.remote_addr or 'unknown'}"


FALLBACK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Standing:
    """Where the caller stands against the tightest limit of its budget after this request."""

    limit: RateLimitItem
    remaining: int
    reset_at: float
    refused: bool


class RateLimitExceeded(Exception):
    """The request is over its budget (answered 429 by ``_refuse``)."""

    def __init__(self, standing: Standing) -> None:
        super().__init__(str(standing.limit))
        self.standing = standing


def _counted(storage: Storage, key: str, limit: RateLimitItem) -> tuple[int, float]:
    """The hits of ``key`` in ``limit``'s window, this one included, and when it ends."""
    count = storage.incr(key, limit.get_expiry())
    return count, storage.get_expiry(key)


class RateLimiter:
    """The three budgets, their counters (Redis or this process) and the check of a request."""

    def __init__(self, settings: Settings) -> None:
        self.budgets: dict[str, list[RateLimitItem]] = {
            "reads": parse_many(settings.rate_limit_reads),
            "writes": parse_many(settings.rate_limit_writes),
            "auth": parse_many(settings.rate_limit_auth),
        }
        self._key_prefix = settings.rate_limit_prefix
        self.enabled = True
        self._process = ProcessStorage()
        self._shared: Storage | None = None
        if settings.redis_url:
            self._shared = storage_from_string(settings.redis_url, socket_connect_timeout=2)
        self._shared_down_until = 0.0

    def _storage(self) -> Storage:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._process

    def _count(self, storage: Storage, key: str, limit: RateLimitItem) -> tuple[int, float]:
        count = storage.incr(key, limit.get_expiry())
        return count, storage.get_expiry(key)

    def _stand(self, key: str, limit: RateLimitItem) -> Standing:
        """Count one hit of ``key`` against ``limit`` (in the process while Redis fails)."""
        storage = self._storage()
        try:
            count, reset_at = _counted(storage, key, limit)
        except Exception:  # noqa: BLE001 - any storage failure: count in the process
            if storage is self._process:
                raise
            self._shared_down_until = time.monotonic() + FALLBACK_SECONDS
            count, reset_at = _counted(self._process, key, limit)
        return Standing(limit, limit.amount - count, reset_at, count > limit.amount)

    def hit(self, budget: str, caller: str) -> Standing:
        """Count this request against every limit of ``budget`` for ``caller``; the tightest
        standing (refused first, then the fewest remaining) is the one reported."""
        standings = [
            self._stand(limit.key_for(self._key_prefix, caller, budget), limit)
            for limit in self.budgets[budget]
        ]
        return min(standings, key=lambda standing: (not standing.refused, standing.remaining))

    def check_request(self) -> None:
        """Before every request: count it, keep the standing for the headers, refuse if over."""
        g.rate_limit_standing = None
        budget = request_class()
        if budget is None or not self.enabled or request.endpoint is None:
            return
        standing = self.hit(budget, caller_key())
        g.rate_limit_standing = standing
        if standing.refused:
            raise RateLimitExceeded(standing)


def _limit_headers(standing: Standing) -> dict[str, str]:
    window = standing.limit.get_expiry()
    reset = min(window, max(0, math.ceil(standing.reset_at - time.time())))
    return {
        "RateLimit-Limit": str(standing.limit.amount),
        "RateLimit-Remaining": str(max(0, standing.remaining)),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{standing.limit.amount};w={window}",
    }


def _add_headers(response: Response) -> Response:
    standing = g.get("rate_limit_standing")
    if standing is not None:
        response.headers.update(_limit_headers(standing))
    return response


def _refuse(error: RateLimitExceeded) -> Response:
    headers = _limit_headers(error.standing)
    retry_after = max(1, int(headers["RateLimit-Reset"]))
    return problem_response(
        429,
        detail=f"Too many requests ({error.standing.limit}); retry in {retry_after} s.",
        slug="too-many-requests",
        headers={**headers, "Retry-After": str(retry_after)},
    )


def init_rate_limits(app: Flask, settings: Settings) -> RateLimiter:
    """One limiter per app (tests run several apps in one process)."""
    limiter = RateLimiter(settings)
    app.before_request(limiter.check_request)
    app.extensions[EXTENSION_KEY] = limiter
    app.after_request(_add_headers)
    app.register_error_handler(RateLimitExceeded, _refuse)
    return limiter
