"""Liveness: is the service up, which version is it, and when did it warm its pages."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import version

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

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
