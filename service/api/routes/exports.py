"""Flat exports for the ministry's budget systems, streamed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from mappings.amounts import Measure
from mappings.tables import Classification
from service.api.deps import EngineDep, ReaderOrPublisher
from service.api.filters import FilterDep as ActivityFilterDep
from service.api.routes.pushes import problem_responses
from service.services.budget.export import ExportFilter, csv_lines, json_lines
from service.services.spreadsheets import CsvVariant, filename

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])


def export_filter(
    activities: ActivityFilterDep,
    year: Annotated[
        int | None, Query(ge=1900, le=2200, description="Fiscal (calendar) year")] = None,
    measure: Annotated[Measure | None, Query()] = None,
    classification: Annotated[Classification | None, Query()] = None,
    mapping_version: Annotated[str | None, Query(
        description="The views of this mapping version (default: each activity's latest)"
    )] = None,
) -> ExportFilter:
    return ExportFilter(
        activities, year, measure and measure.value,
        classification and classification.value, mapping_version,
    )


FilterDep = Annotated[ExportFilter, Depends(export_filter)]
CSV_VARIANTS = (
    "`csv`: comma-separated, decimal point (UTF-8 with a byte-order mark); `csv-es`: for a "
    "spreadsheet set to Spanish (`;`, decimal comma, Spanish headers)"
)


@router.get(
    "/budget.csv",
    operation_id="export_budget_csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per figure"},
               **problem_responses(401, 403)},
)
def export_budget_csv(
    engine: EngineDep, chosen: FilterDep, _: ReaderOrPublisher,
    format: Annotated[CsvVariant, Query(description=CSV_VARIANTS)] = CsvVariant.csv,
) -> StreamingResponse:
    """Budget views as CSV: one row per figure (activity, year, measure, classification,
    code), with its rule, rate and versions; unmapped rows carry the reason."""
    name = filename("budget.csv", format)
    return StreamingResponse(
        csv_lines(engine, chosen, format), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/budget.json",
    operation_id="export_budget_json",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}, "description": "One object per figure"},
               **problem_responses(401, 403)},
)
def export_budget_json(
    engine: EngineDep, chosen: FilterDep, _: ReaderOrPublisher
) -> StreamingResponse:
    """Budget views as a JSON array of the CSV's rows (money as decimal strings)."""
    return StreamingResponse(json_lines(engine, chosen), media_type="application/json")
