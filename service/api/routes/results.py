"""Results against the plan over HTTP: indicator periods with progress and findings (JSON
pages or streamed CSV), and their roll-up by donor, sector, province or plan objective."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.api.conditional import tagged
from service.api.deps import EngineDep, IsoDate, ReaderOrPublisher
from service.api.filters import FilterDep
from service.api.routes.ledger import (
    CSV_RESPONSE,
    CursorQuery,
    FormatQuery,
    LimitQuery,
    PageFormat,
    csv_response,
    csv_variant,
)
from service.api.routes.pushes import problem_responses
from service.services.results.listing import (
    RESULT_COLUMNS,
    ResultFilter,
    ResultPage,
    csv_row,
    every_result,
    list_results,
)
from service.services.results.summary import ResultGroupBy, ResultSummary, summarise_results

router = APIRouter(prefix="/api/v1", tags=["results"])


def result_filter(
    result_type: Annotated[list[str], Query(
        description="ResultType code (1 output, 2 outcome, 3 impact, 9 other)")] = [],  # noqa: B006
    measure: Annotated[list[str], Query(
        description="IndicatorMeasure code (1 unit, 2 percentage, 3 nominal, 4 ordinal, "
        "5 qualitative)")] = [],  # noqa: B006
    period_from: Annotated[IsoDate | None, Query(
        description="The period ends on or after this date")] = None,
    period_to: Annotated[IsoDate | None, Query(
        description="The period starts on or before this date")] = None,
) -> ResultFilter:
    return ResultFilter(tuple(result_type), tuple(measure), period_from, period_to)


ResultFilterDep = Annotated[ResultFilter, Depends(result_filter)]


@router.get(
    "/results", operation_id="list_results", response_model=ResultPage,
    responses={**CSV_RESPONSE, **problem_responses(400, 401, 403)},
)
def results(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep, own: ResultFilterDep,
    format: FormatQuery = PageFormat.json, limit: LimitQuery = 100, cursor: CursorQuery = None,
) -> ResultPage | Response:
    """Indicator periods of the live activities matching the activity filters and the
    results' own: baseline, target, actual, progress in per cent and data-quality
    findings, one row per period in stored order."""
    today = date.today()
    if (variant := csv_variant(format)) is not None:
        rows = (csv_row(row) for row in every_result(engine, chosen, own, today=today))
        return csv_response(RESULT_COLUMNS, rows, "results.csv", variant)
    with engine.connect() as connection:
        page = list_results(connection, chosen, own, today=today, limit=limit, cursor=cursor)
    return tagged(request, response, page)


@router.get(
    "/results/summary", operation_id="summarise_results", response_model=ResultSummary,
    responses={**problem_responses(400, 401, 403)},
)
def results_summary(
    engine: EngineDep, _: ReaderOrPublisher, chosen: FilterDep, own: ResultFilterDep,
    group_by: Annotated[ResultGroupBy, Query(
        description="Groups overlap: an activity counts in each sector, province or plan "
        "objective its budget view puts money in")] = ResultGroupBy.reporting_org,
) -> ResultSummary:
    """The matching indicator periods rolled up by group: activities (listed), indicators,
    periods, measurable periods, mean progress (doubtful periods left out, and counted) and
    median progress, periods on track, periods and indicators without a progress report,
    findings. By plan objective, each period counts under the plan in force on its date."""
    return summarise_results(engine, chosen, own, group_by=group_by, today=date.today())
