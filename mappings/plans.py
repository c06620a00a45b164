"""Which national development plan is in force on a date, and the objectives an activity's
SDG tags align its money with.

The plan-objective table holds each plan (level `plan`), in force from its approval to the
day before the next plan's, and its objectives (level `objective`), whose codes name their
plan — `PND-2021-2025/3` is objective 3 of PND 2021–2025 — so that money for objective 1
of one plan is never added to objective 1 of another. A plan may be in force with none of
its objectives loaded (PND 2025–2029): its crosswalk rows are then unmapped, each saying
which eje the money would fall under. A date before the first plan is in no plan's force.

SDG tags (`tag` of TagVocabulary 2, a goal, or 3, a target, which counts as its goal) go
through the crosswalk `sdg-plan-objective` (plan × goal → objectives of that plan):

- each distinct goal the tags name takes an equal part of the amount (IATI gives tags no
  percentage); a goal named by several tags, or by a target and itself, counts once;
- a goal's rows are candidates: with shares, the part divides by them; without, equally;
- parts that reach the same objective are one resolution, naming every row that led to it;
- a tag whose code is not in the UNSDG codelists is not used, with a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from iati.codelists import load_codelist
from mappings.amounts import Finding
from mappings.crosswalks import Crosswalk, Resolution, Row, Status, crosswalk, resolved, unmapped
from mappings.money import HUNDRED, split
from mappings.tables import Classification, in_period, table

__all__ = ["Plan", "SdgGoal", "in_no_plan", "plan_in_force", "plans", "sdg_goals",
           "sdg_objectives"]

SDG_CROSSWALK = "sdg-plan-objective"
PLAN_LEVEL, OBJECTIVE_LEVEL = "plan", "objective"
SDG_GOAL, SDG_TARGET = "2", "3"  # TagVocabulary
# Shares are kept this fine so that they sum to exactly 100 and still divide any amount
# evenly to the cent (the amounts the engine takes stay below 10^13 dollars).
FINE = Decimal("1e-20")


@dataclass(frozen=True, slots=True)
class Plan:
    """A national development plan, the days it is in force and its objectives' codes."""

    code: str  # `PND-2021-2025`
    name_es: str
    valid_from: date | None
    valid_to: date | None
    objectives: frozenset[str]  # `PND-2021-2025/3`, …; empty: not loaded

    def has_objective(self, code: str, on: date) -> bool:
        """Whether `code` is one of the plan's objectives in force on `on`."""
        row = table(Classification.plan_objective).get(code, on)
        return row is not None and code in self.objectives


@cache
def plans() -> tuple[Plan, ...]:
    """Every plan of the table, earliest first."""
    rows = table(Classification.plan_objective)
    return tuple(sorted(
        (Plan(row.code, row.name_es, row.valid_from, row.valid_to, frozenset(
            other.code for other in rows
            if other.level == OBJECTIVE_LEVEL and other.parent == row.code))
         for row in rows if row.level == PLAN_LEVEL),
        key=lambda plan: (plan.valid_from or date.min, plan.code),
    ))


def plan_in_force(on: date) -> Plan | None:
    """The plan in force on `on` (the later one, should two overlap)."""
    found = [plan for plan in plans() if in_period(plan.valid_from, plan.valid_to, on)]
    return found[-1] if found else None


def in_no_plan(on: date, *, rule: str, version: str) -> Resolution:
    """An amount dated when no plan of the table is in force: unmapped, saying so."""
    every = plans()
    first = f"; the first, {every[0].code}, is in force from {every[0].valid_from}" if (
        every and every[0].valid_from and on < every[0].valid_from) else ""
    return unmapped(
        f"no national development plan in the tables is in force on {on.isoformat()}{first}",
        rule=rule, version=version,
    )


@dataclass(frozen=True, slots=True)
class SdgGoal:
    """An SDG goal an activity's tags name, and the tags that name it (`2/4`, `3/4.1`)."""

    code: str
    tags: tuple[str, ...]


def sdg_goals(tags: Sequence[tuple[str, str]]) -> tuple[tuple[SdgGoal, ...], list[Finding]]:
    """The distinct goals the (vocabulary, code) `tags` name, in order, and a finding for
    each SDG tag whose code is not in its codelist (`location`: `tag[n]`)."""
    named: dict[str, list[str]] = {}
    findings = []
    for index, (vocabulary, code) in enumerate(tags, start=1):
        vocabulary, code = vocabulary.strip(), code.strip()
        if vocabulary not in (SDG_GOAL, SDG_TARGET):
            continue
        codelist = "UNSDG-Goals" if vocabulary == SDG_GOAL else "UNSDG-Targets"
        if code not in load_codelist(codelist):
            findings.append(Finding(
                "mapping.unknown-sdg-tag",
                f"tag vocabulary {vocabulary}: {code!r} is not a code of the {codelist} "
                "codelist; the tag is not used for the plan objectives.",
                f"tag[{index}]",
            ))
            continue
        named.setdefault(code.split(".")[0], []).append(f"{vocabulary}/{code}")
    goals = tuple(SdgGoal(goal, tuple(dict.fromkeys(found))) for goal, found in named.items())
    return goals, findings


def sdg_objectives(goals: Sequence[SdgGoal], *, on: date) -> tuple[Resolution, ...]:
    """The objectives, of the plan in force on `on`, of an amount whose activity's tags
    name `goals` (none: no resolution), with shares summing to 100."""
    if not goals:
        return ()
    walk = crosswalk(SDG_CROSSWALK)
    plan = plan_in_force(on)
    if plan is None:
        return (in_no_plan(on, rule=f"crosswalk {walk.name}", version=walk.version),)
    merged: dict[tuple[str | None, str | None], list[Resolution]] = {}
    for goal in goals:
        for item in _goal(walk, plan, goal, on):
            key = (item.code, item.reason if item.code is None else None)
            merged.setdefault(key, []).append(item)
    weights = [sum((item.share for item in found), Decimal(0)) for found in merged.values()]
    return tuple(_merged(found, share) for found, share in zip(
        merged.values(), split(HUNDRED, weights, quantum=FINE), strict=True))


def _goal(walk: Crosswalk, plan: Plan, goal: SdgGoal, on: date) -> list[Resolution]:
    """One goal's part (100) of the amount among its candidate objectives."""
    via = ", ".join(goal.tags)
    rule = f"crosswalk {walk.name} {plan.code}/{SDG_GOAL}/{goal.code} for tag {via}"
    rows = walk.lookup(plan.code, SDG_GOAL, goal.code, on=on)
    if not rows:
        return [unmapped(f"no crosswalk row for SDG goal {goal.code} of {plan.code} in force "
                         f"on {on.isoformat()}", rule=rule, version=walk.version)]
    given = [row.share for row in rows if row.share is not None]
    if given and (len(given) < len(rows) or sum(given, Decimal(0)) != HUNDRED):
        return [unmapped(f"the crosswalk rows of SDG goal {goal.code} split it by shares "
                         "that do not sum to 100", rule=rule, version=walk.version)]
    found = []
    for row in rows:
        share = HUNDRED / len(rows) if row.share is None else row.share
        found.append(_candidate(walk, plan, row, share, via, len(rows), on))
    return found


def _candidate(
    walk: Crosswalk, plan: Plan, row: Row, share: Decimal, via: str, candidates: int,
    on: date,
) -> Resolution:
    item = resolved(walk, row)
    among = f", 1 of {candidates} candidates" if candidates > 1 else ""
    rule = f"{item.rule} for tag {via}{among}"
    if row.target is not None and not plan.has_objective(row.target, on):
        reason = f"{row.target} is not an objective of {plan.code} in force on {on.isoformat()}"
        return Resolution(None, share, rule, Status.unmapped, walk.version, reason)
    return Resolution(item.code, share, rule, item.status, item.version, item.reason)


def _merged(items: Sequence[Resolution], share: Decimal) -> Resolution:
    """One resolution for the parts that reach the same objective (or the same reason)."""
    first = items[0]
    statuses = {item.status for item in items}
    status = first.status if len(statuses) == 1 else Status.proposed
    rule = "; ".join(dict.fromkeys(item.rule for item in items))
    return Resolution(first.code, share, rule, status, first.version, first.reason)
