"""Webhook subscriptions and their delivery logs (admins)."""

import uuid
from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.config import current_settings
from api.etag import if_match_versions
from api.extensions import db
from api.jobs import webhook_settings
from api.pagination import page_response, paginate
from api.responses import created, with_etag
from models import WebhookDelivery, WebhookSubscription
from schemas.webhooks import (
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
    SubscriptionQuery,
)
from services.webhooks import (
    SUBSCRIPTION_SORT_KEYS,
    create_subscription,
    delete_subscription,
    delivery_log,
    get_subscription,
    list_subscriptions,
    redeliver,
    update_subscription,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhook-subscriptions",
    description="Partners' endpoints told about changes (Standard Webhooks), with delivery logs.",
)


@blp.route("")
class Subscriptions(MethodView):
    @blp.auth("webhooks:admin")
    @blp.arguments(SubscriptionQuery, location="query", as_kwargs=True)
    @blp.page_response(SubscriptionPage)
    def get(self, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """List webhook subscriptions"""
        return paginate(
            db.session, list_subscriptions, query, SUBSCRIPTION_SORT_KEYS, WebhookSubscription.id
        )

    @blp.auth("webhooks:admin")
    @blp.arguments(SubscriptionCreate)
    @blp.created_response(SubscriptionCreated)
    def post(self, body: dict[str, Any]) -> tuple[WebhookSubscription, int, dict[str, str]]:
        """Subscribe an endpoint to events

        The answer holds the signing secret, shown this once. A URL whose host resolves to a
        loopback, private, link-local or multicast address is refused (422).
        """
        subscription = create_subscription(
            db.session, settings=webhook_settings(current_settings()), **body
        )
        return created(subscription, "webhooks.SubscriptionById", subscription_id=subscription.id)


@blp.route("/<uuid:subscription_id>")
class SubscriptionById(MethodView):
    @blp.auth("webhooks:admin")
    @blp.record_response(SubscriptionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, subscription_id: uuid.UUID) -> tuple[WebhookSubscription, dict[str, str]]:
        """Get a webhook subscription"""
        return with_etag(get_subscription(db.session, subscription_id))

    @blp.auth("webhooks:admin")
    @blp.if_match
    @blp.arguments(SubscriptionPatch)
    @blp.record_response(SubscriptionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(
        self, body: dict[str, Any], subscription_id: uuid.UUID
    ) -> tuple[WebhookSubscription, dict[str, str]]:
        """Update a webhook subscription"""
        subscription = update_subscription(
            db.session,
            settings=webhook_settings(current_settings()),
            subscription_id=subscription_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(subscription)

    @blp.auth("webhooks:admin")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, subscription_id: uuid.UUID) -> None:
        """Delete a webhook subscription and its delivery log"""
        delete_subscription(
            db.session, subscription_id=subscription_id, if_match=if_match_versions()
        )


@blp.route("/<uuid:subscription_id>/deliveries")
class Deliveries(MethodView):
    @blp.auth("webhooks:admin")
    @blp.arguments(DeliveryQuery, location="query", as_kwargs=True)
    @blp.page_response(DeliveryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(
        self, subscription_id: uuid.UUID, **query: Any
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A subscription's delivery log, newest first, with every attempt"""
        return page_response(delivery_log(db.session, subscription_id=subscription_id, **query))


@blp.route("/<uuid:subscription_id>/deliveries/<uuid:delivery_id>/redeliver")
class Redeliver(MethodView):
    @blp.auth("webhooks:admin")
    @blp.response(202, DeliveryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery:
        """Send a delivery again, with the same `webhook-id`"""
        return redeliver(db.session, subscription_id=subscription_id, delivery_id=delivery_id)
