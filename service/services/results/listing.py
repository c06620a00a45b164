"""The results list: one row per indicator period of the live activities matching the query
filters, with its baseline, target, actual, progress and findings (see `progress`).

Rows come in stored order (indicator, then period) in keyset pages. Each page is evaluated
with every indicator of the results it touches, so indicator-wide findings (a unit that
changes across periods, a missing baseline) are the same on every page; they are repeated
on each of the indicator's periods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, Select, Table, or_, select
from sqlalchemy.engine import Connection

from service.models import Indicator, IndicatorPeriod, Result
from service.services.following import Follower
from service.services.keyset import Order
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions
from service.services.results.progress import (
    IndicatorRows,
    PeriodProgress,
    PeriodRows,
    ProgressState,
    ResultFinding,
    evaluate,
)

RESULT: Table = Result.__table__  # type: ignore[attr-defined]
INDICATOR: Table = Indicator.__table__  # type: ignore[attr-defined]
PERIOD: Table = IndicatorPeriod.__table__  # type: ignore[attr-defined]
ORDER = Order("results", "stored", PERIOD.c.id, INDICATOR.c.id)
SORT_KEY = INDICATOR.c.id.label("sort_key")  # what `ORDER.cursor` reads
BATCH = 1000  # rows per page when every match is read (CSV, summary)


@dataclass(frozen=True)
class ResultFilter:
    """What a listed period must match besides its activity; the period bounds select the
    periods that overlap them."""

    result_type: Sequence[str] = ()
    measure: Sequence[str] = ()
    period_from: date | None = None
    period_to: date | None = None


class ResultRow(BaseModel):
    """One indicator period; `target` and `actual` are numbers of quantitative indicators,
    `target_value` and `actual_value` the values as published. `progress_state`:
    `measured`, `no-progress-report` (a target and no actual yet: not a failure) or
    `not-measurable`; `in_means`: whether its progress counts in the summary's means (not
    when a finding doubts it: beyond ±1,000 %, or a comma that could be a decimal one)."""

    iati_identifier: str
    reporting_org: str | None
    result_position: int
    result_type: str | None
    result_title: str | None
    indicator_position: int
    indicator_title: str | None
    measure: str | None
    ascending: bool
    period_position: int
    period_start: date | None
    period_end: date | None
    baseline_year: int | None
    baseline_iso_date: date | None
    baseline_value: str | None
    target: Decimal | None
    actual: Decimal | None
    target_value: str | None
    actual_value: str | None
    progress_percent: Decimal | None
    progress_state: ProgressState
    in_means: bool
    on_track: bool | None
    findings: list[ResultFinding]
    targets: list[dict[str, Any]]  # every target: value, comment, dimensions, locations, …
    actuals: list[dict[str, Any]]


# The CSV columns: the row's, without the disaggregated values; findings as their codes.
RESULT_COLUMNS = tuple(
    name for name in ResultRow.model_fields if name not in {"targets", "actuals"}
)


class ResultPage(BaseModel):
    results: list[ResultRow]
    next_cursor: str | None


def results_statement(
    chosen: ActivityFilter, own: ResultFilter, *, dialect: str, cursor: str | None = None
) -> Select[Any]:
    """The matching periods with their indicator, result and activity, in stored order."""
    conditions: list[ColumnElement[bool]] = [
        ACTIVITY.c.deleted_at.is_(None), *activity_conditions(chosen, dialect=dialect),
    ]
    if own.result_type:
        conditions.append(RESULT.c.type.in_(own.result_type))
    if own.measure:
        conditions.append(INDICATOR.c.measure.in_(own.measure))
    if own.period_from is not None:
        conditions.append(or_(PERIOD.c.period_end.is_(None),
                              PERIOD.c.period_end >= own.period_from))
    if own.period_to is not None:
        conditions.append(or_(PERIOD.c.period_start.is_(None),
                              PERIOD.c.period_start <= own.period_to))
    if cursor is not None:
        conditions.append(ORDER.after(cursor))
    return (
        select(
            PERIOD.c.id, PERIOD.c.indicator_id, PERIOD.c.position, PERIOD.c.period_start,
            PERIOD.c.period_end, PERIOD.c.targets, PERIOD.c.actuals,
            INDICATOR.c.result_id, ACTIVITY.c.id.label("activity_id"),
            ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref, SORT_KEY,
        )
        .join_from(PERIOD, INDICATOR, INDICATOR.c.id == PERIOD.c.indicator_id)
        .join(RESULT, RESULT.c.id == INDICATOR.c.result_id)
        .join(ACTIVITY, ACTIVITY.c.id == PERIOD.c.activity_id)
        .where(*conditions).order_by(*ORDER.order_by())
    )


def list_results(
    connection: Connection, chosen: ActivityFilter, own: ResultFilter, *, today: date,
    limit: int = 100, cursor: str | None = None,
) -> ResultPage:
    """One page of the matching periods, evaluated."""
    statement = results_statement(chosen, own, dialect=connection.dialect.name, cursor=cursor)
    rows = connection.execute(statement.limit(limit + 1)).mappings().all()
    following = ORDER.cursor(rows[limit - 1]) if len(rows) > limit else None
    return ResultPage(results=_evaluated(connection, rows[:limit], today), next_cursor=following)


def activity_results(
    connection: Connection, identifier: str, *, today: date, limit: int = 500
) -> list[ResultRow]:
    """The periods of one activity's results, evaluated (the first `limit`)."""
    statement = results_statement(ActivityFilter(), ResultFilter(),
                                  dialect=connection.dialect.name)
    statement = statement.where(ACTIVITY.c.iati_identifier == identifier).limit(limit)
    return _evaluated(connection, connection.execute(statement).mappings().all(), today)


def every_result(
    engine: Engine, chosen: ActivityFilter, own: ResultFilter, *, today: date
) -> Iterator[ResultRow]:
    """Every matching period, evaluated, read a page at a time."""
    cursor: str | None = None
    while True:
        with engine.connect() as connection:
            page = list_results(connection, chosen, own, today=today, limit=BATCH, cursor=cursor)
        yield from page.results
        if (cursor := page.next_cursor) is None:
            return


def _kept_rows(
    connection: Connection, conditions: list[ColumnElement[bool]], today: date,
) -> dict[int, list[ResultRow]]:
    """Every period of the activities meeting `conditions`, evaluated on `today`, by
    activity id (what `RESULTS` keeps)."""
    statement = results_statement(ActivityFilter(), ResultFilter(),
                                  dialect=connection.dialect.name).where(*conditions)
    rows = connection.execute(statement).mappings().all()
    found: dict[int, list[ResultRow]] = defaultdict(list)
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        for row, evaluated in zip(batch, _evaluated(connection, batch, today), strict=True):
            found[row["activity_id"]].append(evaluated)
    return dict(found)


# Every period of every live activity, evaluated on a day (the basis), kept per engine.
RESULTS: Follower[list[ResultRow], date] = Follower(_kept_rows)


def csv_row(row: ResultRow) -> dict[str, Any]:
    """The CSV cells of `row`: its columns, findings as their codes joined by ``;``."""
    cells = row.model_dump(exclude={"targets", "actuals"})
    cells["findings"] = ";".join(f.code for f in row.findings)
    return cells


def _evaluated(connection: Connection, rows: Sequence[Any], today: date) -> list[ResultRow]:
    if not rows:
        return []
    results = _results(connection, {row["result_id"] for row in rows})
    evaluated: dict[tuple[int, int], PeriodProgress] = {}
    for indicators in results.values():
        for key, indicator in indicators.items():
            siblings = [other for other in indicators.values() if other is not indicator]
            for period in evaluate(indicator, today=today, siblings=siblings):
                evaluated[key, period.position] = period
    described = _descriptions(connection, {row["indicator_id"] for row in rows})
    return [
        _row(row, described[row["indicator_id"]], evaluated[row["indicator_id"], row["position"]])
        for row in rows
    ]


def _results(connection: Connection, result_ids: set[int]) -> dict[int, dict[int, IndicatorRows]]:
    """The indicators (with all their periods) of `result_ids`, by result and indicator id."""
    periods: dict[int, list[PeriodRows]] = defaultdict(list)
    for period in connection.execute(
        select(PERIOD).join(INDICATOR, INDICATOR.c.id == PERIOD.c.indicator_id)
        .where(INDICATOR.c.result_id.in_(result_ids))
        .order_by(PERIOD.c.indicator_id, PERIOD.c.position)
    ).mappings():
        periods[period["indicator_id"]].append(PeriodRows(
            period["position"], period["period_start"], period["period_end"],
            period["targets"] or [], period["actuals"] or [],
        ))
    found: dict[int, dict[int, IndicatorRows]] = defaultdict(dict)
    for indicator in connection.execute(
        select(INDICATOR, RESULT.c.position.label("result_position"))
        .join(RESULT, RESULT.c.id == INDICATOR.c.result_id)
        .where(INDICATOR.c.result_id.in_(result_ids))
    ).mappings():
        found[indicator["result_id"]][indicator["id"]] = IndicatorRows(
            result=indicator["result_position"], position=indicator["position"],
            measure=indicator["measure"], ascending=indicator["ascending"],
            title=indicator["title"], reference_codes=indicator["reference_codes"] or [],
            baselines=indicator["baselines"] or [], periods=periods[indicator["id"]],
        )
    return found


def _descriptions(connection: Connection, indicator_ids: set[int]) -> dict[int, Any]:
    statement = (
        select(INDICATOR.c.id, INDICATOR.c.position, INDICATOR.c.title, INDICATOR.c.measure,
               INDICATOR.c.ascending, RESULT.c.position.label("result_position"),
               RESULT.c.type.label("result_type"), RESULT.c.title.label("result_title"))
        .join(RESULT, RESULT.c.id == INDICATOR.c.result_id)
        .where(INDICATOR.c.id.in_(indicator_ids))
    )
    return {row["id"]: row for row in connection.execute(statement).mappings()}


def _row(row: Any, indicator: Any, period: PeriodProgress) -> ResultRow:
    baseline = period.baseline
    return ResultRow(
        iati_identifier=row["iati_identifier"], reporting_org=row["reporting_org_ref"],
        result_position=indicator["result_position"], result_type=indicator["result_type"],
        result_title=indicator["result_title"], indicator_position=indicator["position"],
        indicator_title=indicator["title"], measure=indicator["measure"],
        ascending=indicator["ascending"] is not False, period_position=row["position"],
        period_start=row["period_start"], period_end=row["period_end"],
        baseline_year=baseline.year if baseline else None,
        baseline_iso_date=baseline.iso_date if baseline else None,
        baseline_value=baseline.value if baseline else None,
        target=period.target, actual=period.actual, target_value=period.target_text,
        actual_value=period.actual_text, progress_percent=period.progress_percent,
        progress_state=period.state, in_means=period.measurable and not period.doubtful,
        on_track=period.on_track if period.measurable else None, findings=period.findings,
        targets=row["targets"] or [], actuals=row["actuals"] or [],
    )
