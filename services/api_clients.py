"""API clients: partner servers that log in with a client id and secret (OAuth 2 client
credentials) and may do what their scopes say, nothing more.

The secret is 256 random bits shown once; only its SHA-256 digest is stored. A slow password
hash (argon2) protects guessable human passwords; a random 256-bit secret cannot be guessed,
so a fast digest is as safe and keeps every token request cheap.
"""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from models import ApiClient
from models.types import utcnow
from services.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from services.journal import JournalSpec, register
from services.pagination import attribute_key, datetime_key
from services.roles import ALL_SCOPES
from services.transactions import check_version, commit

SECRET_PREFIX = "mrm_"
# Scopes a client may hold. Managing users and clients stays with people (a client holding
# it could mint itself more power), and interactions are visible by their staff owners and
# participants, which a client is not.
CLIENT_SCOPES = ALL_SCOPES - {"users:admin", "interactions:read", "interactions:write"}
MAX_OVERLAP = timedelta(days=7)
BAD_CLIENT = "Unknown client, wrong secret, or the client is inactive or expired."

register(
    ApiClient,
    JournalSpec(
        "api_client",
        "users:admin",
        exclude=frozenset({"last_used_at"}),
        secret={"secret_hash": "secret", "previous_secret_hash": "previous_secret"},
    ),
)

API_CLIENT_SORT_KEYS = {
    "name": attribute_key(ApiClient.name),
    "created_at": datetime_key(ApiClient.created_at),
    "updated_at": datetime_key(ApiClient.updated_at),
}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedSecret:
    """A client and its new secret, which is never readable again."""

    client: ApiClient
    secret: str


def scope_list(client: ApiClient) -> list[str]:
    return client.scopes.split()


def _checked_scopes(scopes: Collection[str]) -> str:
    refused = sorted(set(scopes) - CLIENT_SCOPES)
    if refused:
        raise InvalidInput({"scopes": [f"Not grantable to an API client: {', '.join(refused)}."]})
    return " ".join(sorted(set(scopes)))


def _checked_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput({"expires_at": ["Must be in the future."]})
    return expires_at


def list_api_clients(
    *, is_active: bool | None = None, q: str | None = None, updated_since: datetime | None = None
) -> Select[tuple[ApiClient]]:
    """Clients matching every filter given; the API layer orders and pages the result."""
    stmt = select(ApiClient)
    if is_active is not None:
        stmt = stmt.where(ApiClient.is_active.is_(is_active))
    if updated_since is not None:
        stmt = stmt.where(ApiClient.updated_at >= updated_since)
    if q:
        term = q.strip().lower()
        stmt = stmt.where(
            or_(
                func.lower(ApiClient.name).contains(term, autoescape=True),
                func.lower(ApiClient.description).contains(term, autoescape=True),
            )
        )
    return stmt


def get_api_client(session: Session, client_id: uuid.UUID) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound("API client", client_id)
    return client


def create_api_client(
    session: Session,
    *,
    actor_user_id: uuid.UUID | None,
    name: str,
    scopes: Collection[str],
    description: str = "",
    expires_at: datetime | None = None,
) -> IssuedSecret:
    """Register a client with the scopes an admin chose; its secret is returned once."""
    secret = new_secret()
    client = ApiClient(
        name=name,
        description=description,
        scopes=_checked_scopes(scopes),
        expires_at=_checked_expiry(expires_at),
        secret_hash=hash_secret(secret),
        created_by_user_id=actor_user_id,
    )
    session.add(client)
    commit(session)
    return IssuedSecret(client, secret)


def update_api_client(
    session: Session,
    *,
    client_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> ApiClient:
    """Change a client's name, description, scopes, expiry or active flag.

    Fewer scopes, deactivation or an expiry in the past take effect on its tokens at once
    (each request checks the client).
    """
    client = get_api_client(session, client_id)
    check_version(client.version, if_match)
    if "scopes" in changes:
        client.scopes = _checked_scopes(changes["scopes"])
    if "expires_at" in changes:
        client.expires_at = _checked_expiry(changes["expires_at"])
    for name in ("name", "description", "is_active"):
        if name in changes:
            setattr(client, name, changes[name])
    commit(session)
    return client


def rotate_api_client_secret(
    session: Session,
    *,
    client_id: uuid.UUID,
    overlap: timedelta,
    if_match: Collection[int] | None,
) -> IssuedSecret:
    """Give a client a new secret; the current one keeps working for ``overlap`` (0 revokes it
    at once), so that the partner can deploy the new one without an outage. A secret older
    than the current one stops working now."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InvalidInput({"overlap_seconds": [f"At most {int(MAX_OVERLAP.total_seconds())}."]})
    client = get_api_client(session, client_id)
    check_version(client.version, if_match)
    if not client.is_active:
        raise Conflict("The client is deactivated; reactivate it first.", field="is_active")
    now = utcnow()
    secret = new_secret()
    client.previous_secret_hash = client.secret_hash if overlap else None
    client.previous_secret_expires_at = now + overlap if overlap else None
    client.secret_hash = hash_secret(secret)
    client.secret_rotated_at = now
    commit(session)
    return IssuedSecret(client, secret)


def delete_api_client(
    session: Session, *, client_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Remove a client for good; its tokens stop at once. Its journal entries stay."""
    client = get_api_client(session, client_id)
    check_version(client.version, if_match)
    session.delete(client)
    commit(session)


def _secret_matches(client: ApiClient, digest: str, now: datetime) -> bool:
    if hmac.compare_digest(client.secret_hash, digest):
        return True
    previous = client.previous_secret_hash
    expires = client.previous_secret_expires_at
    return (
        previous is not None
        and expires is not None
        and expires > now
        and hmac.compare_digest(previous, digest)
    )


def authenticate_api_client(
    session: Session,
    *,
    client_id: str,
    secret: str,
    requested_scopes: Collection[str] | None,
) -> tuple[ApiClient, frozenset[str]]:
    """Check a client's credentials and the scopes it asks for; note when it was last used.

    Every refusal of the credentials says the same thing, whichever part was wrong.
    """
    try:
        identifier = uuid.UUID(client_id)
    except ValueError as exc:
        raise AuthenticationFailed(BAD_CLIENT) from exc
    now = utcnow()
    client = session.get(ApiClient, identifier)
    if (
        client is None
        or not client.is_active
        or (client.expires_at is not None and client.expires_at <= now)
        or not _secret_matches(client, hash_secret(secret), now)
    ):
        raise AuthenticationFailed(BAD_CLIENT)
    granted = frozenset(client.scopes.split()) & CLIENT_SCOPES
    if requested_scopes is not None:
        unknown = set(requested_scopes) - granted
        if unknown:
            raise InvalidInput(
                {"scope": [f"Not granted to this client: {', '.join(sorted(unknown))}."]}
            )
        granted = frozenset(requested_scopes)
    # Bookkeeping, not a change of the client: no new version, no journal entry.
    table = ApiClient.__table__
    session.execute(
        update(table)
        .where(table.c.id == client.id)
        .values(last_used_at=now, updated_at=table.c.updated_at)
    )
    session.commit()
    return client, granted
