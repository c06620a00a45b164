"""Aggregates of the Ecuador budget views: money in US dollars, grouped and totalled.

Each amount of an activity (a transaction, a budget, a planned disbursement) is split in
its budget view over every Ecuadorian classification, each split summing to the amount
to the cent (unmapped parts included, under a null code). So a group by one
classification adds each amount once; with none, the amounts are read through the
`fuente` split, which every amount has. Two classifications cannot be crossed — the
views split amounts over each classification separately — and asking for that is a 400.

The activities counted are the live ones matching the query filters, through their
latest budget view. The total is the sum of the listed rows, to the cent. Sums are made
by PostgreSQL (NUMERIC) there, and in Python on SQLite, which keeps amounts as text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Connection

from mappings.amounts import Measure
from mappings.tables import Classification
from service.errors import DomainError
from service.services.budget.storage import FIGURE, VIEW
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions
from service.services.traceability import Basis, counted_once, matching

BASE = Classification.fuente  # the split read when no classification is grouped by


class GroupBy(StrEnum):
    reporting_org = "reporting_org"
    year = "year"
    measure = "measure"
    income_item = "income_item"
    expenditure_item = "expenditure_item"
    fuente = "fuente"
    orientacion = "orientacion"
    province = "province"
    canton = "canton"
    investment_subsector = "investment_subsector"
    plan_objective = "plan_objective"


class CrossedClassificationsError(DomainError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "aggregates.crossed-classifications"
    title: ClassVar[str] = "Classifications cannot be crossed"


class AggregateRow(BaseModel):
    """One group: its values (null code: the part no crosswalk could classify), the
    money in US dollars, and how many activities it counts."""

    group: dict[str, str | int | None]
    amount_usd: Decimal
    activities: int


class Aggregates(BaseModel):
    group_by: list[str]
    measures: list[str]
    currency: str = "USD"
    rows: list[AggregateRow]
    total_usd: Decimal
    activities: int
    basis: Basis = Basis.gross


def aggregate(
    connection: Connection, chosen: ActivityFilter, *, group_by: Sequence[GroupBy],
    measures: Sequence[Measure], year_from: int | None = None, year_to: int | None = None,
    basis: Basis = Basis.gross,
) -> Aggregates:
    """The money of the matching activities' latest views, grouped by `group_by`; on the
    net `basis`, each flow counted once (see `service.services.traceability`)."""
    group_by = list(dict.fromkeys(group_by))
    classifications = [g for g in group_by if g.value in Classification.__members__]
    if len(classifications) > 1:
        raise CrossedClassificationsError(
            "Group by one Ecuadorian classification at a time: each amount is split over "
            "each classification separately, so two cannot be crossed.",
            group_by=[g.value for g in group_by],
        )
    split = Classification(classifications[0].value) if classifications else BASE
    keys = [_column(g) for g in group_by]
    conditions: list[ColumnElement[bool]] = [
        ACTIVITY.c.deleted_at.is_(None),
        *activity_conditions(chosen, dialect=connection.dialect.name),
        VIEW.c.id.in_(select(func.max(VIEW.c.id)).group_by(VIEW.c.activity_id)),
        FIGURE.c.classification == split.value,
        FIGURE.c.measure.in_([m.value for m in measures]),
    ]
    if year_from is not None:
        conditions.append(FIGURE.c.year >= year_from)
    if year_to is not None:
        conditions.append(FIGURE.c.year <= year_to)
    if basis is Basis.net:
        within = matching(chosen, dialect=connection.dialect.name)
        conditions.append(counted_once(VIEW.c.activity_id, FIGURE.c.location, within=within))
    base = (
        select(*keys, FIGURE.c.amount_usd, VIEW.c.activity_id)
        .join_from(FIGURE, VIEW, VIEW.c.id == FIGURE.c.view_id)
        .join(ACTIVITY, ACTIVITY.c.id == VIEW.c.activity_id)
        .where(*conditions)
    )
    names = [g.value for g in group_by]
    groups = (
        _summed_in_database(connection, base, len(keys))
        if connection.dialect.name == "postgresql" else _summed_here(connection, base, len(keys))
    )
    rows = [
        AggregateRow(group=dict(zip(names, key, strict=True)), amount_usd=amount,
                     activities=len(ids))
        for key, (amount, ids) in sorted(groups.items(), key=lambda item: _order(item[0]))
    ]
    counted = set().union(*(ids for _, ids in groups.values())) if groups else set()
    return Aggregates(
        group_by=names, measures=[m.value for m in measures], rows=rows,
        total_usd=sum((row.amount_usd for row in rows), Decimal(0)), activities=len(counted),
        basis=basis,
    )


Groups = dict[tuple[Any, ...], tuple[Decimal, set[int]]]


def _summed_here(connection: Connection, base: Select[Any], width: int) -> Groups:
    groups: dict[tuple[Any, ...], tuple[list[Decimal], set[int]]] = defaultdict(
        lambda: ([Decimal(0)], set())
    )
    result = connection.execution_options(stream_results=True, yield_per=5000).execute(base)
    for row in result:
        total, ids = groups[tuple(row[:width])]
        total[0] += row[width]
        ids.add(row[width + 1])
    return {key: (total[0], ids) for key, (total, ids) in groups.items()}


def _summed_in_database(connection: Connection, base: Select[Any], width: int) -> Groups:
    inner = base.subquery()
    keys = list(inner.c)[:width]
    by_activity = select(
        *keys, inner.c.activity_id, func.sum(inner.c.amount_usd).label("amount")
    ).group_by(*keys, inner.c.activity_id)
    groups: Groups = {}
    for row in connection.execute(by_activity):
        key = tuple(row[:width])
        total, ids = groups.get(key, (Decimal(0), set()))
        ids.add(row[width])
        groups[key] = (total + row[width + 1], ids)
    return groups


def _column(group: GroupBy) -> Any:
    if group is GroupBy.reporting_org:
        return ACTIVITY.c.reporting_org_ref.label("reporting_org")
    if group is GroupBy.year:
        return FIGURE.c.year
    if group is GroupBy.measure:
        return FIGURE.c.measure
    return FIGURE.c.code.label(group.value)


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, "" if value is None else value) for value in key)
