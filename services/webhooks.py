"""Webhooks: subscriptions, the delivery outbox, and sending with retries.

A delivery row is added in the transaction that journals the change (so a change is never
reported without having happened, nor lost once committed); after the commit its id is handed
to the job queue. A periodic sweep hands over again whatever is due, which covers a process
that died between the commit and the hand-over and a retry the queue lost. Sending is
idempotent: a worker first claims the delivery (a conditional UPDATE that only one worker can
win), then sends, then records the attempt.
"""

import base64
import ipaddress
import json
import random
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, event, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from models import JournalEntry, WebhookAttempt, WebhookDelivery, WebhookSubscription
from models.types import utcnow
from services import journal
from services.errors import Conflict, InvalidInput, NotFound
from services.pagination import Page, datetime_key, keyset_page
from services.transactions import check_version, commit

GIVE_UP_AFTER = timedelta(days=3)
MAX_BACKOFF_SECONDS = 6 * 3600
CLAIM_SECONDS = 60  # a claimed delivery whose worker died is due again after this
TIMEOUT_SECONDS = 5
RESPONSE_BODY_LIMIT = 1024
_NEW_DELIVERIES = "mrm.webhooks.new"
_RECORD_PATHS = {
    "member": "/api/v1/members/{id}",
    "contact": "/api/v1/contacts/{id}",
    "domain": "/api/v1/domains/{id}",
    "user": "/api/v1/users/{id}",
}

SUBSCRIPTION_SORT_KEYS = {"created_at": datetime_key(WebhookSubscription.created_at)}
_DELIVERY_SORT_KEYS = {"created_at": datetime_key(WebhookDelivery.created_at)}


@dataclass(frozen=True)
class WebhookSettings:
    """What the sender needs to know, from the app's settings."""

    allow_private_targets: bool = False
    retry_base_seconds: float = 30.0
    timeout_seconds: float = TIMEOUT_SECONDS


# Set by the job system: hands delivery ids to the queue after the commit.
_enqueuer: list[Callable[[Collection[uuid.UUID]], None]] = []


def set_enqueuer(enqueue: Callable[[Collection[uuid.UUID]], None]) -> None:
    _enqueuer[:] = [enqueue]


# -- Targets -----------------------------------------------------------------------------------


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_target(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not receive webhooks, or None.

    Every address the host resolves to must be public, unless private targets are allowed
    (tests, local development): a subscription must not make the server call into its own
    network (SSRF). Checked at creation and again before every request.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http or https URL with a host."
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except (OSError, ValueError, UnicodeError):
        return "The host does not resolve."
    if not allow_private and any(_refused_address(address) for address in addresses):
        return "The host resolves to a loopback, private, link-local or multicast address."
    return None


# -- Subscriptions -----------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def list_subscriptions(
    *, updated_since: datetime | None = None
) -> Select[tuple[WebhookSubscription]]:
    stmt = select(WebhookSubscription)
    if updated_since is not None:
        stmt = stmt.where(WebhookSubscription.updated_at >= updated_since)
    return stmt


def get_subscription(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    return subscription


def create_subscription(
    session: Session,
    *,
    settings: WebhookSettings,
    url: str,
    event_types: list[str],
    description: str = "",
    is_active: bool = True,
) -> WebhookSubscription:
    """Subscribe ``url`` to ``event_types``; the signing secret is returned this once."""
    refused = check_target(url, allow_private=settings.allow_private_targets)
    if refused:
        raise InvalidInput({"url": [refused]})
    subscription = WebhookSubscription(
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        is_active=is_active,
        secret=new_secret(),
    )
    session.add(subscription)
    commit(session)
    return subscription


def update_subscription(
    session: Session,
    *,
    settings: WebhookSettings,
    subscription_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> WebhookSubscription:
    """Change a subscription; turning it back on clears why it was turned off."""
    subscription = get_subscription(session, subscription_id)
    check_version(subscription.version, if_match)
    if "url" in changes:
        refused = check_target(changes["url"], allow_private=settings.allow_private_targets)
        if refused:
            raise InvalidInput({"url": [refused]})
        subscription.url = changes["url"]
    if "event_types" in changes:
        subscription.event_types = sorted(set(changes["event_types"]))
    if "description" in changes:
        subscription.description = changes["description"]
    if changes.get("is_active") is True and not subscription.is_active:
        subscription.disabled_reason = None
        subscription.disabled_at = None
    if "is_active" in changes:
        subscription.is_active = changes["is_active"]
    commit(session)
    return subscription


def delete_subscription(
    session: Session, *, subscription_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    subscription = get_subscription(session, subscription_id)
    check_version(subscription.version, if_match)
    session.delete(subscription)
    commit(session)


def delivery_log(
    session: Session,
    *,
    subscription_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
) -> Page:
    """A subscription's deliveries, newest first, each with its attempts (oldest first)."""
    get_subscription(session, subscription_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    page = keyset_page(
        session,
        stmt,
        id_column=WebhookDelivery.id,
        sortable=_DELIVERY_SORT_KEYS,
        sort="-created_at",
        cursor=cursor,
        limit=limit,
    )
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = {d.id: [] for d in page.items}
    if attempts:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        )
        for attempt in session.scalars(stmt):
            attempts[attempt.delivery_id].append(attempt)
    for delivery in page.items:
        delivery.attempt_log = attempts[delivery.id]
    return page


def redeliver(
    session: Session, *, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send a delivery again (same ``webhook-id``), whatever its state; 409 if inactive."""
    subscription = get_subscription(session, subscription_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound("webhook delivery", delivery_id)
    if not subscription.is_active:
        raise Conflict("The subscription is not active; turn it on first.", field="is_active")
    delivery.status = "pending"
    delivery.next_attempt_at = utcnow()
    session.info.setdefault(_NEW_DELIVERIES, []).append(delivery.id)
    commit(session)
    return delivery


# -- The outbox --------------------------------------------------------------------------------


def _wants(subscription: WebhookSubscription, event_type: str) -> bool:
    types = subscription.event_types
    resource = event_type.split(".", 1)[0]
    return "*" in types or event_type in types or f"{resource}.*" in types


def payload_of(entry: JournalEntry) -> dict[str, Any]:
    """A thin payload: what happened to which record, which fields changed, where to read it."""
    path = _RECORD_PATHS.get(entry.resource_type)
    return {
        "type": entry.event_type,
        "timestamp": entry.occurred_at.isoformat(),
        "data": {
            "id": str(entry.resource_id),
            "resource_type": entry.resource_type,
            "seq": entry.seq,
            "changed_fields": sorted(entry.changes or {}),
            "href": path.format(id=entry.resource_id) if path else None,
        },
    }


def _shown_to_receivers(session: Session, entries: list[JournalEntry]) -> list[JournalEntry]:
    """The entries a receiver may hear of: not those of records the API hides from readers
    outside their team (confidential projects and their partners and submissions,
    confidential interactions), as ``/changes`` leaves them out for an API client. A
    receiver is an outside system: even the names of the fields that changed, or the record's
    id, would tell it what it may not read."""
    guarded = journal.guarded_types()
    if not any(entry.resource_type in guarded for entry in entries):
        return entries
    seqs = [entry.seq for entry in entries]
    shown = set(
        session.scalars(
            select(JournalEntry.seq).where(JournalEntry.seq.in_(seqs), journal.shown_to_outsiders())
        )
    )
    return [entry for entry in entries if entry.seq in shown]


def _add_deliveries(session: Session, entries: list[JournalEntry]) -> None:
    """In the change's transaction: one delivery per entry and interested subscription."""
    subscriptions = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.is_active.is_(True))
    ).all()
    if not subscriptions:
        return
    entries = _shown_to_receivers(session, entries)
    added = session.info.setdefault(_NEW_DELIVERIES, [])
    for entry in entries:
        for subscription in subscriptions:
            if _wants(subscription, entry.event_type):
                delivery = WebhookDelivery(
                    id=uuid.uuid4(),
                    subscription_id=subscription.id,
                    journal_seq=entry.seq,
                    event_type=entry.event_type,
                    payload=payload_of(entry),
                    status="pending",
                    attempts=0,
                    next_attempt_at=utcnow(),
                )
                session.add(delivery)
                added.append(delivery.id)


# The same rows as ``_add_deliveries`` and ``payload_of``, written on PostgreSQL in the
# journal's own statement (``entries`` is the journal rows it inserts): no round trip of
# their own, and none at all to find the subscriptions. Keys are sorted by code point, as
# Python sorts them. ``{shown}`` keeps the entries receivers may hear of.
_POSTGRESQL_DELIVERIES = """
    INSERT INTO webhook_deliveries (id, subscription_id, journal_seq, event_type, payload,
        status, attempts, created_at, next_attempt_at)
    SELECT gen_random_uuid(), s.id, e.seq, e.event_type,
        json_build_object(
            'type', e.event_type,
            'timestamp', %(webhook_timestamp)s::text,
            'data', json_build_object(
                'id', e.resource_id,
                'resource_type', e.resource_type,
                'seq', e.seq,
                'changed_fields', (
                    SELECT coalesce(json_agg(k ORDER BY k COLLATE "C"), '[]'::json)
                    FROM json_object_keys(
                        CASE WHEN json_typeof(e.changes) = 'object' THEN e.changes END
                    ) AS k
                ),
                'href', replace(%(webhook_paths)s::json ->> e.resource_type, '{id}',
                    e.resource_id::text)
            )
        ),
        'pending', 0, e.occurred_at, e.occurred_at
    FROM entries AS e
    JOIN webhook_subscriptions AS s
        ON s.is_active
        AND s.event_types::jsonb ?| ARRAY['*', e.event_type, e.resource_type || '.*']
    {shown}
    RETURNING id
"""


def _postgresql_deliveries(guarded: bool) -> str:
    """The deliveries' insert; with ``guarded`` entries, only of those receivers may hear of."""
    if not guarded:  # every entry is of a type whose records all readers see
        return _POSTGRESQL_DELIVERIES.replace("{shown}", "")
    shown = journal.shown_to_outsiders_sql("entries")
    return _POSTGRESQL_DELIVERIES.replace("{shown}", f"WHERE e.seq IN ({shown})")


_PATHS_JSON = json.dumps(_RECORD_PATHS)


def _deliveries_params(occurred_at: datetime) -> dict[str, str]:
    return {"webhook_timestamp": occurred_at.isoformat(), "webhook_paths": _PATHS_JSON}


def _note_new(session: Session, delivery_ids: list[Any]) -> None:
    session.info.setdefault(_NEW_DELIVERIES, []).extend(delivery_ids)


def _hand_over(session: Session) -> None:
    """After the commit: the new deliveries go to the queue (the sweep covers a crash here)."""
    added = session.info.pop(_NEW_DELIVERIES, None)
    if added and _enqueuer:
        _enqueuer[0](added)


def _forget(session: Session, _previous: object = None) -> None:
    session.info.pop(_NEW_DELIVERIES, None)


journal.set_outbox(
    journal.Outbox(
        add=_add_deliveries,
        postgresql_sql=_postgresql_deliveries,
        params=_deliveries_params,
        returned=_note_new,
    )
)
event.listen(Session, "after_commit", _hand_over)
event.listen(Session, "after_rollback", _forget)


# -- Sending -----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead to an address the target check refused: treat it as an answer."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    body: str | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> _Outcome:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    status, text, error = None, None, None
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
            text = response.read(RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        text = exc.read(RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
        exc.close()
    except (OSError, ValueError) as exc:  # timeouts, refused connections, bad URLs
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration = int((time.perf_counter() - started) * 1000)
    return _Outcome(status, text, error, duration)


def signed_headers(secret: str, msg_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """Standard Webhooks headers: id, timestamp and the HMAC-SHA256 signature."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "mrm-webhooks",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, sent_at, body),
    }


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential, capped at six hours, with +-20% jitter so failures do not come in waves."""
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


def _claim(session: Session, delivery_id: uuid.UUID) -> bool:
    """Take the delivery for this worker, if it is due and nobody else took it."""
    now = utcnow()
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    )
    session.commit()
    return claimed.rowcount == 1


def send_delivery(
    session: Session, *, delivery_id: uuid.UUID, settings: WebhookSettings
) -> float | None:
    """Make one attempt at a due delivery; returns the delay before the next, if any."""
    if not _claim(session, delivery_id):
        return None
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    body = json.dumps(delivery.payload, separators=(",", ":"))
    sent_at = utcnow()
    refused = None
    if not subscription.is_active:
        refused = "The subscription is not active."
    else:
        refused = check_target(subscription.url, allow_private=settings.allow_private_targets)
    if refused:
        outcome = _Outcome(None, None, refused, 0)
    else:
        headers = signed_headers(subscription.secret, str(delivery.journal_seq), sent_at, body)
        outcome = _post(subscription.url, headers, body.encode(), settings.timeout_seconds)
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=sent_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_body=outcome.body,
        )
    )
    delivery.attempts += 1
    retry_in = None
    if outcome.succeeded:
        delivery.status = "succeeded"
        delivery.delivered_at = utcnow()
        delivery.next_attempt_at = None
    elif not subscription.is_active or utcnow() - delivery.created_at >= GIVE_UP_AFTER:
        delivery.status = "failed"
        delivery.next_attempt_at = None
        if subscription.is_active:
            subscription.is_active = False
            subscription.disabled_at = utcnow()
            subscription.disabled_reason = (
                f"Deliveries failed for three days (last: "
                f"{outcome.error or f'HTTP {outcome.status_code}'})."
            )[:500]
    else:
        retry_in = backoff_seconds(delivery.attempts, settings.retry_base_seconds)
        delivery.next_attempt_at = utcnow() + timedelta(seconds=retry_in)
    session.commit()
    return retry_in


def due_deliveries(session: Session, *, limit: int = 500) -> list[uuid.UUID]:
    """Pending deliveries whose time has come (new ones a crash never handed over, retries)."""
    stmt = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))
