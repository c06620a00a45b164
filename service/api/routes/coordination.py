"""Coordination over HTTP: the duplicate report, the ministry's decisions, overlap alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AdminPrincipal, EngineDep, ReaderOrPublisher, SessionDep
from service.api.filters import FilterDep
from service.api.routes.pushes import problem_responses
from service.api.routing import KeyFirstRoute
from service.services.coordination.decisions import (
    DecisionIn,
    PairDecisions,
    decide,
    decided_pairs,
)
from service.services.coordination.duplicates import (
    DecisionState,
    DuplicateReport,
    Kind,
    duplicates,
)
from service.services.coordination.overlaps import (
    OverlapKind,
    OverlapReport,
    SectorLevel,
    overlaps,
)
from service.services.coordination.scoring import THRESHOLD

# The key is checked before anything is said about a JSON body.
router = APIRouter(prefix="/api/v1/coordination", tags=["coordination"],
                   route_class=KeyFirstRoute)


@router.get("/duplicates", operation_id="get_duplicates", responses=problem_responses(401, 403))
def get_duplicates(
    engine: EngineDep, _: ReaderOrPublisher, chosen: FilterDep,
    decision: Annotated[DecisionState | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    min_score: Annotated[float, Query(ge=0, le=1)] = THRESHOLD,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DuplicateReport:
    """Pairs of live activities that look like one (a side matching the filters), best
    first: both identifiers, the score, its evidence and the ministry's decision."""
    with engine.connect() as connection:
        return duplicates(connection, chosen, min_score=min_score, decision=decision,
                          kind=kind, limit=limit)


@router.post(
    "/duplicates/decisions", operation_id="decide_duplicate",
    responses=problem_responses(401, 403, 404, 422),
)
def post_decision(
    body: DecisionIn, session: SessionDep, principal: AdminPrincipal
) -> PairDecisions:
    """Confirm or dismiss a pair (admin), recorded with the organisation, key and time; a
    confirmed pair's other side (not `keep`) is left out of the aggregates."""
    return decide(session, principal, body)


@router.get(
    "/duplicates/decisions", operation_id="list_duplicate_decisions",
    responses=problem_responses(401, 403),
)
def list_decisions(
    engine: EngineDep, _: ReaderOrPublisher,
    iati_identifier: Annotated[str | None, Query(
        min_length=1, description="Only the pairs with this activity as one side")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[PairDecisions]:
    """The decided pairs, the latest decided first, each with every decision taken on it,
    whether each side is live or deleted now, and the side the aggregates leave out now
    (none once the kept side is deleted)."""
    with engine.connect() as connection:
        return decided_pairs(connection, identifier=iati_identifier, limit=limit)


@router.get("/overlaps", operation_id="get_overlaps", responses=problem_responses(401, 403))
def get_overlaps(
    engine: EngineDep, _: ReaderOrPublisher, chosen: FilterDep,
    kind: Annotated[OverlapKind | None, Query()] = None,
    sector_level: Annotated[SectorLevel, Query(
        description="Compare 5-digit DAC sectors or their 3-digit categories")
    ] = SectorLevel.sector_category,
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> OverlapReport:
    """Donors funding the same sector in the same province and years (at national level
    where provinces are unknown), or the same implementing partner for similar purposes,
    with the activities behind each alert."""
    with engine.connect() as connection:
        return overlaps(connection, chosen, sector_level=sector_level,
                        years=(year_from, year_to), kind=kind)
