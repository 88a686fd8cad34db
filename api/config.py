"""Settings read once from the environment by ``create_app()``."""

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import current_app
from limits import parse_many

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEVELOPMENT_ENVS = {"development", "test"}
TEST_BUDGET = "1000000/minute"


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable; raised at start-up, never during a request."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc


def _default_database_url(instance_dir: Path) -> str:
    return f"sqlite:///{instance_dir / 'mrm.sqlite3'}"


def _development_secret(instance_dir: Path) -> str:
    """A random secret kept under instance/ so that tokens survive restarts in development."""
    path = instance_dir / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def normalize_database_url(url: str) -> str:
    """Route plain ``postgresql://`` URLs to psycopg 3, the only PostgreSQL driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a newcomer needs on a laptop."""

    env: str = "development"
    database_url: str = ""
    jwt_secret_key: str = ""
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_content_length: int = 1024 * 1024
    # Files sent to /imports: the largest accepted, and the largest imported in the request
    # itself (bigger ones run as a job).
    import_max_bytes: int = 50 * 1024 * 1024
    import_sync_max_bytes: int = 256 * 1024
    # A running import with no heartbeat for this long, and whose worker is gone, is handed
    # to another worker by the sweep (see services/imports/run_locks.py).
    import_stale_seconds: int = 600
    db_pool_size: int = 5
    db_max_overflow: int = 5
    db_ping_after_idle_seconds: int = 10
    # PostgreSQL only: remember login checks per process, forgotten on notification
    # (services/login_cache.py).
    login_cache: bool = True
    sqlite_busy_timeout_ms: int = 15000
    login_max_failures: int = 5
    login_ip_max_failures: int = 50
    login_lock_minutes: int = 15
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    password_hash_concurrency: int = 1
    refresh_reuse_seconds: int = 10
    proxy_count: int = 0
    instance_dir: Path = field(default=INSTANCE_DIR)
    redis_url: str = ""
    idempotency_wait_seconds: float = 10.0
    # Budgets per caller (notation of the limits library); see api/rate_limits.py and the README.
    rate_limit_reads: str = "1200/minute"
    rate_limit_writes: str = "300/minute"
    rate_limit_auth: str = "30/minute"
    rate_limit_prefix: str = "mrm-rate"
    jobs_immediate: bool = False
    webhooks_allow_private: bool = False
    webhook_retry_seconds: float = 30.0
    webhook_timeout_seconds: float = 5.0
    # The cluster as it appears on its invoices, and the VAT rate (percent) they apply.
    seller_name: str = "mrm"
    seller_siren: str = ""
    seller_vat_number: str = ""
    seller_address: str = ""
    vat_rate: str = "20"

    def __post_init__(self) -> None:
        """Checked here, so that settings built in code (not only from the environment) are too."""
        if not self.jwt_secret_key:
            raise ConfigurationError("JWT_SECRET_KEY is missing (required outside development)")
        if len(self.jwt_secret_key.encode()) < 32:
            raise ConfigurationError("JWT_SECRET_KEY must be at least 32 bytes")
        try:
            rate = Decimal(self.vat_rate)
        except InvalidOperation as exc:
            raise ConfigurationError(
                f"MRM_VAT_RATE must be a number, got {self.vat_rate!r}"
            ) from exc
        if not rate.is_finite() or not 0 <= rate <= 100:
            raise ConfigurationError("MRM_VAT_RATE must be a percentage between 0 and 100")
        for name in ("reads", "writes", "auth"):
            value = getattr(self, f"rate_limit_{name}")
            try:
                parse_many(value)
            except ValueError as exc:
                raise ConfigurationError(
                    f"MRM_RATE_LIMIT_{name.upper()} must read like 600/minute, got {value!r}"
                ) from exc

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> "Settings":
        """Read ``MRM_*``, ``DATABASE_URL``, ``JWT_SECRET_KEY`` and ``CORS_ORIGINS``."""
        env = dict(os.environ if environ is None else environ)
        instance_dir = Path(
            str(overrides.get("instance_dir") or env.get("MRM_INSTANCE_DIR") or INSTANCE_DIR)
        )
        mode = str(overrides.get("env") or env.get("MRM_ENV", "development"))
        secret = env.get("JWT_SECRET_KEY", "")
        if not secret and "jwt_secret_key" not in overrides:
            if mode not in DEVELOPMENT_ENVS:
                raise ConfigurationError(
                    "JWT_SECRET_KEY is required when MRM_ENV is not development"
                )
            secret = _development_secret(instance_dir)
        origins = tuple(o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip())
        values: dict[str, object] = {
            "env": mode,
            "database_url": normalize_database_url(
                env.get("DATABASE_URL") or _default_database_url(instance_dir)
            ),
            "jwt_secret_key": secret,
            "access_token_minutes": _int(env, "MRM_ACCESS_TOKEN_MINUTES", 15),
            "refresh_token_days": _int(env, "MRM_REFRESH_TOKEN_DAYS", 14),
            "cors_origins": origins,
            "log_level": env.get("MRM_LOG_LEVEL", "INFO").upper(),
            "max_content_length": _int(env, "MRM_MAX_CONTENT_LENGTH", 1024 * 1024),
            "import_max_bytes": _int(env, "MRM_IMPORT_MAX_BYTES", 50 * 1024 * 1024),
            "import_sync_max_bytes": _int(env, "MRM_IMPORT_SYNC_MAX_BYTES", 256 * 1024),
            "import_stale_seconds": _int(env, "MRM_IMPORT_STALE_SECONDS", 600),
            "db_pool_size": _int(env, "MRM_DB_POOL_SIZE", 5),
            "db_ping_after_idle_seconds": _int(env, "MRM_DB_PING_AFTER_IDLE", 10),
            "db_max_overflow": _int(env, "MRM_DB_MAX_OVERFLOW", 5),
            "login_cache": env.get("MRM_LOGIN_CACHE", "1") != "0",
            "sqlite_busy_timeout_ms": _int(env, "MRM_SQLITE_BUSY_TIMEOUT_MS", 15000),
            "login_max_failures": _int(env, "MRM_LOGIN_MAX_FAILURES", 5),
            "login_ip_max_failures": _int(env, "MRM_LOGIN_IP_MAX_FAILURES", 50),
            "login_lock_minutes": _int(env, "MRM_LOGIN_LOCK_MINUTES", 15),
            "argon2_time_cost": _int(env, "MRM_ARGON2_TIME_COST", 3),
            "argon2_memory_kib": _int(env, "MRM_ARGON2_MEMORY_KIB", 65536),
            "password_hash_concurrency": _int(env, "MRM_PASSWORD_HASH_CONCURRENCY", 1),
            "refresh_reuse_seconds": _int(env, "MRM_REFRESH_REUSE_SECONDS", 10),
            "proxy_count": _int(env, "MRM_PROXY_COUNT", 0),
            "instance_dir": instance_dir,
            "redis_url": env.get("MRM_REDIS_URL", ""),
            "idempotency_wait_seconds": float(_int(env, "MRM_IDEMPOTENCY_WAIT_SECONDS", 10)),
            # The test suite makes thousands of requests from one address: its budgets never
            # run out unless a test sets them.
            "rate_limit_reads": env.get(
                "MRM_RATE_LIMIT_READS", TEST_BUDGET if mode == "test" else "1200/minute"
            ),
            "rate_limit_writes": env.get(
                "MRM_RATE_LIMIT_WRITES", TEST_BUDGET if mode == "test" else "300/minute"
            ),
            "rate_limit_auth": env.get(
                "MRM_RATE_LIMIT_AUTH", TEST_BUDGET if mode == "test" else "30/minute"
            ),
            "rate_limit_prefix": env.get("MRM_RATE_LIMIT_PREFIX", "mrm-rate"),
            # Unit tests run jobs inline, in the request that queues them.
            "jobs_immediate": env.get("MRM_JOBS_IMMEDIATE", "1" if mode == "test" else "0") == "1",
            "webhooks_allow_private": env.get("MRM_WEBHOOKS_ALLOW_PRIVATE", "0") == "1",
            "webhook_retry_seconds": float(_int(env, "MRM_WEBHOOK_RETRY_SECONDS", 30)),
            "webhook_timeout_seconds": float(_int(env, "MRM_WEBHOOK_TIMEOUT_SECONDS", 5)),
            "seller_name": env.get("MRM_SELLER_NAME", "mrm"),
            "seller_siren": env.get("MRM_SELLER_SIREN", ""),
            "seller_vat_number": env.get("MRM_SELLER_VAT_NUMBER", ""),
            "seller_address": env.get("MRM_SELLER_ADDRESS", ""),
            "vat_rate": env.get("MRM_VAT_RATE", "20"),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def seller(self) -> dict[str, str]:
        """The seller block of an invoice."""
        return {
            "name": self.seller_name,
            "siren": self.seller_siren,
            "vat_number": self.seller_vat_number,
            "address": self.seller_address,
        }

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @property
    def refresh_reuse_window(self) -> timedelta:
        return timedelta(seconds=self.refresh_reuse_seconds)

    @property
    def login_lock_lifetime(self) -> timedelta:
        return timedelta(minutes=self.login_lock_minutes)


SETTINGS_KEY = "mrm-settings"


def current_settings() -> Settings:
    """The settings of the app serving this request."""
    return current_app.extensions[SETTINGS_KEY]
