"""Aggregates of the Ecuador budget views: money in US dollars, grouped and totalled.

Each amount of an activity (a transaction, a budget, a planned disbursement) is split in
its budget view over every Ecuadorian classification, each split summing to the amount
to the cent (unmapped parts included, under a null code). So a group by one
classification adds each amount once; with none, the amounts are read through the
`fuente` split, which every amount has. Two classifications cannot be crossed — the
views split amounts over each classification separately — and asking for that is a 400.

Grouped by DAC sector (`sector`, or its 3-digit `sector_category`), the amounts are read
through the view's sector split: the published DAC sectors' shares, transaction sectors
first, exactly as the investment subsectors are split. Grouped by `participating_org`,
each activity's amount is divided equally among its distinct participating organisations
of one role (implementing, 4, unless another is asked for), since IATI does not say
each one's share; the cents left over go by `mappings.money.split`'s rule, and an
activity without an organisation of that role counts under a null group.

The activities counted are the live ones matching the query filters, through their
latest budget view, less the duplicates the ministry confirmed (see
`service.services.coordination.decisions`). The total is the sum of the listed rows, to
the cent. Sums are made by PostgreSQL (NUMERIC) there, and in Python on SQLite, which
keeps amounts as text.
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
from mappings.money import split
from mappings.tables import Classification
from service.errors import DomainError
from service.services.budget.storage import FIGURE, VIEW
from service.services.coordination.decisions import not_excluded
from service.services.memo import remembered
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT, ActivityFilter, activity_conditions
from service.services.traceability import Basis, counted_once, matching

BASE = Classification.fuente  # the split read when no classification is grouped by
IMPLEMENTING = "4"  # OrganisationRole: the default role of `participating_org` groups


class GroupBy(StrEnum):
    reporting_org = "reporting_org"
    participating_org = "participating_org"
    sector = "sector"
    sector_category = "sector_category"
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
    participating_org_role: str | None = None
    currency: str = "USD"
    rows: list[AggregateRow]
    total_usd: Decimal
    activities: int
    basis: Basis = Basis.gross


def aggregate(
    connection: Connection, chosen: ActivityFilter, *, group_by: Sequence[GroupBy],
    measures: Sequence[Measure], year_from: int | None = None, year_to: int | None = None,
    participating_org_role: str = IMPLEMENTING,
    basis: Basis = Basis.gross,
) -> Aggregates:
    """The money of the matching activities' latest views, grouped by `group_by`; on the
    net `basis`, each flow counted once (see `service.services.traceability`). Kept until
    the store changes (see `service.services.memo`)."""
    group_by = list(dict.fromkeys(group_by))
    key = ("aggregate", repr(chosen), tuple(group_by), tuple(measures), year_from, year_to,
           participating_org_role, basis)
    return remembered(connection, key, lambda: _computed(
        connection, chosen, group_by=group_by, measures=measures, year_from=year_from,
        year_to=year_to, participating_org_role=participating_org_role, basis=basis,
    ))


def _computed(
    connection: Connection, chosen: ActivityFilter, *, group_by: list[GroupBy],
    measures: Sequence[Measure], year_from: int | None, year_to: int | None,
    participating_org_role: str, basis: Basis,
) -> Aggregates:
    split_by = _split_read(group_by)
    keys = [_column(g) for g in group_by if g is not GroupBy.participating_org]
    conditions: list[ColumnElement[bool]] = [
        ACTIVITY.c.deleted_at.is_(None),
        not_excluded(),  # the ministry's confirmed duplicates count once
        *activity_conditions(chosen, dialect=connection.dialect.name),
        VIEW.c.id.in_(select(func.max(VIEW.c.id)).group_by(VIEW.c.activity_id)),
        FIGURE.c.classification == split_by.value,
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
    summed = (_summed_in_database if connection.dialect.name == "postgresql" else _summed_here)
    by_activity = summed(connection, base, len(keys))
    role = None
    if GroupBy.participating_org in group_by:
        role = participating_org_role
        partners = _partners(connection, chosen, role)
        by_activity = _shared(by_activity, group_by.index(GroupBy.participating_org), partners)
    groups = {
        key: (sum(amounts.values(), Decimal(0)), set(amounts))
        for key, amounts in by_activity.items()
    }
    names = [g.value for g in group_by]
    rows = [
        AggregateRow(group=dict(zip(names, key, strict=True)), amount_usd=amount,
                     activities=len(ids))
        for key, (amount, ids) in sorted(groups.items(), key=lambda item: _order(item[0]))
    ]
    counted = set().union(*(ids for _, ids in groups.values())) if groups else set()
    return Aggregates(
        group_by=names, measures=[m.value for m in measures], participating_org_role=role,
        rows=rows, total_usd=sum((row.amount_usd for row in rows), Decimal(0)),
        activities=len(counted), basis=basis,
    )


def _split_read(group_by: Sequence[GroupBy]) -> Classification:
    """The one split of the views that the groups are read from."""
    splits = {
        Classification.sector if g is GroupBy.sector_category else Classification(g.value)
        for g in group_by
        if g.value in Classification.__members__ or g is GroupBy.sector_category
    }
    if len(splits) > 1:
        raise CrossedClassificationsError(
            "Group by one classification (or DAC sector) at a time: each amount is split "
            "over each classification separately, so two cannot be crossed.",
            group_by=[g.value for g in group_by],
        )
    return splits.pop() if splits else BASE


# Per group, each activity's amount in it.
ByActivity = dict[tuple[Any, ...], dict[int, Decimal]]


def _summed_here(connection: Connection, base: Select[Any], width: int) -> ByActivity:
    groups: ByActivity = defaultdict(dict)
    result = connection.execution_options(stream_results=True, yield_per=5000).execute(base)
    for row in result:
        amounts = groups[tuple(row[:width])]
        activity = row[width + 1]
        amounts[activity] = amounts.get(activity, Decimal(0)) + row[width]
    return dict(groups)


def _summed_in_database(connection: Connection, base: Select[Any], width: int) -> ByActivity:
    inner = base.subquery()
    keys = list(inner.c)[:width]
    by_activity = select(
        *keys, inner.c.activity_id, func.sum(inner.c.amount_usd).label("amount")
    ).group_by(*keys, inner.c.activity_id)
    groups: ByActivity = defaultdict(dict)
    for row in connection.execute(by_activity):
        groups[tuple(row[:width])][row[width]] = row[width + 1]
    return dict(groups)


def _partners(
    connection: Connection, chosen: ActivityFilter, role: str
) -> dict[int, list[str]]:
    """Each matching activity's distinct organisations of `role` (identifier, or name when
    it has none), sorted so that the shares' cents always go the same way."""
    matching = select(ACTIVITY.c.id).where(
        ACTIVITY.c.deleted_at.is_(None),
        *activity_conditions(chosen, dialect=connection.dialect.name),
    )
    name = func.coalesce(func.nullif(func.trim(PARTICIPANT.c.ref), ""), PARTICIPANT.c.name)
    statement = select(PARTICIPANT.c.activity_id, name).where(
        PARTICIPANT.c.role == role, PARTICIPANT.c.activity_id.in_(matching), name.is_not(None),
    )
    found: dict[int, set[str]] = defaultdict(set)
    for activity, partner in connection.execute(statement):
        found[activity].add(partner)
    return {activity: sorted(partners) for activity, partners in found.items()}


def _shared(by_activity: ByActivity, position: int, partners: dict[int, list[str]]) -> ByActivity:
    """Each amount divided equally among its activity's partners, at `position` of the key."""
    shared: ByActivity = defaultdict(dict)
    for key, amounts in by_activity.items():
        for activity, amount in amounts.items():
            among: list[str | None] = list(partners.get(activity, [])) or [None]
            parts = split(amount, [Decimal(1)] * len(among))
            for partner, part in zip(among, parts, strict=True):
                group = shared[(*key[:position], partner, *key[position:])]
                group[activity] = group.get(activity, Decimal(0)) + part
    return dict(shared)


def _column(group: GroupBy) -> Any:
    if group is GroupBy.sector_category:
        return func.substr(FIGURE.c.code, 1, 3).label(group.value)
    if group is GroupBy.reporting_org:
        return ACTIVITY.c.reporting_org_ref.label("reporting_org")
    if group is GroupBy.year:
        return FIGURE.c.year
    if group is GroupBy.measure:
        return FIGURE.c.measure
    return FIGURE.c.code.label(group.value)


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, "" if value is None else value) for value in key)
