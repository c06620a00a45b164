"""Results rolled up by donor, sector, province or national plan objective.

Grouped by `reporting_org`, each activity counts under its reporting organisation. Grouped
by `sector`, `province` or `plan_objective`, an activity counts under every code its latest
budget view puts some of its money in (the DAC sectors and Ecuador's classifications, as
the budget views map them); a part no crosswalk could classify counts under a null code, and
so does an activity without money. Groups therefore overlap: an activity's indicators are
not split, each group counts all of them. Every group lists its activities' identifiers, and
its figures are those of the rows `GET /api/v1/results` gives for the same filters.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Engine, select

from mappings.tables import Classification
from service.services.budget.storage import CURRENT
from service.services.following import matching
from service.services.memo import remembered
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, live
from service.services.results.listing import RESULTS, ResultFilter, ResultRow, every_result
from service.services.results.progress import ON_TRACK, rounded


class ResultGroupBy(StrEnum):
    reporting_org = "reporting_org"
    sector = "sector"
    province = "province"
    plan_objective = "plan_objective"


class ResultGroup(BaseModel):
    """One group: how many activities, indicators and periods, how far they have come, and
    how many findings of each code (each finding once, however many periods repeat it)."""

    code: str | None
    activities: int
    indicators: int
    periods: int
    measurable_periods: int
    mean_progress_percent: Decimal | None
    median_progress_percent: Decimal | None
    on_track_periods: int
    findings: dict[str, int]
    iati_identifiers: list[str]


class ResultSummary(BaseModel):
    group_by: ResultGroupBy
    on_track_percent: Decimal  # a period is on track at this progress or more
    groups: list[ResultGroup]


def summarise_results(
    engine: Engine, chosen: ActivityFilter, own: ResultFilter, *, group_by: ResultGroupBy,
    today: date,
) -> ResultSummary:
    """The matching periods (as `every_result` gives them), grouped (kept until the store
    changes: see `service.services.memo`)."""
    key = ("results", repr(chosen), repr(own), group_by, today)
    with engine.connect() as connection:
        return remembered(connection, key, lambda: _summarised(
            engine, chosen, own, group_by=group_by, today=today))


def _summarised(
    engine: Engine, chosen: ActivityFilter, own: ResultFilter, *, group_by: ResultGroupBy,
    today: date,
) -> ResultSummary:
    by_activity: dict[str, list[ResultRow]] = defaultdict(list)
    if own == ResultFilter():  # every period of the matching activities: kept ones
        with engine.connect() as connection:
            kept = matching(connection, RESULTS.current(connection, today), chosen)
        for rows in kept.values():
            by_activity[rows[0].iati_identifier] = rows
    else:
        for row in every_result(engine, chosen, own, today=today):
            by_activity[row.iati_identifier].append(row)
    members: dict[str | None, list[str]] = defaultdict(list)
    for identifier, codes in _codes(engine, group_by, set(by_activity)).items():
        for code in codes:
            members[code].append(identifier)
    groups = [
        _group(code, sorted(identifiers), by_activity)
        for code, identifiers in members.items()
    ]
    groups.sort(key=lambda group: (group.code is None, group.code or ""))
    return ResultSummary(group_by=group_by, on_track_percent=ON_TRACK, groups=groups)


def _codes(
    engine: Engine, group_by: ResultGroupBy, identifiers: set[str]
) -> dict[str, set[str | None]]:
    """The groups of each live activity (by identifier)."""
    if not identifiers:
        return {}
    found: dict[str, set[str | None]] = {identifier: set() for identifier in identifiers}
    with engine.connect() as connection:
        if group_by is ResultGroupBy.reporting_org:
            for identifier, ref in connection.execute(
                select(ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref)
                .where(live(ACTIVITY.c.id), ACTIVITY.c.iati_identifier.in_(identifiers))
            ):
                found[identifier].add(ref)
            return found
        for identifier, code in connection.execute(
            select(ACTIVITY.c.iati_identifier, CURRENT.c.code).distinct()
            .join_from(CURRENT, ACTIVITY, ACTIVITY.c.id == CURRENT.c.activity_id)
            .where(ACTIVITY.c.iati_identifier.in_(identifiers),
                   CURRENT.c.classification == Classification(group_by.value).value)
        ):
            found[identifier].add(code)
    return {identifier: codes or {None} for identifier, codes in found.items()}


def _group(
    code: str | None, identifiers: list[str], by_activity: dict[str, list[ResultRow]]
) -> ResultGroup:
    rows = [row for identifier in identifiers for row in by_activity[identifier]]
    progress = [row.progress_percent for row in rows if row.progress_percent is not None]
    return ResultGroup(
        code=code, activities=len(identifiers),
        indicators=len({(r.iati_identifier, r.result_position, r.indicator_position)
                        for r in rows}),
        periods=len(rows), measurable_periods=len(progress),
        mean_progress_percent=_rounded(
            sum(progress, Decimal(0)) / max(len(progress), 1), progress),
        median_progress_percent=_rounded(statistics.median(progress or [Decimal(0)]), progress),
        on_track_periods=sum(1 for row in rows if row.on_track),
        findings=dict(sorted(_findings(rows).items())), iati_identifiers=identifiers,
    )


def _findings(rows: Iterable[ResultRow]) -> Counter[str]:
    distinct = {
        (row.iati_identifier, f.code, f.result, f.indicator, f.period)
        for row in rows for f in row.findings
    }
    return Counter(code for _, code, *_ in distinct)


def _rounded(value: Decimal, progress: list[Decimal]) -> Decimal | None:
    """`value` rounded; None when no period is measurable."""
    return rounded(value) if progress else None
