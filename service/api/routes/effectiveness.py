"""The aid-effectiveness scorecard over HTTP: per donor and overall, per year, each GPEDC
indicator approximated from the store's IATI data (see docs/effectiveness.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from service.api.conditional import tagged
from service.api.deps import EngineDep, ReaderOrPublisher
from service.api.filters import FilterDep
from service.api.routes.ledger import (
    CSV_FORMATS,
    CSV_RESPONSE,
    PageFormat,
    csv_response,
    csv_variant,
)
from service.api.routes.pushes import problem_responses
from service.services.effectiveness.definitions import IndicatorCode
from service.services.effectiveness.scorecard import Scorecard, csv_columns, csv_rows, scorecard
from service.services.spreadsheets import CsvVariant

router = APIRouter(prefix="/api/v1", tags=["effectiveness"])
Year = Annotated[int, Field(ge=1900, le=2200)]


@router.get(
    "/effectiveness", operation_id="effectiveness_scorecard", response_model=Scorecard,
    responses={**CSV_RESPONSE, **problem_responses(400, 401, 403)},
)
def effectiveness(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
    year: Annotated[list[Year], Query(
        description="Repeat for several years (default: every year the "
        "matching activities have money in)")] = [],  # noqa: B006
    indicator: Annotated[list[IndicatorCode], Query(
        description="Repeat to choose indicators (default: all)")] = [],  # noqa: B006
    identifiers: Annotated[bool, Query(
        description="List the identifiers of the activities behind each indicator")] = False,
    format: Annotated[PageFormat, Query(
        description=f"`json`, or one row per donor, year and indicator: {CSV_FORMATS}")
    ] = PageFormat.json,
) -> Scorecard | Response:
    """The aid-effectiveness scorecard of the live activities matching the filters, per
    reporting organisation and overall, per year: each indicator with its framework
    number, definition, value (a percentage; null with a `reason` when it cannot be
    computed, never zero for want of data), its numerator and denominator (US dollars of
    Ecuador's part, or counts), the activities behind it and what data was missing."""
    with engine.connect() as connection:
        found = scorecard(connection, chosen, years=year,
                          codes=[code.value for code in indicator], identifiers=identifiers)
    variant = csv_variant(format)
    if variant is None:
        return tagged(request, response, found)
    return scorecard_csv(found, variant, "effectiveness.csv")


def scorecard_csv(found: Scorecard, variant: CsvVariant, name: str) -> StreamingResponse:
    """The scorecard as a CSV download: one row per donor, year and indicator."""
    return csv_response(csv_columns(), csv_rows(found), name, variant)
