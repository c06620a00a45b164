"""Results rolled up by donor, sector, province or national plan objective.

Grouped by `reporting_org`, each activity counts under its reporting organisation. Grouped
by `sector` or `province`, an activity counts under every code its latest budget view puts
some of its money in (the DAC sectors and Ecuador's classifications, as the budget views
map them); a part no crosswalk could classify counts under a null code, and so does an
activity without money. Groups therefore overlap: an activity's indicators are not split,
each group counts all of them. Grouped by `plan_objective`, each period counts under the
objectives its activity's view puts money in that belong to the national development plan
in force on the period's end (else its start; `mappings.plans.plan_in_force`), and under a
null code when there are none — no plan in force then, a plan whose objectives are not
loaded, or money only in another plan's objectives. Every group lists its activities'
identifiers, and its figures are those of the rows `GET /api/v1/results` gives for them.

Means leave out the periods whose progress a finding doubts (`progress.DOUBTFUL`: beyond
±1,000 %, or a comma that could be a decimal separator), and say how many; medians keep
them. Periods with a target and no actual are counted apart, as having no progress report
(with their indicators), not as periods off target.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Engine, select

from mappings.plans import plan_in_force
from mappings.tables import Classification
from service.services.budget.storage import CURRENT
from service.services.following import matching
from service.services.memo import remembered
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, live
from service.services.results.listing import RESULTS, ResultFilter, ResultRow, every_result
from service.services.results.progress import ON_TRACK, PLAUSIBLE, ProgressState, rounded


class ResultGroupBy(StrEnum):
    reporting_org = "reporting_org"
    sector = "sector"
    province = "province"
    plan_objective = "plan_objective"


class ResultGroup(BaseModel):
    """One group: how many activities, indicators and periods, how far they have come, and
    how many findings of each code (each finding once, however many periods repeat it).

    `mean_progress_percent` is over the measurable periods less `left_out_of_mean` (those
    whose progress a finding doubts); `median_progress_percent` over all measurable ones.
    `no_progress_report_periods`: periods with a target and no actual; its indicators are
    those with a target and no actual in any of the group's periods."""

    code: str | None
    activities: int
    indicators: int
    periods: int
    measurable_periods: int
    left_out_of_mean: int
    mean_progress_percent: Decimal | None
    median_progress_percent: Decimal | None
    on_track_periods: int
    no_progress_report_periods: int
    no_progress_report_indicators: int
    findings: dict[str, int]
    iati_identifiers: list[str]


class ResultSummary(BaseModel):
    group_by: ResultGroupBy
    on_track_percent: Decimal  # a period is on track at this progress or more
    plausible_percent: Decimal  # progress beyond ± this is left out of means
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
    members: dict[str | None, list[ResultRow]] = defaultdict(list)
    for identifier, codes in _codes(engine, group_by, set(by_activity)).items():
        for row in by_activity[identifier]:
            for code in (_in_force(codes, row) if group_by is ResultGroupBy.plan_objective
                         else codes):
                members[code].append(row)
    groups = [_group(code, rows) for code, rows in members.items()]
    groups.sort(key=lambda group: (group.code is None, group.code or ""))
    return ResultSummary(group_by=group_by, on_track_percent=ON_TRACK,
                         plausible_percent=PLAUSIBLE, groups=groups)


def _in_force(codes: set[str | None], row: ResultRow) -> set[str | None]:
    """The objectives among `codes` of the plan in force on the period's end (else start);
    none: the null code."""
    on = row.period_end or row.period_start
    plan = plan_in_force(on) if on is not None else None
    found: set[str | None] = {code for code in codes if plan and code in plan.objectives}
    return found or {None}


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


def _group(code: str | None, rows: Sequence[ResultRow]) -> ResultGroup:
    identifiers = sorted({row.iati_identifier for row in rows})
    progress = [row.progress_percent for row in rows if row.progress_percent is not None]
    counted = [row.progress_percent for row in rows
               if row.progress_percent is not None and row.in_means]
    unreported = [row for row in rows if row.progress_state is ProgressState.no_progress_report]
    return ResultGroup(
        code=code, activities=len(identifiers), indicators=len({_indicator(r) for r in rows}),
        periods=len(rows), measurable_periods=len(progress),
        left_out_of_mean=len(progress) - len(counted),
        mean_progress_percent=_rounded(sum(counted, Decimal(0)) / max(len(counted), 1), counted),
        median_progress_percent=_rounded(statistics.median(progress or [Decimal(0)]), progress),
        on_track_periods=sum(1 for row in rows if row.on_track),
        no_progress_report_periods=len(unreported),
        no_progress_report_indicators=len({_indicator(r) for r in unreported} - {
            _indicator(r) for r in rows if r.actual_value}),
        findings=dict(sorted(_findings(rows).items())), iati_identifiers=identifiers,
    )


def _indicator(row: ResultRow) -> tuple[str, int, int]:
    return row.iati_identifier, row.result_position, row.indicator_position


def _findings(rows: Iterable[ResultRow]) -> Counter[str]:
    distinct = {
        (row.iati_identifier, f.code, f.result, f.indicator, f.period)
        for row in rows for f in row.findings
    }
    return Counter(code for _, code, *_ in distinct)


def _rounded(value: Decimal, progress: list[Decimal]) -> Decimal | None:
    """`value` rounded; None when no period is measurable."""
    return rounded(value) if progress else None
