"""The whole store's aggregates, added up from every live activity's figures, which the
service keeps.

With no query filter, an aggregate reads the current figures of every live activity: at
100,000 activities, 0.1–0.3 s per grouping, and the overview asks six after each push. The
figures of each live activity that the overview's groupings read (the `fuente`, sector,
province and plan objective splits) are kept per engine, summed per classification,
measure, year, code and reporting organisation, with its implementing partners as
published and the registry entries they are linked to (`FIGURES`, followed through the
read model's events, a remap's new views among them, and read again after a merge of
registry entries: see
`service.services.following`). From these, each activity's part of every group is worked
out, exactly as the database would add it up, and the groups' totals are kept with them
(`totals`), updated for the changed activities only. A push then costs the reading of its
own activities' figures, and an unfiltered aggregate is looked up.

`grouped` serves the aggregates with one grouping (or none) beside `measure`, several
measures only when grouped by measure, one year or all, and implementing partners (as
published, or by registry entry). With
no query filter, the kept totals answer, less each confirmed duplicate's part. With one,
the matching activities (found once per filter and store generation: a page asks several
aggregates of one filter) have the asked group's part worked out alone and added up.
Everything else (and the net basis when some flow is reported twice) is added up by the
database (see `service.services.aggregates`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, not_, select
from sqlalchemy.engine import Connection

from mappings.lenses import lens_of
from mappings.tables import Classification
from service.services.budget.storage import CURRENT
from service.services.coordination.decisions import not_excluded
from service.services.following import Follower, Kept, derived
from service.services.involvement import MERGE
from service.services.memo import remembered
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT, ActivityFilter, activity_conditions
from service.services.streaming import in_batches, summed

IMPLEMENTING = "4"  # OrganisationRole: the partners whose shares are kept
FUENTE, SECTOR = Classification.fuente.value, Classification.sector.value
# The splits kept: every amount is in each (see `service.services.aggregates`).
SPLITS = (FUENTE, SECTOR, Classification.province.value, Classification.plan_objective.value)
# The groupings read through each split; `measure` alone groups by measure only.
# Partners (`participating_org`, `participating_entry`) share the amount equally.
SHARED = ("participating_org", "participating_entry")
READ_THROUGH = {
    "reporting_org": FUENTE, "participating_org": FUENTE, "participating_entry": FUENTE,
    "year": FUENTE, "fuente": FUENTE, "measure": FUENTE,
    "sector": SECTOR, "sector_category": SECTOR, "lens": SECTOR,
    "province": "province", "plan_objective": "plan_objective",
}
H = TypeVar("H")

# An amount of an activity's view in one split: classification, measure, year, code, the
# reporting organisation's identifier as the figures carry it, and US cents.
Amount = tuple[str, str, int, str | None, str | None, int]
# A group's totals: (grouping, measure, year or None for all years) → code → what is in it.
Slot = tuple[str, str, int | None]


@dataclass(frozen=True, slots=True)
class Figures:
    """One live activity's figures as the kept totals read them."""

    amounts: tuple[Amount, ...]
    partners: tuple[str, ...]  # its distinct implementing partners (identifier, else name)
    entries: tuple[int, ...] = ()  # the distinct registry entries they are linked to

    def among(self, grouping: str) -> tuple[Any, ...]:
        """Whom its money is shared among when grouped by `grouping` (one of `SHARED`)."""
        return self.entries if grouping == "participating_entry" else self.partners

    def parts(self) -> dict[Slot, dict[str | int | None, int]]:
        """Its cents in each group it is in (see `Slot`): what the database adds up for it,
        its money shared equally among its partners (`equal_shares`)."""
        parts: dict[Slot, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
        for classification, measure, year, code, reporter, cents in self.amounts:
            for when in (None, year):
                if classification == FUENTE:
                    parts["fuente", measure, when][code] += cents
                    parts["reporting_org", measure, when][reporter] += cents
                    parts["year", measure, when][year] += cents
                    parts["measure", measure, when][None] += cents
                elif classification == SECTOR:
                    parts["sector", measure, when][code] += cents
                    parts["sector_category", measure, when][code[:3] if code else None] += cents
                    parts["lens", measure, when][lens_of(code).value] += cents
                else:
                    parts[classification, measure, when][code] += cents
        for (grouping, measure, when), found in list(parts.items()):
            if grouping == "measure":
                for shared in SHARED:
                    parts[shared, measure, when] = equal_shares(found[None], self.among(shared))
        return parts

    def part(self, grouping: str, measure: str, when: int | None) -> dict[Any, int]:
        """Its cents in the groups of one `Slot`: what `parts` gives for it, worked out
        alone."""
        split = READ_THROUGH[grouping]
        found: dict[Any, int] = defaultdict(int)
        for classification, of, year, code, reporter, cents in self.amounts:
            if classification != split or of != measure or (when is not None and year != when):
                continue
            if grouping == "reporting_org":
                found[reporter] += cents
            elif grouping == "year":
                found[year] += cents
            elif grouping == "measure" or grouping in SHARED:
                found[None] += cents
            elif grouping == "sector_category":
                found[code[:3] if code else None] += cents
            elif grouping == "lens":
                found[lens_of(code).value] += cents
            else:
                found[code] += cents
        if grouping not in SHARED or not found:
            return found
        return equal_shares(found[None], self.among(grouping))

    def present(self) -> dict[tuple[str, int | None], frozenset[str]]:
        """The measures it has figures of, per split and year (None: any year)."""
        found: dict[tuple[str, int | None], set[str]] = defaultdict(set)
        for classification, measure, year, *_ in self.amounts:
            found[classification, None].add(measure)
            found[classification, year].add(measure)
        return {key: frozenset(measures) for key, measures in found.items()}


def equal_shares(whole: int, partners: tuple[Any, ...]) -> dict[Any, int]:
    """`whole` cents shared equally among `partners` (or all under None if there is none),
    the cents left over one each to the first, as `mappings.money.split` gives them for
    equal shares (the aggregates added up by the database share them here too)."""
    among: Sequence[Any] = partners or (None,)
    part, residue = divmod(abs(whole), len(among))
    sign = -1 if whole < 0 else 1
    return {partner: sign * (part + (index < residue)) for index, partner in enumerate(among)}


AllFigures = Kept[Figures]


@dataclass(frozen=True, slots=True)
class Totals:
    """Every group's cents and activities (`groups`), and how many activities have figures
    of each set of measures per split and year (`present`). Shared: never change it."""

    groups: dict[Slot, dict[Any, tuple[int, int]]]
    present: dict[tuple[str, int | None], dict[frozenset[str], int]]

    @classmethod
    def of(cls, kept: AllFigures) -> Totals:
        return Totals({}, {}).updated(Kept({}), kept, frozenset(kept))

    def updated(self, old: AllFigures, new: AllFigures, changed: frozenset[int]) -> Totals:
        """The totals once the `changed` activities' `old` figures are `new` (or gone): the
        groups they touch are copied and added to, the others shared."""
        groups: dict[Slot, dict[Any, list[int]]] = {}
        present: dict[tuple[str, int | None], dict[frozenset[str], int]] = {}
        for activity in changed:
            for values, sign in ((old, -1), (new, 1)):
                figures = values.get(activity)
                if figures is None:
                    continue
                for slot, parts in figures.parts().items():
                    group = groups.get(slot)
                    if group is None:
                        group = groups[slot] = {
                            code: list(total) for code, total in self.groups.get(slot, {}).items()}
                    for code, cents in parts.items():
                        total = group.setdefault(code, [0, 0])
                        total[0] += sign * cents
                        total[1] += sign
                for where, measures in figures.present().items():
                    counts = present.get(where)
                    if counts is None:
                        counts = present[where] = dict(self.present.get(where, {}))
                    counts[measures] = counts.get(measures, 0) + sign
        return Totals(
            _merged(self.groups, {slot: {code: (cents, n) for code, (cents, n) in group.items()
                                         if n} for slot, group in groups.items()}),
            _merged(self.present, {where: {measures: n for measures, n in counts.items() if n}
                                   for where, counts in present.items()}),
        )


def _merged(kept: dict[Any, Any], touched: dict[Any, Any]) -> dict[Any, Any]:
    """`kept` with the `touched` entries in place of its own, the empty ones dropped."""
    result = dict(kept)
    for key, value in touched.items():
        if value:
            result[key] = value
        else:
            result.pop(key, None)
    return result


def totals(kept: AllFigures) -> Totals:
    """The totals of `kept`, kept with it (see `following.derived`)."""
    return derived(kept, "totals", Totals.of, Totals.updated)


def grouped(
    connection: Connection, chosen: ActivityFilter, group_by: Sequence[str],
    measures: Sequence[str], year_from: int | None, year_to: int | None, role: str | None,
) -> tuple[list[tuple[tuple[Any, ...], int, int]], int] | None:
    """Each group's (values in `group_by`'s order, cents, activities) and the activities
    counted, for the live activities matching `chosen` less the confirmed duplicates; None
    when the kept figures do not answer this (see the module)."""
    others = [g for g in group_by if g != "measure"]
    if (len(others) > 1 or (others and others[0] not in READ_THROUGH)
            or (len(measures) > 1 and "measure" not in group_by)
            or year_from != year_to or (role is not None and role != IMPLEMENTING)):
        return None
    grouping = others[0] if others else "measure"
    split, when, wanted = READ_THROUGH[grouping], year_from, frozenset(measures)
    kept = current(connection)
    excluded = {i for i in _excluded(connection) if i in kept}
    conditions = activity_conditions(chosen, dialect=connection.dialect.name)
    groups: dict[tuple[str, Any], list[int]] = {}
    if conditions:  # the matching activities' parts, added up
        ids = remembered(connection, ("matching", repr(chosen)), lambda: frozenset(
            connection.execute(select(ACTIVITY.c.id).where(*conditions)).scalars().all()))
        counted = [kept[i] for i in (ids & kept.keys()) - excluded]
        activities = 0
    else:  # the kept totals, less the excluded activities' parts
        found = totals(kept)
        for measure in wanted:
            for code, kept_total in found.groups.get((grouping, measure, when), {}).items():
                groups[measure, code] = list(kept_total)
        counted = [kept[i] for i in excluded]
        activities = sum(n for have, n in found.present.get((split, when), {}).items()
                         if have & wanted)
    sign = 1 if conditions else -1
    for figures in counted:
        counts = False  # whether it has figures of a wanted measure: a part of some group
        for measure in wanted:
            for code, cents in figures.part(grouping, measure, when).items():
                total = groups.setdefault((measure, code), [0, 0])
                total[0] += sign * cents
                total[1] += sign
                counts = True
        activities += sign * counts
    rows = []
    for (measure, code), (cents, count) in groups.items():
        if count:
            values = {grouping: code, "measure": measure}
            rows.append((tuple(values[g] for g in group_by), cents, count))
    return rows, activities


def _excluded(connection: Connection) -> list[int]:
    """The live activities the ministry confirmed as duplicates of another."""
    return list(connection.execute(
        select(ACTIVITY.c.id).where(not_(not_excluded(ACTIVITY.c.id)))).scalars())


def current(connection: Connection) -> AllFigures:
    """Every live activity's figures, up to date: followed through the read model's events
    (new views among them), and read again after a merge of registry entries, which moves
    partners from one entry to another without changing any activity."""
    last_merge = connection.execute(select(func.max(MERGE.c.id))).scalar()
    return FIGURES.current(connection, last_merge)


def _read(
    connection: Connection, conditions: list[ColumnElement[bool]], basis: int | None,
) -> dict[int, Figures]:
    """The figures of the activities meeting `conditions`, in the kept splits; `basis` (the
    last merge) only tells when all must be read again."""
    matching = select(ACTIVITY.c.id).where(*conditions)
    seen: dict[Any, Any] = {}

    def shared(value: H) -> H:
        return seen.setdefault(value, value)  # type: ignore[no-any-return]

    amounts: dict[int, list[Amount]] = defaultdict(list)
    for activity, *key, cents in _amounts(connection, matching):
        # One object per distinct code, name and year, however many rows repeat it.
        amounts[activity].append((*map(seen.setdefault, key, key), cents))
    name = func.coalesce(func.nullif(func.trim(PARTICIPANT.c.ref), ""), PARTICIPANT.c.name)
    partners: dict[int, set[str]] = defaultdict(set)
    entries: dict[int, set[int]] = defaultdict(set)
    for activity, partner, entry in in_batches(connection, select(
            PARTICIPANT.c.activity_id, name, PARTICIPANT.c.organisation_id).where(
            PARTICIPANT.c.role == IMPLEMENTING, PARTICIPANT.c.activity_id.in_(matching),
            name.is_not(None))):
        partners[activity].add(partner)
        if entry is not None:
            entries[activity].add(entry)
    return {
        activity: Figures(tuple(sorted(found, key=_order)),
                          shared(tuple(sorted(partners.get(activity, ())))),
                          shared(tuple(sorted(entries.get(activity, ())))))
        for activity, found in amounts.items()
    }


def _order(amount: Amount) -> tuple[Any, ...]:
    """Amounts in one order, whatever order the database summed them in (None first)."""
    classification, measure, year, code, reporter, _ = amount
    return (classification, measure, year, code is not None, code or "",
            reporter is not None, reporter or "")


def _amounts(connection: Connection, matching: Any) -> list[tuple[Any, ...]]:
    """(activity, *`Amount`) of the `matching` activities' current figures in the kept
    splits, summed (see `streaming.summed`)."""
    key = (CURRENT.c.activity_id, CURRENT.c.classification, CURRENT.c.measure, CURRENT.c.year,
           CURRENT.c.code, CURRENT.c.reporting_org_ref)
    return summed(connection, key, CURRENT.c.amount_cents, CURRENT.c.classification.in_(SPLITS),
                  CURRENT.c.activity_id.in_(matching))


# Each live activity's figures, kept and followed through the read model's events.
FIGURES: Follower[Figures, int | None] = Follower(_read)
