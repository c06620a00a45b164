"""Webhooks: subscribers' URLs that receive the change feed as signed events, and the log of
every attempt to deliver them.

A webhook's `cursor` is the last change `seq` it is done with (delivered, or skipped by
its filters); delivery resumes after it, in `seq` order, and only a 2xx answer moves it.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent
from service.models.types import JSONDocument, UtcDateTime, enum_column


class WebhookEvent(StrEnum):
    """The events a webhook may ask for: one per kind of change the change feed logs."""

    created = "activity.created"
    updated = "activity.updated"
    deleted = "activity.deleted"
    restored = "activity.restored"
    transferred = "activity.transferred"  # an admin moved it to another organisation
    agreement_created = "agreement.created"  # the ministry recorded a cooperation agreement
    agreement_updated = "agreement.updated"
    agreement_deleted = "agreement.deleted"

    @property
    def kind(self) -> str:
        """The change kind (`activity_change.kind`) this event announces: an activity's
        without its prefix, an agreement's whole."""
        return self.value.removeprefix("activity.")


class DeliveryOutcome(StrEnum):
    """What became of one attempt: `retrying` when another attempt is scheduled."""

    delivered = "delivered"
    retrying = "retrying"
    failed = "failed"


class Webhook(IdTable, table=True):
    """A subscriber's URL, the events it wants, its signing secret and how far it got."""

    organisation_id: int = parent("organisation")
    url: str = Field(sa_type=sa.String(2048))
    events: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    reporting_org: str | None = None
    description: str | None = None
    # The HMAC key: kept readable because signing needs it; shown to the client once.
    secret: str = Field(sa_type=sa.String(128))
    active: bool = True
    cursor: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime = created_at()
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # A dispatcher holds the webhook until then, so two never deliver it at once.
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookDelivery(IdTable, table=True):
    """One attempt to deliver an event (`ping` for a test event, which has no `seq`)."""

    __tablename__ = "webhook_delivery"

    webhook_id: int = parent("webhook")
    # Sent as the IATI-EC-Delivery header, so that a subscriber's logs point here.
    delivery_id: str = Field(sa_type=sa.String(36), unique=True)
    event: str = Field(sa_type=sa.String(32))
    first_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    last_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    attempt: int = 1
    attempted_at: datetime = created_at()
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    outcome: DeliveryOutcome = Field(sa_type=enum_column(DeliveryOutcome))
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
