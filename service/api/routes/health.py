"""Liveness (is the service up, which version is it, when did it warm its pages) and
metrics for Prometheus."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import version

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from service.api.deps import EngineDep
from service.errors import BUSY_RESPONSE
from service.metrics import CONTENT_TYPE, exposition

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service's state."""

    status: str
    version: str
    pages_warmed_at: datetime | None = Field(
        default=None,
        description="When this process last rendered the dashboard's main pages after a"
        " change to the store (null: page warming is off, or has not finished a round yet).",
    )


@router.get("/health", operation_id="get_health")
def get_health(request: Request) -> Health:
    """Whether the service is up, and when it last warmed the dashboard's pages."""
    warmer = getattr(request.app.state, "page_warmer", None)
    return Health(status="ok", version=version("iati-ec"),
                  pages_warmed_at=warmer.warmed_at if warmer is not None else None)


@router.get(
    "/metrics", operation_id="get_metrics", response_class=Response,
    responses={200: {"description": "Prometheus's text format", "content": {CONTENT_TYPE: {}}},
               **BUSY_RESPONSE},
)
async def get_metrics(engine: EngineDep) -> Response:
    """Metrics in Prometheus's text format: HTTP requests and their durations by route (of
    every worker process), activities, pushes and their outcomes, webhook deliveries, sync
    sources, the change feed's head and the database's size."""
    body = await run_in_threadpool(exposition, engine)
    return Response(body, media_type=CONTENT_TYPE)
