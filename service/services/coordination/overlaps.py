"""Coordination alerts: donors funding the same thing in the same place and period.

`sector-province`: at least two reporting organisations (donors) whose activities put
money in the same DAC sector (5-digit code, or its 3-digit category) and the same
province in the same years. Both come from the activities' latest Ecuador budget views:
an activity is in a sector and province in a year when its view's sector split and its
province split both give it money (a figure) there that year; the views split each
amount over each classification separately, so the pairing is per activity and year.
`implementing-partner`: one implementing organisation (role 4, by identifier or folded
name) funded by at least two donors for similar purposes — activities of different
donors sharing a sector category or with similar titles (`PURPOSE_TITLE_SIMILARITY`),
whose periods overlap. Each alert lists the activities behind it, with their money.

The implementing partners' activities, and their pairs alike in purpose, are kept with the
coordination facts (`Partnered`, see `service.services.following.derived`): after a push,
only the partners of the changed activities are compared again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection

from mappings.tables import Classification
from service.services.budget.storage import CURRENT
from service.services.coordination.features import (
    Everything,
    Facts,
    in_years,
    kept_facts,
    money,
    usd,
)
from service.services.coordination.scoring import title_similarity
from service.services.following import Kept, derived, matching, refiled
from service.services.memo import remembered
from service.services.query import ActivityFilter

PURPOSE_TITLE_SIMILARITY = 0.5
Years = tuple[int | None, int | None]
# activity → code → year → measure → US dollars
Split = dict[int, dict[str, dict[int, dict[str, Decimal]]]]


class OverlapKind(StrEnum):
    sector_province = "sector-province"
    implementing_partner = "implementing-partner"


class SectorLevel(StrEnum):
    sector = "sector"
    sector_category = "sector_category"


class OverlapActivity(BaseModel):
    """An activity behind an alert, with its money (US dollars by measure) in the alert's
    years: in its province and sector, or in all (an implementing-partner alert)."""

    iati_identifier: str
    reporting_org: str | None
    title: str | None
    start_date: date | None
    end_date: date | None
    years: list[int]
    sectors: list[str]
    province_usd: dict[str, Decimal] | None = None
    sector_usd: dict[str, Decimal] | None = None
    amounts_usd: dict[str, Decimal] | None = None


class PurposeMatch(BaseModel):
    """Why two activities of different donors look alike in purpose."""

    a: str
    b: str
    sector_categories: list[str]
    title_similarity: float


class OverlapAlert(BaseModel):
    kind: OverlapKind
    sector: str | None = None
    province: str | None = None
    implementing_partner: str | None = None
    years: list[int]
    donors: list[str]
    activities: list[OverlapActivity]
    matches: list[PurposeMatch] = []


class OverlapReport(BaseModel):
    sector_level: SectorLevel
    alerts: list[OverlapAlert]


def overlaps(
    connection: Connection, chosen: ActivityFilter, *, sector_level: SectorLevel,
    years: Years = (None, None), kind: OverlapKind | None = None,
) -> OverlapReport:
    """The alerts among the live activities matching `chosen`, in `years` (kept until the
    store changes: see `service.services.memo`)."""
    key = ("overlaps", repr(chosen), sector_level, years, kind)
    return remembered(connection, key, lambda: _overlaps(
        connection, chosen, sector_level=sector_level, years=years, kind=kind))


def _overlaps(
    connection: Connection, chosen: ActivityFilter, *, sector_level: SectorLevel,
    years: Years, kind: OverlapKind | None,
) -> OverlapReport:
    everything = kept_facts(connection)  # read once: a push may be followed meanwhile
    facts = matching(connection, everything, chosen)
    alerts: list[OverlapAlert] = []
    if kind in (None, OverlapKind.sector_province):
        alerts += sector_province(connection, facts, chosen, sector_level, years)
    if kind in (None, OverlapKind.implementing_partner):
        alerts += implementing_partner(connection, everything, facts, chosen, years)
    return OverlapReport(sector_level=sector_level, alerts=alerts)


def _placed(classification: str, years: Years) -> list[ColumnElement[bool]]:
    """The current figures giving money to a code of `classification` in `years`."""
    return [CURRENT.c.classification == classification, CURRENT.c.code.is_not(None),
            CURRENT.c.amount_cents != 0, *in_years(years)]


def _split(
    connection: Connection, ids: set[int], classification: str, years: Years,
    *within: ColumnElement[bool],
) -> Split:
    found: Split = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    statement = (
        select(CURRENT.c.activity_id, CURRENT.c.code, CURRENT.c.year, CURRENT.c.measure,
               func.sum(CURRENT.c.amount_cents))
        .where(*_placed(classification, years), *within)
        .group_by(CURRENT.c.activity_id, CURRENT.c.code, CURRENT.c.year, CURRENT.c.measure)
    )
    for activity, code, year, measure, cents in connection.execute(statement):
        if activity in ids:
            found[activity][code][year][measure] = usd(cents)
    return found


def sector_province(
    connection: Connection, facts: dict[int, Facts], chosen: ActivityFilter,
    level: SectorLevel, years: Years,
) -> list[OverlapAlert]:
    """Donors meeting in one sector, province and year (see the module)."""
    provinces = _split(connection, set(facts), Classification.province.value, years)
    # Only the sectors of activities placed in a province can meet.
    placed = select(CURRENT.c.activity_id).where(
        *_placed(Classification.province.value, years))
    sectors = _split(connection, set(provinces), Classification.sector.value, years,
                     CURRENT.c.activity_id.in_(placed)) if provinces else {}
    width = 3 if level is SectorLevel.sector_category else 5
    wanted_provinces = set(chosen.classified.get(Classification.province) or ())
    wanted_sectors = tuple(chosen.sector)
    # (sector, province) → year → activity ids
    meeting: dict[tuple[str, str], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for activity, by_province in provinces.items():
        by_sector = _rolled(sectors.get(activity, {}), width)
        for province, province_years in by_province.items():
            if wanted_provinces and province not in wanted_provinces:
                continue
            for sector, sector_years in by_sector.items():
                if wanted_sectors and not sector.startswith(wanted_sectors):
                    continue
                for year in set(province_years) & set(sector_years):
                    meeting[(sector, province)][year].add(activity)
    alerts = []
    for (sector, province), by_year in sorted(meeting.items()):
        shared = sorted(y for y, ids in by_year.items()
                        if len({facts[i].reporting_org for i in ids}) > 1)
        if not shared:
            continue
        ids = set().union(*(by_year[y] for y in shared))
        shown = [
            _activity(facts[i], shared, province_usd=_summed(provinces[i][province], shared),
                      sector_usd=_summed(_rolled(sectors[i], width)[sector], shared))
            for i in sorted(ids)
        ]
        alerts.append(OverlapAlert(
            kind=OverlapKind.sector_province, sector=sector, province=province, years=shared,
            donors=sorted({a.reporting_org or "" for a in shown}), activities=shown,
        ))
    return alerts


def _rolled(
    by_code: dict[str, dict[int, dict[str, Decimal]]], width: int
) -> dict[str, dict[int, dict[str, Decimal]]]:
    """The split by code cut to `width` digits (3: DAC categories), amounts added."""
    rolled: dict[str, dict[int, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal)))
    for code, by_year in by_code.items():
        for year, by_measure in by_year.items():
            for measure, amount in by_measure.items():
                rolled[code[:width]][year][measure] += amount
    return rolled


def _summed(by_year: dict[int, dict[str, Decimal]], years: list[int]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for year in years:
        for measure, amount in by_year.get(year, {}).items():
            total[measure] += amount
    return dict(sorted(total.items()))


def _activity(facts: Facts, years: list[int], **amounts: dict[str, Decimal]) -> OverlapActivity:
    return OverlapActivity(
        iati_identifier=facts.identifier, reporting_org=facts.reporting_org, title=facts.title,
        start_date=facts.start, end_date=facts.end, years=years, sectors=sorted(facts.sectors),
        **amounts,
    )


def implementing_partner(
    connection: Connection, everything: Everything, facts: dict[int, Facts],
    chosen: ActivityFilter, years: Years,
) -> list[OverlapAlert]:
    """One implementing partner, several donors, similar purposes (see the module), among
    `facts`, those of `everything` asked for. The activities of an alert are in identifier
    order."""
    partnered = partners(everything)
    wanted = {ref.strip().upper() for ref in chosen.participating_org}
    found: list[tuple[str, list[Facts], list[PurposeMatch]]] = []
    for partner, pairs in sorted(partnered.matches.items()):
        if wanted and partner not in wanted:
            continue
        # Only the pairs of activities both asked for (`facts`) and active in `years`.
        matches = [match for one, other, match in pairs
                   if all(i in facts and _active_in(facts[i], years) for i in (one, other))]
        if matches:
            involved = {identifier for m in matches for identifier in (m.a, m.b)}
            shown = sorted((facts[i] for i in partnered.activities[partner]
                            if i in facts and facts[i].identifier in involved),
                           key=lambda a: a.identifier)
            found.append((partner, shown, matches))
    amounts = money(connection, {a.id for _, shown, _ in found for a in shown}, years=years)
    return [
        OverlapAlert(
            kind=OverlapKind.implementing_partner, implementing_partner=partner,
            years=_span_years(shown, years), donors=sorted({a.reporting_org or "" for a in shown}),
            activities=[_activity(a, _span_years([a], years), amounts_usd=amounts.get(a.id, {}))
                        for a in shown],
            matches=matches,
        )
        for partner, shown, matches in found
    ]


# Two activities of an implementing partner alike in purpose: their ids and why.
Match = tuple[int, int, PurposeMatch]


@dataclass(frozen=True, slots=True)
class Partnered:
    """Every implementing partner's live activities, and the pairs of them alike in purpose
    (`_purpose_matches`, over all years): kept with the facts, and for the partners of the
    changed activities only worked out again. Shared: never change it."""

    activities: dict[str, frozenset[int]]
    matches: dict[str, tuple[Match, ...]]

    @classmethod
    def of(cls, everything: Everything) -> Partnered:
        return Partnered({}, {}).updated(Kept({}), everything, frozenset(everything))

    def updated(self, old: Everything, new: Everything, changed: frozenset[int]) -> Partnered:
        activities = refiled(self.activities, changed, old, new, _implementing)
        touched = {partner for i in changed for values in (old, new)
                   for partner in _implementing(values.get(i))}
        matches = dict(self.matches)
        for partner in touched:
            found = _purpose_matches([new[i] for i in activities.get(partner, ())])
            if found:
                matches[partner] = found
            else:
                matches.pop(partner, None)
        return Partnered(activities, matches)


def _implementing(facts: Facts | None) -> set[str]:
    return facts.implementing if facts is not None else set()


def partners(everything: Everything) -> Partnered:
    """The implementing partners of `everything`, kept with it (see `following.derived`)."""
    return derived(everything, "implementing-partners", Partnered.of, Partnered.updated)


def _purpose_matches(activities: list[Facts]) -> tuple[Match, ...]:
    """Pairs of activities of different donors, periods overlapping, alike in purpose."""
    if len({a.reporting_org for a in activities}) < 2:
        return ()
    found = []
    ordered = sorted(activities, key=lambda a: a.identifier)
    for index, one in enumerate(ordered):
        for other in ordered[index + 1:]:
            if one.reporting_org == other.reporting_org or not _overlapping(one, other):
                continue
            common = sorted({s[:3] for s in one.sectors} & {s[:3] for s in other.sectors})
            similarity = title_similarity(one.titles, other.titles)[0]
            if common or similarity >= PURPOSE_TITLE_SIMILARITY:
                found.append((one.id, other.id, PurposeMatch(
                    a=one.identifier, b=other.identifier, sector_categories=common,
                    title_similarity=round(similarity, 3))))
    return tuple(found)


def _overlapping(one: Facts, other: Facts) -> bool:
    """Whether the periods meet; an unknown start or end is taken as open."""
    return (one.start is None or other.end is None or one.start <= other.end) and (
        other.start is None or one.end is None or other.start <= one.end)


def _active_in(activity: Facts, years: Years) -> bool:
    first, last = years
    if first is not None and activity.end is not None and activity.end.year < first:
        return False
    return not (last is not None and activity.start is not None and activity.start.year > last)


def _span_years(activities: list[Facts], years: Years) -> list[int]:
    """The calendar years the activities run (within `years`); unknown ends: none added."""
    found: set[int] = set()
    for activity in activities:
        if activity.start is None or activity.end is None:
            continue
        first = max(activity.start.year, years[0] or activity.start.year)
        last = min(activity.end.year, years[1] or activity.end.year)
        found |= set(range(first, last + 1))
    return sorted(found)
