"""The traceability graph over HTTP: activities, organisations and the money between them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.api.conditional import tagged
from service.api.deps import EngineDep, ReaderOrPublisher
from service.api.filters import FilterDep
from service.api.routes.pushes import problem_responses
from service.services.traceability_graph import Traceability, traceability

router = APIRouter(prefix="/api/v1", tags=["traceability"])
MAX_ACTIVITIES = 2000


@router.get(
    "/traceability", operation_id="traceability", response_model=Traceability,
    responses=problem_responses(400, 401, 403),
)
def traceability_graph(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
    activity: Annotated[list[str], Query(
        description="iati-identifier of an activity of the set (repeat; with the filters, "
        "both must hold)")] = [],  # noqa: B006
    limit: Annotated[int, Query(
        ge=1, le=MAX_ACTIVITIES, description="Most activities in the set; more is a 400")] = 500,
) -> Traceability | Response:
    """The graph of the live activities matching the filters: nodes (activities and the
    organisations they pay or are paid by) and edges (each activity's transactions summed
    by counterpart, type and currency, flagged `duplicate` when the net aggregates leave
    them out; related activities; other identifiers naming stored activities)."""
    with engine.connect() as connection:
        found = traceability(connection, chosen, identifiers=activity, limit=limit)
    return tagged(request, response, found)
