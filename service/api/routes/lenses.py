"""The security lens over HTTP: its definition and plan alignment, and the activities its
keywords propose for review (listed, never counted)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.conditional import tagged
from service.api.deps import EngineDep, ReaderOrPublisher
from service.api.filters import FilterDep
from service.api.routes.pushes import problem_responses
from service.services.lens import Proposals, SecurityLensPublic, definition, proposals

router = APIRouter(prefix="/api/v1", tags=["lenses"])


@router.get(
    "/lenses/security", operation_id="security_lens", response_model=SecurityLensPublic,
    responses=problem_responses(401, 403),
)
def security_lens(
    request: Request, response: Response, _: ReaderOrPublisher,
) -> SecurityLensPublic | Response:
    """The security lens: its version and effective date, the DAC codes it counts (and
    those considered and left out, with reasons), the keywords that only propose
    activities for review, and the national citizen security plan whose objectives each
    counted code aligns with. Its money: `/api/v1/aggregates?group_by=lens` or `lens=`."""
    return tagged(request, response, definition())


@router.get(
    "/lenses/security/proposals", operation_id="security_lens_proposals",
    response_model=Proposals, responses=problem_responses(400, 401, 403),
)
def security_proposals(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
) -> Proposals | Response:
    """The live activities matching the filters whose titles or descriptions hold a
    keyword of the lens while none of their money is in its DAC sectors: for the ministry
    to review. They are never counted in the lens."""
    with engine.connect() as connection:
        return tagged(request, response, proposals(connection, chosen))
