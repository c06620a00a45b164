"""The flat export of budget views for the ministry's systems: CSV or JSON lines, streamed.

One row per figure: an activity's amount (its `location`) in one year, measure and
classification, with its code (empty when unmapped, `unmapped_reason` then says why).
For every classification, an activity's rows for a measure sum to Ecuador's share of its
total for that measure. Each activity's latest view is exported (its current version,
under the latest mapping version computed for it), or the views of `mapping_version`.
Rows are read in pages of `PAGE` by figure id, so the export never holds more than a page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Select, func, select

from service.models import Activity
from service.services.budget.storage import FIGURE, VIEW
from service.services.query import ActivityFilter, activity_conditions
from service.services.spreadsheets import CsvVariant, csv_chunks

ACTIVITY = Activity.__table__  # type: ignore[attr-defined]
PAGE = 5000
COLUMNS = (
    "iati_identifier", "reporting_org", "year", "measure", "classification", "code",
    "unmapped_reason", "amount_usd", "original_amount", "currency", "rate", "rate_date",
    "rule", "status", "table_version", "mapping_version", "activity_version", "location",
)


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Which figures to export (every given condition holds)."""

    activities: ActivityFilter = field(default_factory=ActivityFilter)
    year: int | None = None
    measure: str | None = None
    classification: str | None = None
    mapping_version: str | None = None


def _statement(chosen: ExportFilter, *, dialect: str) -> Select[Any]:
    statement = (
        select(
            FIGURE.c.id, ACTIVITY.c.iati_identifier,
            ACTIVITY.c.reporting_org_ref.label("reporting_org"), FIGURE.c.year,
            FIGURE.c.measure, FIGURE.c.classification, FIGURE.c.code,
            FIGURE.c.reason.label("unmapped_reason"), FIGURE.c.amount_usd,
            FIGURE.c.original_amount, FIGURE.c.currency, FIGURE.c.rate, FIGURE.c.rate_date,
            FIGURE.c.rule, FIGURE.c.status, FIGURE.c.table_version, VIEW.c.mapping_version,
            VIEW.c.activity_version, FIGURE.c.location,
        )
        .join(VIEW, VIEW.c.id == FIGURE.c.view_id)
        .join(ACTIVITY, ACTIVITY.c.id == VIEW.c.activity_id)
        .where(
            ACTIVITY.c.deleted_at.is_(None),
            *activity_conditions(chosen.activities, dialect=dialect),
        )
    )
    if chosen.mapping_version is not None:
        statement = statement.where(VIEW.c.mapping_version == chosen.mapping_version)
    else:
        latest = select(func.max(VIEW.c.id)).group_by(VIEW.c.activity_id)
        statement = statement.where(VIEW.c.id.in_(latest))
    for column, wanted in (
        (FIGURE.c.year, chosen.year),
        (FIGURE.c.measure, chosen.measure), (FIGURE.c.classification, chosen.classification),
    ):
        if wanted is not None:
            statement = statement.where(column == wanted)
    return statement.order_by(FIGURE.c.id).limit(PAGE)


def rows(engine: Engine, chosen: ExportFilter) -> Iterator[dict[str, Any]]:
    """The exported rows, page by page (each page in its own short transaction). A bad
    filter raises here, before anything is read or sent."""
    return _paged(engine, _statement(chosen, dialect=engine.dialect.name))


def _paged(engine: Engine, statement: Select[Any]) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        with engine.connect() as connection:
            page = connection.execute(statement.where(FIGURE.c.id > last)).mappings().all()
        for row in page:
            yield {column: row[column] for column in COLUMNS}
        if len(page) < PAGE:
            return
        last = page[-1]["id"]


def csv_lines(
    engine: Engine, chosen: ExportFilter, variant: CsvVariant = CsvVariant.csv
) -> Iterator[str]:
    """The CSV export: one header row, then one line per figure, as `variant` writes it."""
    found = rows(engine, chosen)
    return csv_chunks(COLUMNS, ([row[c] for c in COLUMNS] for row in found), variant)


def json_lines(engine: Engine, chosen: ExportFilter) -> Iterator[str]:
    """The JSON export: one JSON array, written as it is read (money as decimal strings)."""
    return _json_array(rows(engine, chosen))


def _json_array(found: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    separator = ""
    for row in found:
        yield separator + json.dumps(row, default=str, ensure_ascii=False)
        separator = ",\n"
    yield "]\n"
