"""Rate limits per caller and per class of request, with flask-limiter.

Three classes, each with its own budget (``MRM_RATE_LIMIT_READS``, ``..._WRITES``,
``..._AUTH``, in flask-limiter's notation such as ``600/minute``): reads (GET, HEAD), writes
(every other method) and auth (getting or refreshing a token). The caller is the API client
or user of a valid access token, else the client address. Counters live in Redis when
``MRM_REDIS_URL`` is set, so that a budget holds across workers and machines, and in the
process otherwise.

Every response says where the caller stands (``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` in seconds, and ``RateLimit-Policy``, as the IETF draft names them); a
refusal is a 429 problem with ``Retry-After``.
"""

import math
import threading
import time

from flask import Flask, Response, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded, RequestLimit
from jwt.exceptions import PyJWTError
from limits.storage import MemoryStorage

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
    if request.method == "OPTIONS":
        return None
    if request.endpoint in AUTH_ENDPOINTS:
        return "auth"
    return "reads" if request.method in READ_METHODS else "writes"


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


def _budget(name: str, limit: str) -> ApplicationLimit:
    return ApplicationLimit(
        limit, scope=name, exempt_when=lambda: request_class() != name, key_function=caller_key
    )


def _limit_headers(limit: RequestLimit) -> dict[str, str]:
    window = limit.limit.get_expiry()
    reset = min(window, max(0, math.ceil(limit.reset_at - time.time())))
    return {
        "RateLimit-Limit": str(limit.limit.amount),
        "RateLimit-Remaining": str(max(0, limit.remaining)),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{limit.limit.amount};w={window}",
    }


def _add_headers(response: Response) -> Response:
    limiter: Limiter = current_app.extensions[EXTENSION_KEY]
    limit = limiter.current_limit
    if limit is not None:
        response.headers.update(_limit_headers(limit))
    return response


def _refuse(error: RateLimitExceeded) -> Response:
    limiter: Limiter = current_app.extensions[EXTENSION_KEY]
    limit = limiter.current_limit
    headers = _limit_headers(limit) if limit is not None else {}
    retry_after = max(1, int(headers.get("RateLimit-Reset", "1")))
    return problem_response(
        429,
        detail=f"Too many requests ({error.description}); retry in {retry_after} s.",
        slug="too-many-requests",
        headers={**headers, "Retry-After": str(retry_after)},
    )


def init_rate_limits(app: Flask, settings: Settings) -> Limiter:
    """One limiter per app (tests run several apps in one process)."""
    storage = settings.redis_url or "mrm-process://"
    limiter = Limiter(
        key_func=caller_key,
        application_limits=[
            _budget("reads", settings.rate_limit_reads),
            _budget("writes", settings.rate_limit_writes),
            _budget("auth", settings.rate_limit_auth),
        ],
        storage_uri=storage,
        storage_options={"socket_connect_timeout": 2} if settings.redis_url else {},
        strategy="fixed-window",
        key_prefix=settings.rate_limit_prefix,
        headers_enabled=False,
        # Redis unreachable: count in the process rather than refuse every request.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    app.after_request(_add_headers)
    app.register_error_handler(RateLimitExceeded, _refuse)
    return limiter
