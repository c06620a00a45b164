"""The progress of an agreement's metrics: each target period evaluated by the results
pages' code, with the actual read from the linked published indicator.

A metric's periods are its own targets. Linked to a published indicator, a period's actual
is that of the indicator period with the same start and end, else of the latest-ending one
within the target's period that has an actual; the baseline is the metric's own, else the
indicator's; the measure and direction are the indicator's (a metric's own `ascending`
when it has no indicator). The period is then evaluated by
`service.services.results.progress.evaluate`, with the same rules and findings: progress
beyond ±1,000 % or from a comma that could be a decimal one is doubtful, and a target
without an actual is `no-progress-report` ("sin reporte de avance").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from service.models import AgreementMetric
from service.services.push.storage import ACTIVITY
from service.services.results.listing import INDICATOR, PERIOD, RESULT
from service.services.results.progress import (
    IndicatorRows,
    PeriodRows,
    ProgressState,
    ResultFinding,
    evaluate,
)

METRIC: Table = AgreementMetric.__table__  # type: ignore[attr-defined]


class IndicatorLink(BaseModel):
    iati_identifier: str
    result: int
    indicator: int
    present: bool  # a live activity has the indicator
    title: str | None = None
    measure: str | None = None


class MetricPeriod(BaseModel):
    """One target period of a metric, evaluated as the results pages evaluate a period."""

    period_start: date
    period_end: date
    target: Decimal
    actual: Decimal | None
    actual_value: str | None  # as published
    baseline_value: str | None
    progress_percent: Decimal | None
    progress_state: ProgressState
    on_track: bool | None
    in_means: bool
    findings: list[ResultFinding]


class MetricPublic(BaseModel):
    position: int
    name: str
    unit: str | None
    baseline: Decimal | None
    baseline_date: date | None
    ascending: bool
    indicator: IndicatorLink | None
    periods: list[MetricPeriod]



def metric_progress(connection: Connection, agreement_id: int, today: date) -> list[MetricPublic]:
    rows = connection.execute(select(METRIC).where(METRIC.c.agreement_id == agreement_id)
                              .order_by(METRIC.c.position)).mappings().all()
    return [_metric(connection, row, today) for row in rows]


def _metric(connection: Connection, row: Any, today: date) -> MetricPublic:
    indicator = _indicator(connection, row) if row["identifier_key"] else None
    link = None if row["identifier_key"] is None else IndicatorLink(
        iati_identifier=row["iati_identifier"], result=row["result_position"],
        indicator=row["indicator_position"], present=indicator is not None,
        title=indicator.title if indicator else None,
        measure=indicator.measure if indicator else None)
    targets = row["targets"] or []
    rows = IndicatorRows(
        result=row["result_position"] or 0, position=row["indicator_position"] or 0,
        measure=indicator.measure if indicator else "1",
        ascending=indicator.ascending if indicator else row["ascending"],
        title=row["name"], reference_codes=[],
        baselines=_baselines(row, indicator),
        periods=[_period(number, target, indicator)
                 for number, target in enumerate(targets, start=1)],
    )
    periods = [
        MetricPeriod(
            period_start=date.fromisoformat(target["period_start"]),
            period_end=date.fromisoformat(target["period_end"]),
            target=Decimal(target["value"]), actual=evaluated.actual,
            actual_value=evaluated.actual_text,
            baseline_value=evaluated.baseline.value if evaluated.baseline else None,
            progress_percent=evaluated.progress_percent, progress_state=evaluated.state,
            on_track=evaluated.on_track if evaluated.measurable else None,
            in_means=evaluated.measurable and not evaluated.doubtful,
            findings=evaluated.findings,
        )
        for target, evaluated in zip(targets, evaluate(rows, today=today), strict=True)
    ]
    return MetricPublic(
        position=row["position"], name=row["name"], unit=row["unit"],
        baseline=row["baseline"], baseline_date=row["baseline_date"],
        ascending=rows.ascending is not False, indicator=link, periods=periods)


def _baselines(row: Any, indicator: IndicatorRows | None) -> list[dict[str, Any]]:
    if row["baseline"] is not None:
        given = row["baseline_date"]
        return [{"value": format(row["baseline"], "f"),
                 "iso_date": given.isoformat() if given else None,
                 "year": given.year if given else None}]
    return list(indicator.baselines) if indicator else []


def _period(number: int, target: dict[str, Any], indicator: IndicatorRows | None) -> PeriodRows:
    start = date.fromisoformat(target["period_start"])
    end = date.fromisoformat(target["period_end"])
    matched = _matching(indicator.periods, start, end) if indicator else None
    return PeriodRows(number, start, end, [{"value": target["value"]}],
                      list(matched.actuals) if matched else [])


def _matching(periods: Sequence[PeriodRows], start: date, end: date) -> PeriodRows | None:
    """The indicator period whose actual a target period reads (see the module)."""
    same = [p for p in periods if (p.period_start, p.period_end) == (start, end)]
    if same:
        return same[0]
    within = [p for p in periods if p.actuals and p.period_start and p.period_end
              and start <= p.period_start and p.period_end <= end]
    return max(within, key=lambda p: p.period_end or date.min) if within else None


def _indicator(connection: Connection, row: Any) -> IndicatorRows | None:
    """The linked indicator of a live activity, with its periods, if published."""
    found = connection.execute(
        select(INDICATOR.c.id, INDICATOR.c.measure, INDICATOR.c.ascending, INDICATOR.c.title,
               INDICATOR.c.reference_codes, INDICATOR.c.baselines)
        .join(RESULT, RESULT.c.id == INDICATOR.c.result_id)
        .join(ACTIVITY, ACTIVITY.c.id == INDICATOR.c.activity_id)
        .where(ACTIVITY.c.identifier_key == row["identifier_key"],
               ACTIVITY.c.deleted_at.is_(None),
               RESULT.c.position == row["result_position"],
               INDICATOR.c.position == row["indicator_position"])
    ).mappings().first()
    if found is None:
        return None
    periods = [
        PeriodRows(period["position"], period["period_start"], period["period_end"],
                   period["targets"] or [], period["actuals"] or [])
        for period in connection.execute(
            select(PERIOD).where(PERIOD.c.indicator_id == found["id"])
            .order_by(PERIOD.c.position)).mappings()
    ]
    return IndicatorRows(
        result=row["result_position"], position=row["indicator_position"],
        measure=found["measure"], ascending=found["ascending"], title=found["title"],
        reference_codes=found["reference_codes"] or [], baselines=found["baselines"] or [],
        periods=periods)
