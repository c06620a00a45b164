"""Delivering the change feed to webhooks: one signed POST per change, in `seq` order.

`deliver_due` makes one pass: each active webhook not waiting for a retry gets the changes
after its cursor that its filters select, up to `DeliveryPolicy.batch`, one request per
change. A 2xx answer moves the cursor past the change; any other answer, a time-out or a
connection error is logged, ends the webhook's pass and schedules a retry of the same
change with back-off, so delivery is at least once and in order. Changes the filters
leave out move the cursor without a request. Every attempt is a `webhook_delivery` row.
The HTTP requests run outside any database transaction.

Requests go only to the policy's `destinations`, through `PinnedTransport`: the host is
resolved and checked at each connection, and the connection goes to the address checked.
A request that got no HTTP answer is logged with one reason, whatever the cause (refused,
timed out, unreachable, not resolved), so that the log cannot be used to probe a
network; the service's own log says which.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
from pydantic import BaseModel
from sqlalchemy import Engine, RowMapping, func, or_, select, update

from service.addresses import activity_url
from service.db import session_scope
from service.models import DeliveryOutcome, Webhook, WebhookDelivery, WebhookEvent
from service.services.changes import CHANGE
from service.services.webhooks.destinations import SETTING, DestinationNotAllowedError
from service.services.webhooks.policy import DeliveryPolicy
from service.services.webhooks.registry import DeliveryPublic, get_webhook
from service.services.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from service.services.webhooks.transport import PinnedTransport

WEBHOOK = Webhook.__table__  # type: ignore[attr-defined]
PING = "ping"
NO_ANSWER = (
    "no HTTP answer: the URL could not be reached or did not answer in time (the reason is "
    "in the service's log)"
)
NOT_ALLOWED = (
    "not sent: the URL's host resolves to an address that is not public and is not an "
    f"allowed destination ({SETTING})"
)
log = logging.getLogger(__name__)


class DeliverySummary(BaseModel):
    """What one pass did: webhooks served, events delivered, attempts that failed."""

    webhooks: int = 0
    delivered: int = 0
    failed: int = 0


@dataclass(slots=True)
class _Target:
    """A claimed webhook as the pass sees it."""

    id: int
    url: str
    secret: str
    kinds: list[str]
    reporting_org: str | None
    cursor: int
    failures: int


@dataclass(frozen=True, slots=True)
class _Attempt:
    """The answer to one request: a status, or the error that stopped it."""

    delivery_id: str = field(default_factory=lambda: str(uuid4()))
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def deliver_due(
    engine: Engine, *, now: datetime, policy: DeliveryPolicy | None = None
) -> DeliverySummary:
    """One delivery pass over the webhooks due at `now` (see the module's docstring)."""
    policy = policy or DeliveryPolicy()
    summary = DeliverySummary()
    with _http(policy) as http:
        for webhook_id in _due(engine, now):
            target = _claim(engine, webhook_id, now=now, policy=policy)
            if target is None:  # another dispatcher has it
                continue
            summary.webhooks += 1
            try:
                _deliver(engine, http, target, now=now, policy=policy, summary=summary)
            finally:
                _release(engine, webhook_id)
    return summary


def ping(
    engine: Engine, webhook_id: int, *, now: datetime, policy: DeliveryPolicy | None = None
) -> DeliveryPublic:
    """Send a test event to the webhook now and log it; it is not retried."""
    policy = policy or DeliveryPolicy()
    with session_scope(engine) as session:
        webhook = get_webhook(session, webhook_id)
        url, secret = webhook.url, webhook.secret
    body = _encode({"type": PING, "webhook": webhook_id, "sent_at": now.isoformat()})
    with _http(policy) as http:
        attempt = _send(http, webhook_id, url=url, secret=secret, event=PING, body=body,
                        now=now)
    with session_scope(engine, write=True) as session:
        get_webhook(session, webhook_id)  # still there
        outcome = DeliveryOutcome.delivered if attempt.delivered else DeliveryOutcome.failed
        row = _log(webhook_id, attempt, event=PING, seq=None, number=1, now=now,
                   outcome=outcome, retry_at=None)
        session.add(row)
        session.flush()
        return DeliveryPublic.model_validate(row, from_attributes=True)


def _http(policy: DeliveryPolicy) -> httpx.Client:
    # Redirects are not followed: a subscriber moves by registering its new URL (which is
    # checked), and a redirect could lead anywhere.
    return httpx.Client(
        transport=PinnedTransport(policy.destinations), timeout=policy.timeout,
        follow_redirects=False, trust_env=False,
    )


def _due(engine: Engine, now: datetime) -> list[int]:
    """Active webhooks behind the change log, not waiting for a retry nor claimed."""
    latest = select(func.max(CHANGE.c.seq)).scalar_subquery()
    statement = (
        select(WEBHOOK.c.id)
        .where(WEBHOOK.c.active, WEBHOOK.c.cursor < latest)
        .where(or_(WEBHOOK.c.next_attempt_at.is_(None), WEBHOOK.c.next_attempt_at <= now))
        .where(or_(WEBHOOK.c.claimed_until.is_(None), WEBHOOK.c.claimed_until < now))
        .order_by(WEBHOOK.c.id)
    )
    with engine.connect() as connection:
        return list(connection.execute(statement).scalars())


def _claim(
    engine: Engine, webhook_id: int, *, now: datetime, policy: DeliveryPolicy
) -> _Target | None:
    claim = (
        update(WEBHOOK)
        .where(WEBHOOK.c.id == webhook_id, WEBHOOK.c.active)
        .where(or_(WEBHOOK.c.claimed_until.is_(None), WEBHOOK.c.claimed_until < now))
        .values(claimed_until=now + policy.lease)
    )
    with session_scope(engine, write=True) as session:
        if session.connection().execute(claim).rowcount != 1:
            return None
        webhook = get_webhook(session, webhook_id)
        return _Target(
            id=webhook_id, url=webhook.url, secret=webhook.secret,
            kinds=[WebhookEvent(event).kind for event in webhook.events],
            reporting_org=webhook.reporting_org, cursor=webhook.cursor,
            failures=webhook.consecutive_failures,
        )


def _release(engine: Engine, webhook_id: int) -> None:
    with session_scope(engine, write=True) as session:
        session.connection().execute(
            update(WEBHOOK).where(WEBHOOK.c.id == webhook_id).values(claimed_until=None)
        )


def _deliver(
    engine: Engine, http: httpx.Client, target: _Target, *, now: datetime,
    policy: DeliveryPolicy, summary: DeliverySummary,
) -> None:
    with engine.connect() as connection:
        # Every change up to `horizon` is committed (see service.services.changes).
        horizon = connection.execute(select(func.max(CHANGE.c.seq))).scalar() or 0
        statement = (
            select(CHANGE)
            .where(CHANGE.c.seq > target.cursor, CHANGE.c.seq <= horizon)
            .where(CHANGE.c.kind.in_(target.kinds))
        )
        if target.reporting_org is not None:
            statement = statement.where(CHANGE.c.reporting_org_ref == target.reporting_org)
        changes = connection.execute(
            statement.order_by(CHANGE.c.seq).limit(policy.batch)
        ).mappings().all()
    for change in changes:
        kind = change["kind"]
        event = kind if kind.startswith("agreement.") else f"activity.{kind}"
        body = _encode(_event(change, event=event, public_url=policy.public_url))
        attempt = _send(http, target.id, url=target.url, secret=target.secret, event=event,
                        body=body, now=now)
        if attempt.delivered:
            summary.delivered += 1
        else:
            summary.failed += 1
        if not _record(engine, target, attempt, event=event, seq=change["seq"], now=now,
                       policy=policy) or not attempt.delivered:
            return
    if len(changes) < policy.batch and target.cursor < horizon:
        _advance(engine, target, horizon)  # past the changes the filters leave out


def _event(change: RowMapping, *, event: str, public_url: str) -> dict[str, Any]:
    identifier = change["iati_identifier"]
    if change["agreement_id"] is not None:
        return {
            "type": event, "seq": change["seq"], "kind": change["kind"],
            "agreement_id": change["agreement_id"], "version": change["version"],
            "changed_at": change["changed_at"].isoformat(),
            "url": f"{public_url.rstrip('/')}/api/v1/agreements/{change['agreement_id']}",
        }
    return {
        "type": event, "seq": change["seq"], "kind": change["kind"],
        "iati_identifier": identifier, "reporting_org": change["reporting_org_ref"],
        "version": change["version"], "changed_at": change["changed_at"].isoformat(),
        "push_id": change["push_id"],
        "url": f"{public_url.rstrip('/')}{activity_url(identifier)}",
    }


def _encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _send(
    http: httpx.Client, webhook_id: int, *, url: str, secret: str, event: str, body: bytes,
    now: datetime,
) -> _Attempt:
    delivery_id = str(uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "iati-ec-webhooks",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: signature_header(secret, int(now.timestamp()), body),
    }
    started = time.monotonic()
    try:
        # Streamed and closed unread: only the status counts, whatever the body's size.
        with http.stream("POST", url, content=body, headers=headers) as response:
            status = response.status_code
    except DestinationNotAllowedError as refused:
        log.warning("webhook %d: %s not sent: %s", webhook_id, event, refused.detail)
        return _Attempt(delivery_id, None, NOT_ALLOWED, _elapsed(started))
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        log.info("webhook %d: %s to %s got no answer: %s: %s", webhook_id, event,
                 urlsplit(url).hostname, type(error).__name__, error)
        return _Attempt(delivery_id, None, NO_ANSWER, _elapsed(started))
    problem = None
    if response.is_redirect:
        problem = f"redirect to {response.headers.get('location', '?')} not followed"[:500]
    return _Attempt(delivery_id, status, problem, _elapsed(started))


def _elapsed(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(
    engine: Engine, target: _Target, attempt: _Attempt, *, event: str, seq: int,
    now: datetime, policy: DeliveryPolicy,
) -> bool:
    """Log the attempt and move the webhook on (or schedule its retry); False when the
    webhook was removed, paused or replayed meanwhile, which ends its pass."""
    with session_scope(engine, write=True) as session:
        webhook = session.get(Webhook, target.id, with_for_update=True)
        if webhook is None:
            return False
        if attempt.delivered:
            outcome, retry_at = DeliveryOutcome.delivered, None
        else:
            retry_at = now + policy.wait(target.failures + 1)
            outcome = DeliveryOutcome.retrying
        session.add(_log(target.id, attempt, event=event, seq=seq, number=target.failures + 1,
                         now=now, outcome=outcome, retry_at=retry_at))
        if webhook.cursor != target.cursor or not webhook.active:
            return False  # the attempt is logged; the replayed cursor stands
        if attempt.delivered:
            webhook.cursor = target.cursor = seq
            webhook.consecutive_failures = target.failures = 0
            webhook.failing_since = webhook.next_attempt_at = None
        else:
            webhook.consecutive_failures = target.failures = target.failures + 1
            webhook.next_attempt_at = retry_at
            if target.failures >= policy.failing_after and webhook.failing_since is None:
                webhook.failing_since = now
        session.add(webhook)
        return True


def _advance(engine: Engine, target: _Target, horizon: int) -> None:
    with session_scope(engine, write=True) as session:
        session.connection().execute(
            update(WEBHOOK)
            .where(WEBHOOK.c.id == target.id, WEBHOOK.c.cursor == target.cursor)
            .values(cursor=horizon)
        )


def _log(
    webhook_id: int, attempt: _Attempt, *, event: str, seq: int | None, number: int,
    now: datetime, outcome: DeliveryOutcome, retry_at: datetime | None,
) -> WebhookDelivery:
    return WebhookDelivery(
        webhook_id=webhook_id, delivery_id=attempt.delivery_id, event=event, first_seq=seq,
        last_seq=seq, attempt=number, attempted_at=now, status_code=attempt.status_code,
        error=attempt.error, duration_ms=attempt.duration_ms, outcome=outcome,
        next_attempt_at=retry_at,
    )

