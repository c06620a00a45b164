"""The debt view over HTTP: a loan's terms, status and repayments, and the debt service
and balances of many loans by lender and year."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from service.api.conditional import tagged
from service.api.deps import EngineDep, ReaderOrPublisher, SessionDep
from service.api.filters import FilterDep
from service.api.routes.activity import IdentifierQuery
from service.api.routes.ledger import (
    CSV_FORMATS,
    CSV_RESPONSE,
    PageFormat,
    csv_response,
    csv_variant,
)
from service.api.routes.pushes import problem_responses
from service.services.debt import ActivityDebt, DebtGroupBy, activity_debt
from service.services.debt_summary import DebtSummary, debt_summary
from service.services.spreadsheets import CsvVariant

router = APIRouter(prefix="/api/v1", tags=["debt"])


@router.get(
    "/debt", operation_id="debt_summary", response_model=DebtSummary,
    responses={**CSV_RESPONSE, **problem_responses(400, 401, 403)},
)
def debt(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
    group_by: Annotated[list[DebtGroupBy], Query(
        description="Repeat to group the debt service by several (default: lender and year)"
    )] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    format: Annotated[PageFormat, Query(
        description=f"`json`, or the debt service's rows: {CSV_FORMATS}")] = PageFormat.json,
) -> DebtSummary | Response:
    """The loans among the live activities matching the filters: interest and principal
    repaid (TransactionType 5 and 6) in US dollars by group, each repayment under its
    expenditure ítem of the clasificador (5603xx, 9603xx), the total the sum of the rows
    to the cent; the loan status's balances by lender and year (never added over years
    nor to the repayments); and each loan's terms."""
    with engine.connect() as connection:
        found = debt_summary(
            connection, chosen, group_by=group_by or [DebtGroupBy.lender, DebtGroupBy.year],
            year_from=year_from, year_to=year_to,
        )
    variant = csv_variant(format)
    if variant is None:
        return tagged(request, response, found)
    return debt_service_csv(found, variant, "debt-service.csv")


def debt_service_csv(found: DebtSummary, variant: CsvVariant, name: str) -> StreamingResponse:
    """The debt service's rows as a CSV download: the groups, then the money."""
    columns = [*found.group_by, "interest_usd", "principal_usd", "total_usd",
               "transactions", "activities"]
    rows = iter([{**row.group, **row.model_dump(exclude={"group"})} for row in found.service])
    return csv_response(columns, rows, name, variant)


@router.get(
    "/activity/debt", operation_id="get_activity_debt_by_identifier",
    responses=problem_responses(401, 403, 404, 410),
)
def get_activity_debt_by_identifier(
    iati_identifier: IdentifierQuery, session: SessionDep, _: ReaderOrPublisher
) -> ActivityDebt:
    """The activity's loan: its terms, its status at the end of the latest year reported
    (balances as published and in US dollars), and every interest and principal
    repayment with its expenditure ítem, summed by kind and currency."""
    return activity_debt(session, iati_identifier)
