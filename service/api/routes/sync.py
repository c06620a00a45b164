"""The state of pull sync over HTTP, for admin keys: each source URL and what it last did."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AdminPrincipal, SessionDep
from service.api.routes.pushes import problem_responses
from service.models import SyncStatus
from service.services.sync import SyncSourcePublic, list_sources

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])


@router.get(
    "/sources", operation_id="list_sync_sources", responses=problem_responses(401, 403, 422)
)
def list_sync_sources(
    session: SessionDep, _: AdminPrincipal,
    status: Annotated[
        SyncStatus | None, Query(description="Only the sources whose last sync did this.")
    ] = None,
) -> list[SyncSourcePublic]:
    """Every dataset URL `iati-ec sync` has read: its publisher, validators, fingerprint,
    last status, push and error (sources of every publisher: admin keys only)."""
    return list_sources(session, status=status)
