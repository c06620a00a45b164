"""How far each indicator period has come towards its target, and what is wrong with the
results data, from an indicator's stored rows (pure: no database).

Values. A target, actual or baseline value is a number when it is spelt as one
(`service.services.results.values`: ``130,000.00``, ``88.8%``); anything else is kept as
text only. A period's target (actual) is its one target (actual) without a
dimension or location, else its only one; disaggregated values are listed, not added up.
The baseline of a period is the indicator's baseline dated (iso-date, else 1 January of
its year) nearest on or before the period's start; an undated one serves when no dated one
does; baselines without dimension or location are preferred.

Progress. Only quantitative measures (IndicatorMeasure 1 unit, 2 percentage, 3 nominal)
have one; ordinal (4) and qualitative (5) values are shown as text. With a baseline that
differs from the target, progress = (actual − baseline) / (target − baseline) × 100, which
holds for descending indicators too (the target lies below the baseline). Without one (or
when it equals the target): actual / target × 100, or, for a descending indicator
(``ascending="0"``: lower is better), target / actual × 100; no progress when the divisor is
zero. An indicator without @ascending is ascending. Decimal throughout, rounded to one
decimal place, halves away from zero. A period is
on track when its progress is at least `ON_TRACK` (100 %: the target is met).

Doubtful progress. Progress beyond ±`PLAUSIBLE` (1,000 %), or computed from a value whose
comma could be a decimal separator and would then give another progress
(`values.could_be_decimal`, judged against the other numbers of the computation), is
shown with a finding and left out of means (`DOUBTFUL`); medians keep it.

Progress state. `measured`: the period has a progress. `no-progress-report`: it has a
target and no actual — nothing reported yet, which is not a failure to reach the target.
`not-measurable`: anything else (qualitative or text values, no target, a zero divisor).

Findings (stable codes, each with the result's, indicator's and period's position):
`results.target-without-actual` a period ended before today with a target and no actual;
`results.actual-without-target`; `results.no-baseline` a quantitative indicator with no
baseline value; `results.not-a-number` a quantitative value that is not a number;
`results.unit-changed` an indicator's numbers spelt with ``%`` in some places and without
in others, or indicators of one result with the same title or reference and different
measures; `results.unknown-measure` a measure that is not an IndicatorMeasure code;
`results.progress-out-of-range` progress beyond ±1,000 %; `results.ambiguous-comma` a
value whose comma could be a decimal separator, giving another progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from service.services.results.values import Reading, could_be_decimal, read_value

QUANTITATIVE = frozenset({"1", "2", "3"})  # IndicatorMeasure: unit, percentage, nominal
MEASURES = QUANTITATIVE | {"4", "5"}  # and ordinal, qualitative
PRECISION = Decimal("0.1")
ON_TRACK = Decimal(100)
HUNDRED = Decimal(100)
PLAUSIBLE = Decimal(1000)  # progress beyond ± this is doubtful
OUT_OF_RANGE, AMBIGUOUS_COMMA = "results.progress-out-of-range", "results.ambiguous-comma"
DOUBTFUL = frozenset({OUT_OF_RANGE, AMBIGUOUS_COMMA})  # their periods are left out of means
MESSAGES = {
    "results.target-without-actual": "The period ended on {actual} with a target and no actual.",
    "results.actual-without-target": "The period has an actual and no target.",
    "results.no-baseline": "The indicator is quantitative and has no baseline value.",
    "results.not-a-number": "The value {actual!r} of a quantitative indicator is not a number.",
    "results.unit-changed": "The indicator's unit changes: {actual}.",
    "results.unknown-measure": "The measure {actual!r} is not an IndicatorMeasure code.",
    OUT_OF_RANGE: "Progress of {actual} % is beyond ±1,000 %: it is left out of means.",
    AMBIGUOUS_COMMA: "A comma could be a decimal separator: {actual}. The period is left out "
                     "of means.",
}


class ProgressState(StrEnum):
    measured = "measured"
    no_progress_report = "no-progress-report"  # a target, no actual
    not_measurable = "not-measurable"


@dataclass(frozen=True, slots=True)
class PeriodRows:
    position: int
    period_start: date | None
    period_end: date | None
    targets: Sequence[dict[str, Any]]
    actuals: Sequence[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class IndicatorRows:
    """An indicator as stored: its result's and its own position, measure, baselines and
    periods (in order)."""

    result: int
    position: int
    measure: str | None
    ascending: bool | None
    title: str | None
    reference_codes: Sequence[dict[str, Any]]
    baselines: Sequence[dict[str, Any]]
    periods: Sequence[PeriodRows]


class ResultFinding(BaseModel):
    code: str
    message: str
    result: int
    indicator: int
    period: int | None = None
    actual: str | None = None


class BaselineShown(BaseModel):
    year: int | None
    iso_date: date | None
    value: str | None


class PeriodProgress(BaseModel):
    """One period evaluated: values as published and as numbers, progress, findings."""

    position: int
    baseline: BaselineShown | None
    target: Decimal | None
    actual: Decimal | None
    target_text: str | None
    actual_text: str | None
    progress_percent: Decimal | None
    findings: list[ResultFinding]

    @property
    def measurable(self) -> bool:
        return self.progress_percent is not None

    @property
    def state(self) -> ProgressState:
        if self.progress_percent is not None:
            return ProgressState.measured
        if self.target_text and not self.actual_text:
            return ProgressState.no_progress_report
        return ProgressState.not_measurable

    @property
    def doubtful(self) -> bool:
        """Whether the progress is left out of means (see the module)."""
        return any(f.code in DOUBTFUL for f in self.findings)

    @property
    def on_track(self) -> bool:
        return self.progress_percent is not None and self.progress_percent >= ON_TRACK


def finding(code: str, rows: IndicatorRows, period: int | None = None,
            actual: Any = None) -> ResultFinding:
    shown = None if actual is None else str(actual)
    return ResultFinding(
        code=code, message=MESSAGES[code].format(actual=shown), result=rows.result,
        indicator=rows.position, period=period, actual=shown,
    )


def evaluate(rows: IndicatorRows, *, today: date,
             siblings: Iterable[IndicatorRows] = ()) -> list[PeriodProgress]:
    """Each period of the indicator; indicator-wide findings are given with every period.

    `siblings`: the other indicators of the same result (for `results.unit-changed`)."""
    shared = indicator_findings(rows, siblings)
    return [_period(rows, period, shared, today) for period in rows.periods]


def indicator_findings(
    rows: IndicatorRows, siblings: Iterable[IndicatorRows] = ()
) -> list[ResultFinding]:
    found: list[ResultFinding] = []
    if rows.measure not in MEASURES:
        found.append(finding("results.unknown-measure", rows, actual=rows.measure or ""))
    quantitative = rows.measure in QUANTITATIVE
    if quantitative and not any(b.get("value") not in (None, "") for b in rows.baselines):
        found.append(finding("results.no-baseline", rows))
    units = {r.unit for r in _readings(rows) if r.number is not None}
    if quantitative and len(units) > 1:
        found.append(finding("results.unit-changed", rows, actual="numbers with and without %"))
    measures = {other.measure for other in siblings if _same(rows, other)} - {rows.measure}
    if measures:
        found.append(finding(
            "results.unit-changed", rows,
            actual=f"measure {rows.measure} here, {', '.join(sorted(map(str, measures)))} in "
            "an indicator of the same result with the same title or reference",
        ))
    return found


def _period(rows: IndicatorRows, period: PeriodRows, shared: list[ResultFinding],
            today: date) -> PeriodProgress:
    target, actual = read_value(headline(period.targets)), read_value(headline(period.actuals))
    baseline = nearest_baseline(rows.baselines, period)
    quantitative = rows.measure in QUANTITATIVE
    base = read_value(baseline.value) if baseline is not None else Reading(None)
    progress = None
    if quantitative and target.number is not None and actual.number is not None:
        progress = progress_percent(target.number, actual.number, base.number,
                                    descending=rows.ascending is False)
    found = list(shared)
    if progress is not None:
        found += _doubts(rows, period.position, (base, target, actual), progress)
    if quantitative:
        found += [
            finding("results.not-a-number", rows, period.position, reading.text)
            for reading in (base, target, actual)
            if reading.text not in (None, "") and reading.number is None
        ]
    if target.text and not actual.text and period.period_end and period.period_end < today:
        found.append(finding("results.target-without-actual", rows, period.position,
                             period.period_end.isoformat()))
    if actual.text and not target.text:
        found.append(finding("results.actual-without-target", rows, period.position))
    return PeriodProgress(
        position=period.position, baseline=baseline,
        target=target.number if quantitative else None,
        actual=actual.number if quantitative else None,
        target_text=target.text, actual_text=actual.text, progress_percent=progress,
        findings=found,
    )


def _doubts(rows: IndicatorRows, position: int, readings: tuple[Reading, Reading, Reading],
            progress: Decimal) -> list[ResultFinding]:
    """The findings that leave the period's `progress` out of means: beyond ±`PLAUSIBLE`,
    or another progress should a comma be a decimal separator. `readings`: the baseline,
    target and actual, whose target and actual are numbers."""
    found = []
    if abs(progress) > PLAUSIBLE:
        found.append(finding(OUT_OF_RANGE, rows, position, progress))
    numbers = [reading.number for reading in readings]
    for index, reading in enumerate(readings):
        if not could_be_decimal(reading, numbers[:index] + numbers[index + 1:]):
            continue
        base, target, actual = (reading.decimal_comma if n == index else number
                                for n, number in enumerate(numbers))
        otherwise = progress_percent(target or Decimal(0), actual or Decimal(0), base,
                                     descending=rows.ascending is False)
        if otherwise != progress:
            spelt = (reading.text or "").strip()
            found.append(finding(AMBIGUOUS_COMMA, rows, position, (
                f"{spelt!r} read as {reading.number} gives {progress} %, read as "
                f"{reading.decimal_comma} {_gives(otherwise)}")))
    return found


def _gives(progress: Decimal | None) -> str:
    return "gives no progress" if progress is None else f"gives {progress} %"


def progress_percent(target: Decimal, actual: Decimal, baseline: Decimal | None, *,
                     descending: bool = False) -> Decimal | None:
    """The progress rule of the module docstring, rounded to `PRECISION`."""
    if baseline is not None and baseline != target:
        share = (actual - baseline) / (target - baseline)
    elif descending:
        if actual == 0:
            return None
        share = target / actual
    else:
        if target == 0:
            return None
        share = actual / target
    return rounded(share * HUNDRED)


def rounded(value: Decimal) -> Decimal:
    """`value` to `PRECISION`, halves away from zero, never a negative zero."""
    found = value.quantize(PRECISION, rounding=ROUND_HALF_UP)
    return abs(found) if found == 0 else found


def headline(values: Sequence[dict[str, Any]]) -> str | None:
    """The value of the one target (actual) without dimension or location, else of the
    only one."""
    plain = [v for v in values if not v.get("dimensions") and not v.get("locations")]
    chosen = plain if len(plain) == 1 else values if len(values) == 1 else []
    return chosen[0].get("value") if chosen else None


def nearest_baseline(
    baselines: Sequence[dict[str, Any]], period: PeriodRows
) -> BaselineShown | None:
    plain = [b for b in baselines if not b.get("dimensions") and not b.get("locations")]
    start = period.period_start or period.period_end or date.max
    dated = [(_dated(b), b) for b in plain or baselines]
    before = [(day, b) for day, b in dated if day is None or day <= start]
    if not before:
        return None
    _, chosen = max(before, key=lambda pair: pair[0] or date.min)
    iso = chosen.get("iso_date")
    return BaselineShown(year=chosen.get("year"), value=chosen.get("value"),
                         iso_date=date.fromisoformat(iso) if iso else None)


def _dated(baseline: dict[str, Any]) -> date | None:
    if baseline.get("iso_date"):
        return date.fromisoformat(baseline["iso_date"])
    year = baseline.get("year")
    return date(year, 1, 1) if isinstance(year, int) and 1 <= year <= 9999 else None


def _readings(rows: IndicatorRows) -> Iterable[Reading]:
    for baseline in rows.baselines:
        yield read_value(baseline.get("value"))
    for period in rows.periods:
        for value in (*period.targets, *period.actuals):
            yield read_value(value.get("value"))


def _same(rows: IndicatorRows, other: IndicatorRows) -> bool:
    if other.position == rows.position:
        return False
    title = (rows.title or "").strip().casefold()
    if title and title == (other.title or "").strip().casefold():
        return True
    mine = {(r.get("vocabulary"), r.get("code")) for r in rows.reference_codes if r.get("code")}
    return bool(mine & {(r.get("vocabulary"), r.get("code")) for r in other.reference_codes})
