"""The aid-effectiveness scorecard: per reporting organisation (donor) and overall, per
year, each indicator of `definitions` with its value, the money or activities behind its
numerator and denominator, and what data was missing.

An indicator that cannot be computed has no value (`value_percent` null) and says why
(`reason`); it never shows zero for want of data. Every amount is Ecuador's part of it,
as the budget views keep it (`service.services.ecuador`), in US dollars at the view's
rates; the activities are the live ones matching the filters, less the duplicates the
ministry confirmed, as in the aggregates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Connection

from service.services.effectiveness import definitions as d
from service.services.effectiveness.indicators import AHEAD, INDICATORS, IndicatorValue, Scope
from service.services.effectiveness.store import amounts, facts
from service.services.memo import remembered
from service.services.query import ActivityFilter

__all__ = ["IndicatorValue", "Scorecard", "ScorecardRow", "csv_columns", "csv_rows",
           "scorecard"]


class ScorecardRow(BaseModel):
    reporting_org: str | None  # None: every donor together
    overall: bool
    year: int
    activities: int  # with money (of any measure) in the year
    indicators: list[IndicatorValue]


class Scorecard(BaseModel):
    framework: str
    years: list[int]
    rows: list[ScorecardRow]


def scorecard(
    connection: Connection, chosen: ActivityFilter, *, years: Sequence[int] = (),
    codes: Sequence[str] = (), identifiers: bool = False,
) -> Scorecard:
    """The scorecard of the matching activities for `years` (every year they have money
    in, when none), with the indicators `codes` (all, when none); each indicator lists
    its activities' identifiers when `identifiers`. Kept until the store changes."""
    chosen = replace(chosen, ecuador=False)  # the views hold Ecuador's part only
    key = ("effectiveness", repr(chosen), tuple(sorted(set(years))), tuple(codes),
           identifiers)
    return remembered(connection, key, lambda: _computed(
        connection, chosen, sorted(set(years)), codes, identifiers))


def _computed(
    connection: Connection, chosen: ActivityFilter, years: list[int], codes: Sequence[str],
    identifiers: bool,
) -> Scorecard:
    wanted = {y + ahead for y in years for ahead in range(AHEAD + 1)} if years else None
    found = amounts(connection, chosen, sorted(wanted) if wanted is not None else None)
    shown = years or sorted({amount.year for amount in found})
    known = facts(connection, {a.activity for a in found if a.year in shown}, set(shown))
    chosen_codes = [c for c in d.BY_CODE if not codes or c in codes]
    rows = []
    for year in shown:
        current = [a for a in found if a.year == year]
        later = [a for a in found if year < a.year <= year + AHEAD]
        donors = sorted({a.donor for a in current}, key=lambda ref: (ref is None, ref or ""))
        for donor in donors:
            scope = Scope(donor, False, year, [a for a in current if a.donor == donor],
                           [a for a in later if a.donor == donor], 1, known, identifiers)
            rows.append(_row(scope, chosen_codes))
        if donors:
            rows.append(_row(Scope(None, True, year, current, later, len(donors), known,
                                    identifiers), chosen_codes))
    return Scorecard(framework=d.FRAMEWORK, years=shown, rows=rows)


def _row(scope: Scope, codes: list[str]) -> ScorecardRow:
    return ScorecardRow(
        reporting_org=scope.donor, overall=scope.overall, year=scope.year,
        activities=len(scope.activities),
        indicators=[INDICATORS[code](scope) for code in codes],
    )


def csv_columns() -> list[str]:
    """The scorecard's CSV columns: one row per donor, year and indicator."""
    return ["reporting_org", "year", "code", "framework_number", "name", "unit",
            "value_percent", "numerator", "denominator", "numerator_activities",
            "activities", "reason", "missing"]


def csv_rows(found: Scorecard) -> Iterator[dict[str, Any]]:
    """The CSV rows of `found`, in `csv_columns`."""
    for row in found.rows:
        for indicator in row.indicators:
            yield {
                "reporting_org": "(all)" if row.overall else row.reporting_org,
                "year": row.year, **indicator.model_dump(include=set(csv_columns())),
                "missing": "; ".join(indicator.missing),
            }
