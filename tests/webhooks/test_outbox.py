"""The outbox rows written with the journal's entries match what the portable path writes."""

import uuid

from sqlalchemy import select, update

from models import JournalEntry, WebhookDelivery, WebhookSubscription
from services.webhooks import payload_of
from tests.webhooks.receiver import receiver

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"


def _subscribe(client, headers, url, types):
    response = client.post(SUBSCRIPTIONS, json={"url": url, "event_types": types}, headers=headers)
    assert response.status_code == 201, response.json
    return uuid.UUID(response.json["id"])


def test_one_delivery_per_entry_and_interested_active_subscription(
    client, session, admin_headers, staff_headers
):
    with receiver() as target:
        members = _subscribe(client, admin_headers, target.url, ["member.*"])
        picky = _subscribe(client, admin_headers, target.url, ["contact.created", "member.updated"])
        everything = _subscribe(client, admin_headers, target.url, ["*"])
        asleep = _subscribe(client, admin_headers, target.url, ["*"])
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == asleep)
            .values(is_active=False)
        )
        session.commit()
        start = session.scalar(select(JournalEntry.seq).order_by(JournalEntry.seq.desc()).limit(1))
        member = client.post(
            "/api/v1/members", json={"name": "Outbox", "category": "sme"}, headers=staff_headers
        ).json
        patched = client.patch(
            f"/api/v1/members/{member['id']}",
            json={"city": "Caen", "website": "https://outbox.example.org", "name": "Outbox 2"},
            headers=staff_headers,
        )
        assert patched.status_code == 200, patched.json
        contact = client.post(
            "/api/v1/contacts",
            json={"first_name": "Ada", "last_name": "Outbox"},
            headers=staff_headers,
        )
        assert contact.status_code == 201, contact.json

    entries = {
        entry.seq: entry
        for entry in session.scalars(select(JournalEntry).where(JournalEntry.seq > start))
    }
    assert sorted(entry.event_type for entry in entries.values()) == [
        "contact.created",
        "member.created",
        "member.updated",
    ]
    deliveries = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.journal_seq > start)
    ).all()
    got = sorted((d.subscription_id, d.event_type) for d in deliveries)
    assert got == sorted(
        [
            (members, "member.created"),
            (everything, "member.created"),
            (members, "member.updated"),
            (picky, "member.updated"),
            (everything, "member.updated"),
            (picky, "contact.created"),
            (everything, "contact.created"),
        ]
    )
    for delivery in deliveries:
        entry = entries[delivery.journal_seq]
        assert delivery.event_type == entry.event_type
        assert delivery.payload == payload_of(entry)
        assert delivery.status in {"pending", "succeeded"}
    updated = next(e for e in entries.values() if e.event_type == "member.updated")
    assert payload_of(updated)["data"]["changed_fields"] == ["city", "name", "website"]
