"""Aggregates of the Ecuador budget views: money in US dollars, grouped and totalled.

Each amount of an activity (a transaction, a budget, a planned disbursement) is split in
its budget view over every Ecuadorian classification, each split summing to the amount
to the cent (unmapped parts included, under a null code; income ítems and fuentes of
off-budget money under the code `n/a`). So a group by one
classification adds each amount once; with none, the amounts are read through the
`fuente` split, which every amount has. Two classifications cannot be crossed — the
views split amounts over each classification separately — and asking for that is a 400;
but the `instrument` (grant, loan, …) and the `perimeter` (which public budget, if any,
the receiver's is) are one code per amount, so they cross with any grouping: each figure
read is joined to its amount's instrument and perimeter.

Grouped by DAC sector (`sector`, or its 3-digit `sector_category`), the amounts are read
through the view's sector split: the published DAC sectors' shares, transaction sectors
first, exactly as the investment subsectors are split. Grouped by `participating_org`,
each activity's amount is divided equally among its distinct participating organisations
of one role (implementing, 4, unless another is asked for), since IATI does not say
each one's share; the cents left over go by `mappings.money.split`'s rule, and an
activity without an organisation of that role counts under a null group. Grouped by
`participating_entry`, the same, among the registry entries those organisations are
linked to (one per Ecuadorian entity of the catalogue, whatever its spelling; the group's
value is the entry's id), so that an organisation published under several spellings is
one group.

The views hold Ecuador's part of each amount only, so an activity that is not for
Ecuador has none: the public pages' scope (`ActivityFilter.ecuador`) asks nothing more of
them. The activities counted are the live ones matching the query filters, through the figures
of their latest budget view (`current_figure`, see `service.models.budget.CurrentFigure`),
less the duplicates the ministry confirmed (see `service.services.coordination.decisions`).
Amounts are added up by the database in whole cents, exactly; the total is the sum of the
listed rows, to the cent. With one grouping (see `service.services.figures.grouped`), the
groups are added up from the figures kept of every live activity instead, which give the
same cents.

The security lens (`mappings.lenses`) reads the sector split too: grouped by `lens`, each
amount's part in a counted DAC sector is `security`, the rest (no DAC sector included)
`development`, so the two add up to the total to the cent; the `lens` filter keeps one
side. Like the sector, the lens cannot cross another Ecuadorian classification (a province,
a fuente): only the attributes, the year, the donor and the partners.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, case, func, or_, select, tuple_
from sqlalchemy.engine import Connection

from mappings import tables
from mappings.amounts import Measure
from mappings.lenses import Lens, security_lens
from mappings.tables import Classification
from service.errors import DomainError
from service.services import figures
from service.services.budget.storage import CURRENT
from service.services.coordination.decisions import not_excluded
from service.services.memo import remembered
from service.services.placeholders import Placeholder, placeholders
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT, ActivityFilter, activity_conditions
from service.services.streaming import summed
from service.services.traceability import Basis, counted_once, counted_twice, matching

BASE = Classification.fuente  # the split read when no classification is grouped by
IMPLEMENTING = "4"  # OrganisationRole: the default role of `participating_org` groups


class GroupBy(StrEnum):
    reporting_org = "reporting_org"
    participating_org = "participating_org"
    participating_entry = "participating_entry"
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
    instrument = "instrument"
    perimeter = "perimeter"
    disbursement_channel = "disbursement_channel"
    lens = "lens"


# The groupings by a classification that is an attribute of each amount (one code per
# amount, never a split): they cross freely with the split read, joined amount by amount.
ATTRIBUTES = frozenset(GroupBy(c.value) for c in tables.ATTRIBUTES)
# The groupings that share each activity's amount among its participating organisations:
# as published, or by the registry entry each is linked to.
PARTNERS = (GroupBy.participating_org, GroupBy.participating_entry)
# The groupings read through the sector split besides the sector itself.
SECTOR_READ = (GroupBy.sector_category, GroupBy.lens)


class CrossedClassificationsError(DomainError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "aggregates.crossed-classifications"
    title: ClassVar[str] = "Classifications cannot be crossed"


class AggregateRow(BaseModel):
    """One group: its values (null code: the part no crosswalk could classify), the
    money in US dollars, and how many activities it counts. Grouped by
    `participating_org`, `placeholder` flags a partner that stands for no one
    organisation (`name`: "nan", "Unspecified Vendors - Ecuador"; `ref`: a ref given to
    unrelated organisations, such as a CRS channel category; see
    `service.services.placeholders`)."""

    group: dict[str, str | int | None]
    amount_usd: Decimal
    activities: int
    placeholder: Placeholder | None = None


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
    basis: Basis = Basis.gross, lens: Lens | None = None,
) -> Aggregates:
    """The money of the matching activities' latest views, grouped by `group_by`; on the
    net `basis`, each flow counted once (see `service.services.traceability`); of one side
    of the security `lens` when it is given. Kept until the store changes (see
    `service.services.memo`)."""
    group_by = list(dict.fromkeys(group_by))
    if all(partners in group_by for partners in PARTNERS):
        raise CrossedClassificationsError(
            "Group by participating_org or participating_entry, not both: each shares an "
            "activity's amount among its organisations.", group_by=[g.value for g in group_by])
    chosen = replace(chosen, ecuador=False)  # the views hold Ecuador's part only
    key = ("aggregate", repr(chosen), tuple(group_by), tuple(measures), year_from, year_to,
           participating_org_role, basis, lens)
    return remembered(connection, key, lambda: _computed(
        connection, chosen, group_by=group_by, measures=measures, year_from=year_from,
        year_to=year_to, participating_org_role=participating_org_role, basis=basis,
        lens=lens,
    ))


def _computed(
    connection: Connection, chosen: ActivityFilter, *, group_by: list[GroupBy],
    measures: Sequence[Measure], year_from: int | None, year_to: int | None,
    participating_org_role: str, basis: Basis, lens: Lens | None = None,
) -> Aggregates:
    split_by = _split_read([g for g in group_by if g not in ATTRIBUTES], lens)
    joined = {g: CURRENT.alias(f"by_{g.value}") for g in group_by if g in ATTRIBUTES}
    keys = [joined[g].c.code.label(g.value) if g in joined else _column(g)
            for g in group_by if g not in PARTNERS]
    conditions: list[ColumnElement[bool]] = [
        CURRENT.c.classification == split_by.value,
        CURRENT.c.measure.in_([m.value for m in measures]),
        not_excluded(CURRENT.c.activity_id),  # the ministry's confirmed duplicates count once
    ]
    if lens is not None:
        conditions.append(_in_lens(lens))
    if year_from is not None:
        conditions.append(CURRENT.c.year >= year_from)
    if year_to is not None:
        conditions.append(CURRENT.c.year <= year_to)
    matched = activity_conditions(chosen, dialect=connection.dialect.name)
    if matched:
        conditions.append(CURRENT.c.activity_id.in_(select(ACTIVITY.c.id).where(*matched)))
    twice = _counted_once(connection, chosen) if basis is Basis.net else []
    conditions += twice
    names = [g.value for g in group_by]
    shared = next((g for g in group_by if g in PARTNERS), None)
    role = participating_org_role if shared is not None else None
    kept = None if twice or lens is not None else figures.grouped(
        connection, chosen, names, [m.value for m in measures], year_from, year_to, role)
    if kept is not None:  # the whole store's groups, looked up
        counted, activities = kept
        groups = [(key, _dollars(cents), count) for key, cents, count in counted]
    else:
        base = select(*keys, CURRENT.c.amount_cents, CURRENT.c.activity_id).select_from(
            _with_attributes(joined)).where(*conditions)
        by_activity = _by_activity(connection, base, len(keys))
        if shared is not None and role is not None:
            groups = _shared(by_activity, group_by.index(shared),
                             _partners(connection, base, role, shared))
        else:
            groups = [(key, _dollars(sum(cents.values())), len(cents))
                      for key, cents in by_activity.items()]
        activities = len(set().union(*by_activity.values()))
    rows = [AggregateRow(group=dict(zip(names, key, strict=True)), amount_usd=amount,
                         activities=count)
            for key, amount, count in sorted(groups, key=lambda group: _order(group[0]))]
    if GroupBy.participating_org in group_by:
        _flag_placeholders(connection, rows)
    return Aggregates(
        group_by=names, measures=[m.value for m in measures], participating_org_role=role,
        rows=rows, total_usd=sum((row.amount_usd for row in rows), Decimal(0)),
        activities=activities, basis=basis,
    )


def csv_columns(found: Aggregates) -> list[str]:
    """The CSV columns of `found`: its groupings, money and activities, and whether a
    partner is a placeholder when it is grouped by participating organisation."""
    flagged = ["placeholder"] if _flagged(found) else []
    return [*found.group_by, "amount_usd", "activities", *flagged]


def csv_rows(found: Aggregates) -> Iterator[dict[str, Any]]:
    """The CSV rows of `found`, in `csv_columns`."""
    flagged = _flagged(found)
    for row in found.rows:
        yield {**row.group, "amount_usd": row.amount_usd, "activities": row.activities,
               **({"placeholder": row.placeholder} if flagged else {})}


def _flagged(found: Aggregates) -> bool:
    """Whether `found`'s rows say if their partner is a placeholder."""
    return GroupBy.participating_org.value in found.group_by


def _flag_placeholders(connection: Connection, rows: list[AggregateRow]) -> None:
    """Flag the rows whose participating organisation is a placeholder."""
    partner = GroupBy.participating_org.value
    found = placeholders(connection, {str(row.group[partner]) for row in rows
                                      if row.group[partner] is not None})
    for row in rows:
        row.placeholder = found.get(str(row.group[partner]))


def _split_read(group_by: Sequence[GroupBy], lens: Lens | None = None) -> Classification:
    """The one split of the views that the groups are read from (the sector split for a
    side of the security `lens`)."""
    splits = {
        Classification.sector if g in SECTOR_READ else Classification(g.value)
        for g in group_by
        if g.value in Classification.__members__ or g in SECTOR_READ
    } | ({Classification.sector} if lens is not None else set())
    if len(splits) > 1:
        asked: dict[str, Any] = {"group_by": [g.value for g in group_by]}
        if lens is not None:
            asked["lens"] = lens.value
        raise CrossedClassificationsError(
            "Group by one classification (or DAC sector, or lens) at a time: each amount is "
            "split over each classification separately, so two cannot be crossed.", **asked)
    return splits.pop() if splits else BASE


def _with_attributes(joined: dict[GroupBy, Any]) -> Any:
    """The split's figures, each joined to its amount's figure in every attribute
    classification asked for (the same activity, amount, measure and year); a view made
    before the attributes existed gives null codes, so that no money is left out."""
    source: Any = CURRENT
    for group, other in joined.items():
        source = source.outerjoin(other, (other.c.activity_id == CURRENT.c.activity_id)
                             & (other.c.location == CURRENT.c.location)
                             & (other.c.measure == CURRENT.c.measure)
                             & (other.c.year == CURRENT.c.year)
                             & (other.c.classification == group.value))
    return source


# Per group, each activity's amount in it, in whole cents.
ByActivity = dict[tuple[Any, ...], dict[int, int]]


# Up to this many matched pairs, the figures the net basis leaves out are named in the
# statement itself; with more, each statement finds them (see `counted_once`).
NAMED_PAIRS = 5000


def _counted_once(connection: Connection, chosen: ActivityFilter) -> list[ColumnElement[bool]]:
    """The condition that leaves out, on the net basis, the figures that the activities
    matching `chosen` report twice; none if there are none.

    The matched pairs among all live activities are kept until the store changes (most
    often there is none); those of `chosen` are the pairs both of whose activities match
    it, which one indexed query tells."""
    every = remembered(connection, ("counted-twice",), lambda: counted_twice(connection))
    if not every:
        return []
    within = matching(chosen, dialect=connection.dialect.name)
    if len(every) > NAMED_PAIRS:
        return [counted_once(CURRENT.c.activity_id, CURRENT.c.location, within=within)]
    paired = {funder for funder, _, _ in every} | {implementer for _, _, implementer in every}
    matched = set(connection.execute(within.where(ACTIVITY.c.id.in_(paired))).scalars())
    twice = sorted({(funder, location) for funder, location, implementer in every
                    if funder in matched and implementer in matched})
    if not twice:
        return []
    return [tuple_(CURRENT.c.activity_id, CURRENT.c.location).not_in(twice)]


def _dollars(cents: int | Decimal) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _by_activity(connection: Connection, base: Select[Any], width: int) -> ByActivity:
    """Each activity's amount in each group, summed by the database; in Python if
    SQLite's sum would pass 64 bits (see `streaming.summed`)."""
    inner = base.subquery()
    keys = [*list(inner.c)[:width], inner.c.activity_id]
    groups: ByActivity = defaultdict(dict)
    for *key, activity, cents in summed(connection, keys, inner.c.amount_cents):
        groups[tuple(key)][activity] = cents
    return dict(groups)


def _partners(
    connection: Connection, base: Select[Any], role: str, by: GroupBy,
) -> dict[int, list[Any]]:
    """Each counted activity's (of `base`) distinct organisations of `role` (identifier,
    or name when it has none; or the registry entry it is linked to, `by` entry), sorted
    so that the shares' cents always go the same way."""
    counted = select(base.subquery().c.activity_id)
    name = func.coalesce(func.nullif(func.trim(PARTICIPANT.c.ref), ""), PARTICIPANT.c.name)
    key = PARTICIPANT.c.organisation_id if by is GroupBy.participating_entry else name
    statement = select(PARTICIPANT.c.activity_id, key).where(
        PARTICIPANT.c.role == role, PARTICIPANT.c.activity_id.in_(counted), name.is_not(None),
        key.is_not(None),
    )
    found: dict[int, set[Any]] = defaultdict(set)
    for activity, partner in connection.execute(statement):
        found[activity].add(partner)
    return {activity: sorted(partners) for activity, partners in found.items()}


def _shared(
    by_activity: ByActivity, position: int, partners: dict[int, list[Any]],
) -> list[tuple[tuple[Any, ...], Decimal, int]]:
    """Each amount divided equally among its activity's partners, at `position` of the key:
    per group, its money and activities. The cents left over go one each to the first
    partners, as `mappings.money.split` gives them for equal shares, in whole cents."""
    cents: dict[tuple[Any, ...], int] = defaultdict(int)
    activities: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for key, amounts in by_activity.items():
        for activity, whole in amounts.items():
            among = tuple(partners.get(activity, ()))
            for partner, share in figures.equal_shares(whole, among).items():
                group = (*key[:position], partner, *key[position:])
                cents[group] += share
                activities[group].add(activity)
    return [(group, _dollars(total), len(activities[group])) for group, total in cents.items()]


def _in_lens(lens: Lens) -> ColumnElement[bool]:
    """Whether a figure of the sector split is on the `lens` side (no DAC sector:
    development)."""
    counted = CURRENT.c.code.in_(sorted(security_lens().counted))
    return counted if lens is Lens.security else or_(CURRENT.c.code.is_(None), ~counted)


def _column(group: GroupBy) -> Any:
    if group is GroupBy.lens:
        return case((_in_lens(Lens.security), Lens.security.value),
                    else_=Lens.development.value).label(group.value)
    if group is GroupBy.sector_category:
        return func.substr(CURRENT.c.code, 1, 3).label(group.value)
    if group is GroupBy.reporting_org:
        return CURRENT.c.reporting_org_ref.label("reporting_org")
    if group is GroupBy.year:
        return CURRENT.c.year
    if group is GroupBy.measure:
        return CURRENT.c.measure
    return CURRENT.c.code.label(group.value)


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, "" if value is None else value) for value in key)
