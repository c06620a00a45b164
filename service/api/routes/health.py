"""Liveness: is the service up, and which version is it."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service's state."""

    status: str
    version: str


@router.get("/health", operation_id="get_health")
def get_health() -> Health:
    """Whether the service is up."""
    return Health(status="ok", version=version("iati-ec"))
