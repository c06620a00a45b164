"""Webhooks: subscribers receive the change feed as signed events, retried until delivered."""

from service.services.webhooks.delivery import (
    NO_ANSWER,
    NOT_ALLOWED,
    PING,
    DeliverySummary,
    deliver_due,
    ping,
)
from service.services.webhooks.destinations import (
    DestinationNotAllowedError,
    Destinations,
    is_public,
)
from service.services.webhooks.dispatcher import Dispatcher
from service.services.webhooks.policy import DeliveryPolicy
from service.services.webhooks.registry import (
    DeliveriesPage,
    DeliveryPublic,
    InvalidWebhookUrlError,
    ReplayAheadError,
    WebhookCreate,
    WebhookCreated,
    WebhookNotFoundError,
    WebhookPublic,
    checked_url,
    create_webhook,
    deliveries,
    get_webhook,
    list_webhooks,
    public,
    remove_webhook,
    replay,
)
from service.services.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature,
    signature_header,
    verify,
)

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "NOT_ALLOWED",
    "NO_ANSWER",
    "PING",
    "SIGNATURE_HEADER",
    "DeliveriesPage",
    "DeliveryPolicy",
    "DeliveryPublic",
    "DeliverySummary",
    "DestinationNotAllowedError",
    "Destinations",
    "Dispatcher",
    "InvalidWebhookUrlError",
    "ReplayAheadError",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookNotFoundError",
    "WebhookPublic",
    "checked_url",
    "create_webhook",
    "deliver_due",
    "deliveries",
    "get_webhook",
    "is_public",
    "list_webhooks",
    "ping",
    "public",
    "remove_webhook",
    "replay",
    "signature",
    "signature_header",
    "verify",
]
