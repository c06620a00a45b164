"""What the scorecard reads from the store: each amount of the budget views once, with
its perimeter and disbursement channel, and per activity the few facts the indicators
need (tied status of transactions, budget types, result indicators, plan objectives,
completeness). Every amount is Ecuador's part, as the budget views keep it."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection

from mappings.amounts import Measure
from mappings.tables import Classification
from service.services.aggregates import BASE
from service.services.budget.storage import CURRENT
from service.services.coordination.decisions import not_excluded
from service.services.ledger import BUDGET, TRANSACTION
from service.services.push.storage import ACTIVITY
from service.services.quality import FLAGS
from service.services.query import ActivityFilter, activity_conditions
from service.services.results.listing import INDICATOR

LOCATION = re.compile(r"^([a-z-]+)\[(\d+)\]$")  # `transaction[3]`, `budget[1]`


@dataclass(frozen=True, slots=True)
class Amount:
    """Ecuador's part of one amount of an activity in one year, in US cents, with the
    codes of its receiver's perimeter and its disbursement channel (None: unplaced, or
    not published)."""

    activity: int
    donor: str | None
    kind: str  # `transaction`, `budget`, `planned-disbursement`
    position: int
    measure: Measure
    year: int
    cents: int
    perimeter: str | None
    channel: str | None


@dataclass(slots=True)
class Facts:
    """Per activity, what the indicators read besides the amounts."""

    identifiers: dict[int, str] = field(default_factory=dict)
    tied: dict[tuple[int, int], str | None] = field(default_factory=dict)
    budget_types: dict[tuple[int, int], str | None] = field(default_factory=dict)
    with_indicators: set[int] = field(default_factory=set)
    # (activity, year): cents of its disbursements and expenditure under a plan
    # objective, and cents under none.
    plan: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    # The quality page's completeness checks each activity passes or fails, in order.
    completeness: dict[int, tuple[bool, ...]] = field(default_factory=dict)


def amounts(
    connection: Connection, chosen: ActivityFilter, years: Sequence[int] | None,
) -> list[Amount]:
    """Every amount of the matching activities' latest views (in `years` when given),
    each once, read through the split every amount has, joined to its perimeter and
    disbursement channel (the same amount, measure and year)."""
    perimeter = CURRENT.alias("perimeter")
    channel = CURRENT.alias("channel")

    def joined(other: Any, classification: Classification) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = ((other.c.activity_id == CURRENT.c.activity_id)
                & (other.c.location == CURRENT.c.location)
                & (other.c.measure == CURRENT.c.measure)
                & (other.c.year == CURRENT.c.year)
                & (other.c.classification == classification.value))
        return condition

    statement = (
        select(CURRENT.c.activity_id, CURRENT.c.reporting_org_ref, CURRENT.c.location,
               CURRENT.c.measure, CURRENT.c.year, CURRENT.c.amount_cents,
               perimeter.c.code.label("perimeter"), channel.c.code.label("channel"))
        .select_from(CURRENT.outerjoin(perimeter, joined(perimeter, Classification.perimeter))
                     .outerjoin(channel, joined(channel, Classification.disbursement_channel)))
        .where(CURRENT.c.classification == BASE.value, *_matching(connection, chosen))
    )
    if years is not None:
        statement = statement.where(CURRENT.c.year.in_(sorted(set(years))))
    summed: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in connection.execute(statement):
        summed[(*tuple(row[:5]), row.perimeter, row.channel)] += row.amount_cents
    found = []
    for (activity, donor, location, measure, year, perimeter_code, channel_code), cents in (
            summed.items()):
        kind, position = _location(location)
        found.append(Amount(activity, donor, kind, position, Measure(measure), year, cents,
                            perimeter_code, channel_code))
    return found


def years_with_money(connection: Connection, chosen: ActivityFilter) -> list[int]:
    """The years in which the matching activities' views have money, in order."""
    statement = (select(CURRENT.c.year).where(CURRENT.c.classification == BASE.value,
                                              *_matching(connection, chosen))
                 .distinct().order_by(CURRENT.c.year))
    return list(connection.execute(statement).scalars())


def facts(connection: Connection, activities: Iterable[int], years: set[int]) -> Facts:
    """The facts of `activities` the indicators read (plan objectives in `years`)."""
    ids = sorted(set(activities))
    found = Facts()
    if not ids:
        return found
    kept = FLAGS.current(connection, None)
    for batch in _batches(ids):
        for activity, identifier in connection.execute(
                select(ACTIVITY.c.id, ACTIVITY.c.iati_identifier)
                .where(ACTIVITY.c.id.in_(batch))):
            found.identifiers[activity] = identifier
        for activity, position, tied in connection.execute(
                select(TRANSACTION.c.activity_id, TRANSACTION.c.position,
                       TRANSACTION.c.tied_status).where(TRANSACTION.c.activity_id.in_(batch))):
            found.tied[(activity, position)] = tied
        for activity, position, kind in connection.execute(
                select(BUDGET.c.activity_id, BUDGET.c.position, BUDGET.c.type)
                .where(BUDGET.c.activity_id.in_(batch))):
            found.budget_types[(activity, position)] = kind
        found.with_indicators.update(connection.execute(
            select(INDICATOR.c.activity_id).where(INDICATOR.c.activity_id.in_(batch))
            .distinct()).scalars())
        _plan(connection, batch, years, found.plan)
        placed = set(connection.execute(
            select(CURRENT.c.activity_id).where(
                CURRENT.c.activity_id.in_(batch),
                CURRENT.c.classification == Classification.province.value,
                CURRENT.c.code.is_not(None)).distinct()).scalars())
        for activity in batch:
            flags = kept.get(activity)
            own = tuple(bool(flag) for flag in flags[1]) if flags is not None else ()
            found.completeness[activity] = (*own, activity in placed)
    return found


def _plan(
    connection: Connection, batch: list[int], years: set[int],
    plan: dict[tuple[int, int], list[int]],
) -> None:
    statement = select(CURRENT.c.activity_id, CURRENT.c.year, CURRENT.c.code,
                       CURRENT.c.amount_cents).where(
        CURRENT.c.activity_id.in_(batch),
        CURRENT.c.classification == Classification.plan_objective.value,
        CURRENT.c.measure.in_([Measure.disbursement.value, Measure.expenditure.value]),
        CURRENT.c.year.in_(sorted(years)),
    )
    for activity, year, code, cents in connection.execute(statement):
        sums = plan.setdefault((activity, year), [0, 0])
        sums[0 if code is not None else 1] += cents


def _matching(connection: Connection, chosen: ActivityFilter) -> list[ColumnElement[bool]]:
    conditions = [not_excluded(CURRENT.c.activity_id)]  # confirmed duplicates count once
    matched = activity_conditions(chosen, dialect=connection.dialect.name)
    if matched:
        conditions.append(CURRENT.c.activity_id.in_(select(ACTIVITY.c.id).where(*matched)))
    return conditions


def _location(location: str) -> tuple[str, int]:
    found = LOCATION.match(location)
    if found is None:
        return location, 0
    return found.group(1), int(found.group(2))


def _batches(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
