"""Webhook subscriptions, signed deliveries to a real receiver, retries, log and redelivery."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from api.jobs import app_jobs
from models import WebhookDelivery, WebhookSubscription
from models.types import utcnow
from services import webhooks
from services.errors import InvalidInput
from services.webhooks import WebhookSettings, backoff_seconds, check_target, create_subscription
from tests.webhooks.receiver import receiver

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"


def _subscribe(client, headers, url, types=("member.*",)):
    response = client.post(
        SUBSCRIPTIONS, json={"url": url, "event_types": list(types)}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json


def test_a_change_reaches_the_receiver_signed_after_two_failures(
    app, client, session, admin_headers, staff_headers
):
    with receiver(statuses=[500, 500]) as target:
        subscription = _subscribe(client, admin_headers, target.url)
        assert subscription["secret"].startswith("whsec_")
        response = client.post(
            "/api/v1/members", json={"name": "Hooked", "category": "sme"}, headers=staff_headers
        )
        assert response.status_code == 201
        # The first attempt ran when the change committed; the sweep makes the retries.
        jobs = app_jobs(app)
        assert jobs.sweep.call_local() == 1
        assert jobs.sweep.call_local() == 1
        assert jobs.sweep.call_local() == 0
    assert len(target.requests) == 3
    ids = {request.headers["webhook-id"] for request in target.requests}
    assert len(ids) == 1
    last = target.requests[-1]
    payload = Webhook(subscription["secret"]).verify(last.body, last.headers)
    assert payload["type"] == "member.created"
    assert payload["data"]["id"] == response.json["id"]
    assert payload["data"]["href"] == f"/api/v1/members/{response.json['id']}"
    assert payload["data"]["seq"] == int(ids.pop())
    with pytest.raises(Exception):  # noqa: B017, PT011 - the verifier's own error types
        Webhook(subscription["secret"]).verify(last.body + b" ", last.headers)

    log = client.get(f"{SUBSCRIPTIONS}/{subscription['id']}/deliveries", headers=admin_headers)
    assert log.status_code == 200, log.json
    (delivery,) = log.json["data"]
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 200]
    assert all(len(a["response_body"]) <= 1024 for a in delivery["attempt_log"])
    assert delivery["attempt_log"][0]["duration_ms"] >= 0


def test_events_a_subscription_does_not_want_make_no_delivery(
    app, client, session, admin_headers, staff_headers
):
    with receiver() as target:
        subscription = _subscribe(client, admin_headers, target.url, types=["contact.created"])
        client.post(
            "/api/v1/members", json={"name": "Quiet", "category": "sme"}, headers=staff_headers
        )
    assert target.requests == []
    log = client.get(f"{SUBSCRIPTIONS}/{subscription['id']}/deliveries", headers=admin_headers)
    assert log.json["data"] == []


def test_refused_write_makes_no_delivery(client, session, admin_headers, staff_headers):
    with receiver() as target:
        _subscribe(client, admin_headers, target.url, types=["*"])
        bad = client.post("/api/v1/members", json={"name": "x"}, headers=staff_headers)
        assert bad.status_code == 422
    assert target.requests == []
    assert session.scalars(select(WebhookDelivery)).all() == []


def test_unreachable_receiver_is_logged_and_redelivered(
    app, client, session, admin_headers, staff_headers
):
    with receiver() as target:
        url = target.url
    # The server is gone: connection refused.
    subscription = _subscribe(client, admin_headers, url)
    client.post("/api/v1/members", json={"name": "Lost", "category": "sme"}, headers=staff_headers)
    log_url = f"{SUBSCRIPTIONS}/{subscription['id']}/deliveries"
    (delivery,) = client.get(log_url, headers=admin_headers).json["data"]
    assert delivery["status"] == "pending"
    assert delivery["attempt_log"][0]["status_code"] is None
    assert delivery["attempt_log"][0]["error"]
    with receiver() as target:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == delivery_subscription(subscription))
            .values(url=target.url)
        )
        session.commit()
        again = client.post(f"{log_url}/{delivery['id']}/redeliver", headers=admin_headers)
        assert again.status_code == 202, again.json
    assert len(target.requests) == 1
    assert target.requests[0].headers["webhook-id"] == delivery["webhook_id"]
    (delivery,) = client.get(log_url, headers=admin_headers).json["data"]
    assert delivery["status"] == "succeeded"


def delivery_subscription(subscription):
    import uuid  # noqa: PLC0415

    return uuid.UUID(subscription["id"])


def test_three_days_of_failures_disable_the_subscription(
    app, client, session, admin_headers, staff_headers
):
    with receiver(statuses=[503] * 5) as target:
        subscription = _subscribe(client, admin_headers, target.url)
        client.post(
            "/api/v1/members", json={"name": "Doomed", "category": "sme"}, headers=staff_headers
        )
        session.execute(
            update(WebhookDelivery).values(created_at=utcnow() - timedelta(days=3, seconds=1))
        )
        session.commit()
        app_jobs(app).sweep.call_local()
    url = f"{SUBSCRIPTIONS}/{subscription['id']}"
    body = client.get(url, headers=admin_headers).json
    assert body["is_active"] is False
    assert "three days" in body["disabled_reason"]
    assert "HTTP 503" in body["disabled_reason"]
    (delivery,) = client.get(f"{url}/deliveries", headers=admin_headers).json["data"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    on = client.patch(url, json={"is_active": True}, headers={**admin_headers, "If-Match": etag})
    assert on.status_code == 200
    assert on.json["disabled_reason"] is None


def test_subscriptions_are_for_admins(client, staff_headers, admin_headers):
    assert client.get(SUBSCRIPTIONS).status_code == 401
    assert client.get(SUBSCRIPTIONS, headers=staff_headers).status_code == 403
    listed = client.get(SUBSCRIPTIONS, headers=admin_headers)
    assert listed.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/x", "event_types": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:1/x"}, "event_types"),
        ({"url": "http://127.0.0.1:1/x", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:1/x", "event_types": ["member"]}, "event_types"),
        ({"url": "http://no-such-host.invalid/x", "event_types": ["*"]}, "url"),
    ],
)
def test_bad_subscriptions_are_refused(client, admin_headers, body, field):
    response = client.post(SUBSCRIPTIONS, json=body, headers=admin_headers)
    assert response.status_code == 422
    assert {name.split(".")[0] for name in response.json["errors"]} == {field}


def test_private_targets_are_refused_unless_allowed(session):
    for url in (
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://224.0.0.1/x",
    ):
        assert check_target(url, allow_private=False), url
        with pytest.raises(InvalidInput):
            create_subscription(session, settings=WebhookSettings(), url=url, event_types=["*"])
    assert check_target("http://127.0.0.1/x", allow_private=True) is None
    assert check_target("http://93.184.215.14/x", allow_private=False) is None


def test_backoff_grows_with_jitter_and_a_cap():
    delays = [backoff_seconds(n, 30) for n in range(1, 30)]
    assert 24 <= delays[0] <= 36
    assert 48 <= delays[1] <= 72
    assert max(delays) <= 6 * 3600 * 1.2
    assert sum(delays) > 3 * 24 * 3600  # retries span the three days


def test_payload_is_thin(app, client, session, admin_headers, staff_headers):
    with receiver() as target:
        _subscribe(client, admin_headers, target.url)
        created = client.post(
            "/api/v1/members", json={"name": "Thin", "category": "sme"}, headers=staff_headers
        ).json
        client.patch(
            f"/api/v1/members/{created['id']}", json={"city": "Caen"}, headers=staff_headers
        )
    payload = json.loads(target.requests[-1].body)
    assert payload["type"] == "member.updated"
    assert payload["data"]["changed_fields"] == ["city"]
    assert "Caen" not in target.requests[-1].body.decode()


def test_the_sweep_sends_what_a_crash_kept_from_the_queue(
    app, client, session, admin_headers, staff_headers, monkeypatch
):
    """The process dies between the commit and the hand-over: the delivery row is there, the
    queue never heard of it; the periodic sweep sends it."""
    monkeypatch.setattr(webhooks, "_enqueuer", [lambda _ids: None])
    with receiver() as target:
        _subscribe(client, admin_headers, target.url)
        client.post(
            "/api/v1/members", json={"name": "Orphan", "category": "sme"}, headers=staff_headers
        )
        assert target.requests == []
        assert app_jobs(app).sweep.call_local() == 1
    assert len(target.requests) == 1
    assert app_jobs(app).sweep.call_local() == 0


def test_delivery_log_and_redelivery_refusals(client, session, admin_headers, staff_headers):
    missing = "00000000-0000-0000-0000-000000000000"
    assert (
        client.get(f"{SUBSCRIPTIONS}/{missing}/deliveries", headers=admin_headers).status_code
        == 404
    )
    with receiver() as target:
        subscription = _subscribe(client, admin_headers, target.url)
        client.post(
            "/api/v1/members", json={"name": "Logged", "category": "sme"}, headers=staff_headers
        )
    url = f"{SUBSCRIPTIONS}/{subscription['id']}"
    bad = client.get(f"{url}/deliveries", query_string={"status": "lost"}, headers=admin_headers)
    assert bad.status_code == 422
    assert "status" in bad.json["errors"]
    (delivery,) = client.get(f"{url}/deliveries", headers=admin_headers).json["data"]
    assert (
        client.post(f"{url}/deliveries/{missing}/redeliver", headers=admin_headers).status_code
        == 404
    )
    assert (
        client.post(
            f"{url}/deliveries/{delivery['id']}/redeliver", headers=staff_headers
        ).status_code
        == 403
    )
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    off = client.patch(url, json={"is_active": False}, headers={**admin_headers, "If-Match": etag})
    assert off.status_code == 200
    refused = client.post(f"{url}/deliveries/{delivery['id']}/redeliver", headers=admin_headers)
    assert refused.status_code == 409
    assert client.delete(url, headers=admin_headers).status_code == 204
    assert client.get(url, headers=admin_headers).status_code == 404
