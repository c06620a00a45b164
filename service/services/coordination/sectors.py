"""Donors meeting in a sector: in a province, or at national level where provinces are
unknown (the `sector-province` and `sector-national` overlap alerts).

Both come from the activities' latest Ecuador budget views: an activity is in a sector in
a year when its view's sector split gives it money (a figure) there that year, and in a
province when its province split does. The views split each amount over each
classification separately, so the pairing is per activity and year, never per amount.

`sector-province`: at least two reporting organisations (donors) in the same DAC sector
(5-digit code, or its 3-digit category) and the same province in the same years.
`sector-national`: where the province of some money is unknown (its province split gives
a null code: no location published, or none a crosswalk places), the activity is compared
at national level: at least two donors in the same sector and year, one of their
activities with money of unknown province that year. The others there, placed or not, are
listed with it, each with the provinces its money is in (null: unknown).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection

from mappings.tables import Classification
from service.services.budget.storage import CURRENT
from service.services.coordination.alerts import (
    OverlapAlert,
    OverlapKind,
    SectorLevel,
    Years,
    shown,
)
from service.services.coordination.features import Facts, in_years, usd
from service.services.query import ActivityFilter

# activity → code → year → measure → US dollars
Split = dict[int, dict[str | None, dict[int, dict[str, Decimal]]]]
ByYear = dict[int, dict[str, Decimal]]  # year → measure → US dollars
PROVINCE, SECTOR = Classification.province.value, Classification.sector.value


def _placed(classification: str, years: Years) -> list[ColumnElement[bool]]:
    """The current figures giving money to a code of `classification` in `years`."""
    return [CURRENT.c.classification == classification, CURRENT.c.code.is_not(None),
            CURRENT.c.amount_cents != 0, *in_years(years)]


def _unplaced(years: Years) -> list[ColumnElement[bool]]:
    """The current figures giving money to no known province in `years`."""
    return [CURRENT.c.classification == PROVINCE, CURRENT.c.code.is_(None),
            CURRENT.c.amount_cents != 0, *in_years(years)]


def _split(
    connection: Connection, ids: set[int], *where: ColumnElement[bool],
) -> Split:
    """The money of the figures meeting `where`, of the activities `ids`."""
    found: Split = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    statement = (
        select(CURRENT.c.activity_id, CURRENT.c.code, CURRENT.c.year, CURRENT.c.measure,
               func.sum(CURRENT.c.amount_cents))
        .where(*where)
        .group_by(CURRENT.c.activity_id, CURRENT.c.code, CURRENT.c.year, CURRENT.c.measure)
    )
    for activity, code, year, measure, cents in connection.execute(statement):
        if activity in ids:
            found[activity][code][year][measure] = usd(cents)
    return found


def _rolled(by_code: dict[str | None, ByYear], width: int) -> dict[str, ByYear]:
    """The split by code cut to `width` digits (3: DAC categories), amounts added."""
    rolled: dict[str, ByYear] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for code, by_year in by_code.items():
        for year, by_measure in by_year.items():
            for measure, amount in by_measure.items():
                rolled[(code or "")[:width]][year][measure] += amount
    return rolled


def _summed(by_year: ByYear, years: list[int]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for year in years:
        for measure, amount in by_year.get(year, {}).items():
            total[measure] += amount
    return dict(sorted(total.items()))


def _width(level: SectorLevel) -> int:
    return 3 if level is SectorLevel.sector_category else 5


def sector_province(
    connection: Connection, facts: dict[int, Facts], chosen: ActivityFilter,
    level: SectorLevel, years: Years,
) -> list[OverlapAlert]:
    """Donors meeting in one sector, province and year (see the module)."""
    provinces = _split(connection, set(facts), *_placed(PROVINCE, years))
    # Only the sectors of activities placed in a province can meet.
    placed = select(CURRENT.c.activity_id).where(*_placed(PROVINCE, years))
    sectors = _split(connection, set(provinces), *_placed(SECTOR, years),
                     CURRENT.c.activity_id.in_(placed)) if provinces else {}
    width = _width(level)
    wanted_provinces = set(chosen.classified.get(Classification.province) or ())
    # (sector, province) → year → activity ids
    meeting: dict[tuple[str, str], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for activity, by_province in provinces.items():
        by_sector = _wanted(_rolled(sectors.get(activity, {}), width), chosen)
        for province, province_years in by_province.items():
            if province is None or (wanted_provinces and province not in wanted_provinces):
                continue
            for sector, sector_years in by_sector.items():
                for year in set(province_years) & set(sector_years):
                    meeting[(sector, province)][year].add(activity)
    alerts = []
    for (sector, province), by_year in sorted(meeting.items()):
        shared = _shared_years(facts, by_year)
        if not shared:
            continue
        ids = set().union(*(by_year[y] for y in shared))
        listed = [
            shown(facts[i], shared, province_usd=_summed(provinces[i][province], shared),
                  sector_usd=_summed(_rolled(sectors[i], width)[sector], shared))
            for i in sorted(ids)
        ]
        alerts.append(OverlapAlert(
            kind=OverlapKind.sector_province, sector=sector, province=province, years=shared,
            donors=sorted({a.reporting_org or "" for a in listed}), activities=listed,
        ))
    return alerts


def sector_national(
    connection: Connection, facts: dict[int, Facts], chosen: ActivityFilter,
    level: SectorLevel, years: Years,
) -> list[OverlapAlert]:
    """Donors meeting in one sector and year where provinces are unknown (see the module):
    one alert per sector, over the years they meet."""
    unknown: dict[int, set[int]] = defaultdict(set)  # year → activities of unknown province
    for activity, by_code in _split(connection, set(facts), *_unplaced(years)).items():
        for year in by_code[None]:
            unknown[year].add(activity)
    if not unknown:
        return []
    sectors = _split(connection, set(facts), *_placed(SECTOR, years),
                     CURRENT.c.year.in_(sorted(unknown)))
    width = _width(level)
    meeting: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for activity, by_code in sectors.items():
        for sector, sector_years in _wanted(_rolled(by_code, width), chosen).items():
            for year in sector_years:
                meeting[sector][year].add(activity)
    alerts = []
    for sector, in_year in sorted(meeting.items()):
        shared = _shared_years(facts, {year: ids for year, ids in in_year.items()
                                       if ids & unknown[year]})
        if not shared:
            continue
        ids = sorted({i for year in shared for i in in_year[year]})
        placed = _provinces(connection, ids, shared)
        listed = [shown(facts[i], shared, provinces=placed[i],
                        sector_usd=_summed(_rolled(sectors[i], width)[sector], shared))
                  for i in ids]
        alerts.append(OverlapAlert(
            kind=OverlapKind.sector_national, sector=sector, years=shared,
            donors=sorted({a.reporting_org or "" for a in listed}), activities=listed,
        ))
    return alerts


def _wanted(by_sector: dict[str, ByYear], chosen: ActivityFilter) -> dict[str, ByYear]:
    """The sectors the filters ask for (`sector`, by prefix), all when none."""
    wanted = tuple(chosen.sector)
    return {sector: by_year for sector, by_year in by_sector.items()
            if not wanted or sector.startswith(wanted)}


def _shared_years(facts: dict[int, Facts], by_year: dict[int, set[int]]) -> list[int]:
    """The years in which activities of two donors or more meet."""
    return sorted(year for year, ids in by_year.items()
                  if len({facts[i].reporting_org for i in ids}) > 1)


def _provinces(
    connection: Connection, ids: list[int], years: list[int]
) -> dict[int, list[str | None]]:
    """The provinces each activity's money is in over `years`; null: unknown."""
    statement = (
        select(CURRENT.c.activity_id, CURRENT.c.code).distinct()
        .where(CURRENT.c.classification == PROVINCE, CURRENT.c.amount_cents != 0,
               CURRENT.c.activity_id.in_(ids), CURRENT.c.year.in_(years))
    )
    found: dict[int, set[str | None]] = defaultdict(set)
    for activity, code in connection.execute(statement):
        found[activity].add(code)
    return {i: sorted(found[i], key=lambda code: (code is None, code or "")) for i in ids}
