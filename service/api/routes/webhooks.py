"""Webhooks over HTTP, for admin keys: register, list, remove, the delivery log, replay, ping.

Every route needs the `admin` scope: a webhook sends every matching change of any
publisher to a URL of the caller's choosing, so registering one is an administrator's act
(done for a subscriber such as the Ministry of Economy and Finance).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from service.api.deps import AdminPrincipal, EngineDep, RowIdPath, SessionDep
from service.api.routes.pushes import problem_responses
from service.api.routing import KeyFirstRoute
from service.config import get_settings
from service.models import utcnow
from service.models.base import LARGEST_BIGINT
from service.services import webhooks
from service.services.webhooks import (
    DeliveriesPage,
    DeliveryPolicy,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)

# The key is checked before anything is said about a JSON body.
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"],
                   route_class=KeyFirstRoute)


def delivery_policy() -> DeliveryPolicy:
    """The settings' delivery policy (a dependency, so that tests can give their own)."""
    return DeliveryPolicy.from_settings(get_settings())


PolicyDep = Annotated[DeliveryPolicy, Depends(delivery_policy)]


@router.post(
    "", operation_id="create_webhook", status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 404, 422),
)
def create_webhook(
    session: SessionDep, principal: AdminPrincipal, policy: PolicyDep,
    subscription: WebhookCreate,
) -> WebhookCreated:
    """Register a webhook; its signing `secret` is in this answer only. Events start with
    the changes made from now on (replay to go back). A URL whose host resolves to an
    address that is not public (loopback, private, link-local, …) is refused (422
    `webhook.destination-not-allowed`) unless the operator allowed it."""
    created = webhooks.create_webhook(
        session, subscription=subscription, owner_id=principal.organisation_id, now=utcnow(),
        destinations=policy.destinations,
    )
    session.commit()
    return created


@router.get("", operation_id="list_webhooks", responses=problem_responses(401, 403))
def list_webhooks(session: SessionDep, _: AdminPrincipal) -> list[WebhookPublic]:
    """Every webhook with its cursor and failure streak (never a secret)."""
    return webhooks.list_webhooks(session)


@router.get(
    "/{webhook_id}", operation_id="get_webhook", responses=problem_responses(401, 403, 404)
)
def get_webhook(webhook_id: RowIdPath, session: SessionDep, _: AdminPrincipal) -> WebhookPublic:
    """One webhook."""
    return webhooks.public(webhooks.get_webhook(session, webhook_id))


@router.delete(
    "/{webhook_id}", operation_id="delete_webhook", status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
def delete_webhook(webhook_id: RowIdPath, session: SessionDep, _: AdminPrincipal) -> Response:
    """Remove a webhook and its delivery log."""
    webhooks.remove_webhook(session, webhook_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{webhook_id}/deliveries", operation_id="list_webhook_deliveries",
    responses=problem_responses(401, 403, 404),
)
def list_deliveries(
    webhook_id: RowIdPath, session: SessionDep, _: AdminPrincipal,
    before: Annotated[int | None, Query(
        ge=1, le=LARGEST_BIGINT, description="The `next` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveriesPage:
    """The delivery log: every attempt, newest first, with its status or error."""
    return webhooks.deliveries(session, webhook_id, before=before, limit=limit)


@router.post(
    "/{webhook_id}/replay", operation_id="replay_webhook",
    responses=problem_responses(400, 401, 403, 404),
)
def replay_webhook(
    webhook_id: RowIdPath, session: SessionDep, _: AdminPrincipal,
    since: Annotated[int, Query(
        ge=0, le=LARGEST_BIGINT, description="Deliver again the changes after this seq")],
) -> WebhookPublic:
    """Rewind the webhook's cursor to `since`: the changes after it are delivered again,
    in order, from the next delivery pass."""
    rewound = webhooks.replay(session, webhook_id, since=since)
    session.commit()
    return rewound


@router.post(
    "/{webhook_id}/ping", operation_id="ping_webhook",
    responses=problem_responses(401, 403, 404),
)
def ping_webhook(
    webhook_id: RowIdPath, engine: EngineDep, policy: PolicyDep, _: AdminPrincipal
) -> DeliveryPublic:
    """Send a signed `ping` event now and answer with the attempt as logged (not retried):
    its status, or one `error` for every request that got no HTTP answer."""
    return webhooks.ping(engine, webhook_id, now=utcnow(), policy=policy)
