"""The transaction and budget lists over HTTP: JSON pages, or every match as streamed CSV."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from service.api.conditional import tagged
from service.api.deps import EngineDep, IsoDate, ReaderOrPublisher
from service.api.filters import FilterDep
from service.api.routes.pushes import problem_responses
from service.services.ledger import (
    BUDGET_COLUMNS,
    TRANSACTION_COLUMNS,
    BudgetFilter,
    BudgetPage,
    BudgetSort,
    TransactionFilter,
    TransactionPage,
    TransactionSort,
    budget_row,
    budgets_statement,
    list_budgets,
    list_transactions,
    transaction_row,
    transactions_statement,
)
from service.services.spreadsheets import CsvVariant, csv_chunks, filename
from service.services.streaming import streamed

router = APIRouter(prefix="/api/v1", tags=["transactions and budgets"])
CSV = "text/csv; charset=utf-8"


class PageFormat(StrEnum):
    json = "json"
    csv = "csv"  # every match, streamed: `limit` and `cursor` do not apply
    csv_es = "csv-es"  # the same, for a spreadsheet set to Spanish


CSV_FORMATS = (
    "`csv`: every match, streamed, one header row (UTF-8 with a byte-order mark); `csv-es`: "
    "the same for a spreadsheet set to Spanish (`;`, decimal comma, Spanish headers)"
)
FormatQuery = Annotated[PageFormat, Query(description=f"`json`: one page; {CSV_FORMATS}")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]
CursorQuery = Annotated[str | None, Query(description="The previous page's next_cursor")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}},
          "description": "JSON page, or CSV with format=csv or csv-es"},
    304: {"description": "The page named by If-None-Match is unchanged"},
}


def transaction_filter(
    transaction_type: Annotated[list[str], Query(description="TransactionType code")] = [],  # noqa: B006
    date_from: Annotated[IsoDate | None, Query(description="transaction-date on or after")] = None,
    date_to: Annotated[IsoDate | None, Query(description="transaction-date on or before")] = None,
    provider_org: Annotated[list[str], Query(description="provider-org/@ref")] = [],  # noqa: B006
    receiver_org: Annotated[list[str], Query(description="receiver-org/@ref")] = [],  # noqa: B006
) -> TransactionFilter:
    return TransactionFilter(transaction_type, date_from, date_to, provider_org, receiver_org)


def budget_filter(
    budget_type: Annotated[list[str], Query(description="BudgetType code")] = [],  # noqa: B006
    budget_status: Annotated[list[str], Query(description="BudgetStatus code")] = [],  # noqa: B006
    period_from: Annotated[IsoDate | None, Query(
        description="The period ends on or after this date")] = None,
    period_to: Annotated[IsoDate | None, Query(
        description="The period starts on or before this date")] = None,
) -> BudgetFilter:
    return BudgetFilter(budget_type, budget_status, period_from, period_to)


@router.get(
    "/transactions", operation_id="list_transactions", response_model=TransactionPage,
    responses={**CSV_RESPONSE, **problem_responses(400, 401, 403)},
)
def transactions(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
    own: Annotated[TransactionFilter, Depends(transaction_filter)],
    sort: Annotated[TransactionSort, Query(
        description="stored order, transaction-date (`-` newest first), or activity")
    ] = TransactionSort.stored,
    format: FormatQuery = PageFormat.json, limit: LimitQuery = 100, cursor: CursorQuery = None,
) -> TransactionPage | Response:
    """Transactions of the live activities matching the activity filters — sectors,
    countries and regions the transaction's own, else its activity's — and their own
    filters; each with its value as given and in US dollars."""
    if (variant := csv_variant(format)) is not None:
        statement = transactions_statement(chosen, own, dialect=engine.dialect.name, sort=sort)
        rows = (transaction_row(row).model_dump() for row in streamed(engine, statement))
        return csv_response(TRANSACTION_COLUMNS, rows, "transactions.csv", variant)
    with engine.connect() as connection:
        page = list_transactions(connection, chosen, own, sort=sort, limit=limit, cursor=cursor)
    return tagged(request, response, page)


@router.get(
    "/budgets", operation_id="list_budgets", response_model=BudgetPage,
    responses={**CSV_RESPONSE, **problem_responses(400, 401, 403)},
)
def budgets(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
    own: Annotated[BudgetFilter, Depends(budget_filter)],
    sort: Annotated[BudgetSort, Query(
        description="stored order, period-start (`-` latest first), or activity")
    ] = BudgetSort.stored,
    format: FormatQuery = PageFormat.json, limit: LimitQuery = 100, cursor: CursorQuery = None,
) -> BudgetPage | Response:
    """Budgets of the live activities matching the activity filters and their own; each
    with its value as given and in US dollars."""
    if (variant := csv_variant(format)) is not None:
        statement = budgets_statement(chosen, own, dialect=engine.dialect.name, sort=sort)
        rows = (budget_row(row).model_dump() for row in streamed(engine, statement))
        return csv_response(BUDGET_COLUMNS, rows, "budgets.csv", variant)
    with engine.connect() as connection:
        found = list_budgets(connection, chosen, own, sort=sort, limit=limit, cursor=cursor)
    return tagged(request, response, found)


def csv_variant(format: StrEnum) -> CsvVariant | None:
    """The CSV variant a `format` asks for (None: not a CSV)."""
    try:
        return CsvVariant(format.value)
    except ValueError:
        return None


def csv_response(
    columns: Sequence[str], rows: Iterator[dict[str, Any]], name: str,
    variant: CsvVariant = CsvVariant.csv,
) -> StreamingResponse:
    """`rows` as a streamed CSV download of `columns`, written as `variant` asks."""
    return StreamingResponse(
        csv_chunks(columns, ([row[c] for c in columns] for row in rows), variant),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename(name, variant)}"'},
    )
