"""Ecuador as a provider over HTTP: the south-south and triangular cooperation the ministry
records as its own, apart from the cooperation Ecuador receives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.api.conditional import tagged
from service.api.deps import EngineDep, ReaderOrPublisher
from service.api.routes.pushes import problem_responses
from service.config import get_settings
from service.services.provided import (
    ProvidedActivities,
    ProvidedGroupBy,
    ProvidedTotals,
    Providers,
    provided_activities,
    provided_totals,
)

router = APIRouter(prefix="/api/v1", tags=["provided"])


def providers() -> Providers:
    """The provider organisations, from the settings: the ministry."""
    return Providers(frozenset({get_settings().publisher_ref}))


@router.get(
    "/provided", operation_id="provided_totals", response_model=ProvidedTotals,
    responses=problem_responses(400, 401, 403),
)
def get_provided_totals(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    group_by: Annotated[list[ProvidedGroupBy], Query(
        description="Repeat to group by several (default: recipient country)")] = [],  # noqa: B006
) -> ProvidedTotals | Response:
    """Ecuador's cooperation provided (the ministry's own activities whose recipient is
    another country, as a primary reporter): commitments, disbursements and expenditure
    in US dollars by group and measure, each measure's total the sum of its rows to the
    cent, and the activities of each modality (south-south, triangular). None of it is in
    the cooperation received (aggregates, budget views, debt, public pages)."""
    with engine.connect() as connection:
        found = provided_totals(connection, providers(),
                                group_by=group_by or [ProvidedGroupBy.recipient_country])
    return tagged(request, response, found)


@router.get(
    "/provided/activities", operation_id="list_provided_activities",
    response_model=ProvidedActivities, responses=problem_responses(401, 403),
)
def list_provided(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
) -> ProvidedActivities | Response:
    """Every activity of Ecuador's cooperation provided, in identifier order: its
    recipients, modality, third-party funders (triangular), sectors, dates and money by
    measure in US dollars."""
    with engine.connect() as connection:
        found = provided_activities(connection, providers())
    return tagged(request, response, found)
