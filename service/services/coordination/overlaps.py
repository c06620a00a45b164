"""Coordination alerts: donors funding the same thing in the same place and period.

`sector-province` and `sector-national` (`service.services.coordination.sectors`): donors
whose activities' latest budget views put money in the same DAC sector (or category) and
province in the same years; where the province of some money is unknown, in the same
sector and year at national level, labelled so.
`implementing-partner`: one implementing organisation (role 4, by identifier or folded
name) funded by at least two donors for similar purposes — activities of different
donors sharing a sector category or with similar titles (`PURPOSE_TITLE_SIMILARITY`),
whose periods overlap. Each alert lists the activities behind it, with their money.

The implementing partners' activities, and their pairs alike in purpose, are kept with the
coordination facts (`Partnered`, see `service.services.following.derived`): after a push,
only the partners of the changed activities are compared again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from service.services.coordination.alerts import (
    OverlapAlert,
    OverlapKind,
    OverlapReport,
    PurposeMatch,
    SectorLevel,
    Years,
    shown,
)
from service.services.coordination.features import Everything, Facts, kept_facts, money
from service.services.coordination.scoring import title_similarity
from service.services.coordination.sectors import sector_national, sector_province
from service.services.following import Kept, derived, matching, refiled
from service.services.memo import remembered
from service.services.query import ActivityFilter

__all__ = ["OverlapAlert", "OverlapKind", "OverlapReport", "Partnered", "SectorLevel",
           "overlaps", "partners"]

PURPOSE_TITLE_SIMILARITY = 0.5


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
    if kind in (None, OverlapKind.sector_national):
        alerts += sector_national(connection, facts, chosen, sector_level, years)
    if kind in (None, OverlapKind.implementing_partner):
        alerts += implementing_partner(connection, everything, facts, chosen, years)
    return OverlapReport(sector_level=sector_level, alerts=alerts)


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
            listed = sorted((facts[i] for i in partnered.activities[partner]
                            if i in facts and facts[i].identifier in involved),
                           key=lambda a: a.identifier)
            found.append((partner, listed, matches))
    amounts = money(connection, {a.id for _, listed, _ in found for a in listed}, years=years)
    return [
        OverlapAlert(
            kind=OverlapKind.implementing_partner, implementing_partner=partner,
            years=_span_years(listed, years),
            donors=sorted({a.reporting_org or "" for a in listed}),
            activities=[shown(a, _span_years([a], years), amounts_usd=amounts.get(a.id, {}))
                        for a in listed],
            matches=matches,
        )
        for partner, listed, matches in found
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
