"""Registering webhooks: create (the secret shown once), list, find, remove, replay, and the
delivery log."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.errors import DomainError
from service.models import (
    ActivityChange,
    DeliveryOutcome,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from service.services.organisations import OrganisationNotFoundError, find_organisation
from service.services.webhooks.destinations import Destinations

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
_SECRET_BYTES = 32  # 256 bits


# The form of a URL events can be sent to, as the OpenAPI document states it: http(s), a
# host name, a port that is one, no credentials (`checked_url` refuses the others, 400).
WEBHOOK_URL = (
    r"^https?://[A-Za-z0-9.-]+"
    r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
    r"(?:[/?#][!-~]*)?$"
)


class WebhookCreate(BaseModel):
    """A subscription: where to send which events, optionally of one reporting organisation."""

    url: str = Field(
        max_length=2048, description="http(s) URL that receives the events",
        json_schema_extra={"pattern": WEBHOOK_URL},
    )
    events: list[WebhookEvent] = Field(
        default_factory=lambda: list(WebhookEvent), min_length=1,
        description="The events to send (all by default)",
    )
    reporting_org: str | None = Field(
        default=None, description="Only changes of activities with this reporting-org/@ref"
    )
    organisation: str | None = Field(
        default=None, description="The subscriber's IATI identifier (default: the caller's"
        " organisation)",
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookPublic(BaseModel):
    """A webhook as listed: never its secret."""

    id: int
    organisation_id: int
    url: str
    events: list[WebhookEvent]
    reporting_org: str | None
    description: str | None
    active: bool
    cursor: int = Field(description="The last change seq delivered (or skipped by filters)")
    created_at: datetime
    consecutive_failures: int
    failing_since: datetime | None
    next_attempt_at: datetime | None


class WebhookCreated(WebhookPublic):
    """A new webhook with its signing secret, shown this once."""

    secret: str


class DeliveryPublic(BaseModel):
    """One attempt to deliver an event."""

    id: int
    delivery_id: str = Field(description="As sent in the IATI-EC-Delivery header")
    event: str
    first_seq: int | None
    last_seq: int | None
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: DeliveryOutcome
    next_attempt_at: datetime | None


class DeliveriesPage(BaseModel):
    """Attempts newest first; `next` is the `before` to ask with for older ones."""

    deliveries: list[DeliveryPublic]
    next: int | None


class InvalidWebhookUrlError(DomainError):
    """Only absolute http(s) URLs with a host can receive events."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "webhook.invalid-url"
    title: ClassVar[str] = "Not a URL events can be sent to"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url!r} cannot receive events: {reason}.", url=url)


class WebhookNotFoundError(DomainError):
    """No webhook has this id."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "webhook.not-found"
    title: ClassVar[str] = "Unknown webhook"

    def __init__(self, webhook_id: int) -> None:
        super().__init__(f"No webhook has the id {webhook_id}.", webhook_id=webhook_id)


class ReplayAheadError(DomainError):
    """A replay rewinds: it may not skip changes not yet delivered."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "webhook.replay-ahead"
    title: ClassVar[str] = "A replay cannot skip ahead"

    def __init__(self, since: int, cursor: int) -> None:
        super().__init__(
            f"The webhook is at change {cursor}; a replay goes back (since ≤ {cursor}), "
            f"not ahead to {since}.", since=since, cursor=cursor,
        )


def checked_url(url: str, destinations: Destinations) -> str:
    """`url` if events can be sent to it: http or https, with a host and no credentials,
    the host one of the `destinations` (`DestinationNotAllowedError`, 422, if not)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        raise InvalidWebhookUrlError(url, str(error)) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhookUrlError(url, "only http and https URLs are allowed")
    if not parts.hostname:
        raise InvalidWebhookUrlError(url, "it names no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrlError(url, "credentials in URLs are refused; use the signature")
    # Before httpx reads it: an address it does not take (0177.0.0.1) is refused as such.
    destinations.check(parts.hostname)
    try:
        httpx.URL(url)
    except httpx.InvalidURL as error:
        raise InvalidWebhookUrlError(url, str(error)) from None
    return url


def create_webhook(
    session: Session, *, subscription: WebhookCreate, owner_id: int, now: datetime,
    destinations: Destinations,
) -> WebhookCreated:
    """Register `subscription` (for the organisation it names, else `owner_id`), if its URL
    leads to one of the `destinations`.

    Delivery starts with the changes made after now: the cursor is the latest change.
    """
    url = checked_url(subscription.url, destinations)  # looked up before any query
    if subscription.organisation is not None:
        organisation = find_organisation(session, subscription.organisation)
        if organisation is None or organisation.id is None:
            raise OrganisationNotFoundError(subscription.organisation)
        owner_id = organisation.id
    latest = session.exec(select(func.max(col(ActivityChange.seq)))).one()
    webhook = Webhook(
        organisation_id=owner_id, url=url,
        events=[event.value for event in dict.fromkeys(subscription.events)],
        reporting_org=subscription.reporting_org, description=subscription.description,
        secret=SECRET_PREFIX + secrets.token_urlsafe(_SECRET_BYTES), cursor=latest or 0,
        created_at=now,
    )
    session.add(webhook)
    session.flush()
    return WebhookCreated(**public(webhook).model_dump(), secret=webhook.secret)


def public(webhook: Webhook) -> WebhookPublic:
    assert webhook.id is not None
    return WebhookPublic(
        id=webhook.id, organisation_id=webhook.organisation_id, url=webhook.url,
        events=[WebhookEvent(event) for event in webhook.events],
        reporting_org=webhook.reporting_org, description=webhook.description,
        active=webhook.active, cursor=webhook.cursor, created_at=webhook.created_at,
        consecutive_failures=webhook.consecutive_failures,
        failing_since=webhook.failing_since, next_attempt_at=webhook.next_attempt_at,
    )


def list_webhooks(session: Session) -> list[WebhookPublic]:
    """Every webhook, oldest first."""
    return [public(w) for w in session.exec(select(Webhook).order_by(col(Webhook.id)))]


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    """The webhook `webhook_id`, or `WebhookNotFoundError`."""
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise WebhookNotFoundError(webhook_id)
    return webhook


def remove_webhook(session: Session, webhook_id: int) -> None:
    """Delete the webhook and its delivery log."""
    session.delete(get_webhook(session, webhook_id))
    session.flush()


def replay(session: Session, webhook_id: int, *, since: int) -> WebhookPublic:
    """Rewind the webhook so that the changes after `since` are delivered again, at once
    (a scheduled retry's wait is cancelled)."""
    webhook = get_webhook(session, webhook_id)
    if since > webhook.cursor:
        raise ReplayAheadError(since, webhook.cursor)
    webhook.cursor = since
    webhook.next_attempt_at = None
    session.add(webhook)
    session.flush()
    return public(webhook)


def deliveries(
    session: Session, webhook_id: int, *, before: int | None, limit: int
) -> DeliveriesPage:
    """The webhook's delivery attempts, newest first, `limit` at a time."""
    get_webhook(session, webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if before is not None:
        statement = statement.where(col(WebhookDelivery.id) < before)
    rows = session.exec(statement.order_by(col(WebhookDelivery.id).desc()).limit(limit + 1))
    found = [DeliveryPublic.model_validate(row, from_attributes=True) for row in rows]
    page = found[:limit]
    return DeliveriesPage(
        deliveries=page, next=page[-1].id if len(found) > limit else None
    )
