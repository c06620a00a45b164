"""Which investment subsectors and national-plan objectives an IATI sector's amount goes to.

Two reviewed crosswalks decide, never a guess at run time: `sector-investment-subsector`
(DAC code → the Planning Secretariat's subsector, letter and four digits) and
`sector-plan-objective` (plan × DAC code → objective of that plan). Both key a code by its
sector vocabulary: `1` for DAC 5-digit purpose codes, `2` for DAC 3-digit categories.

- A 5-digit code without a row of its own (a code withdrawn from the codelist, say) takes
  the row of its category, as the IATI Sector codelist gives it; the rule says so.
- A code may split between targets (`share`); the shares returned always sum to 100.
- The plan is the one in force on the date (`mappings.plans`), and the targets are its
  objectives (`PND-2024-2025/2`); when no plan in the tables covers the date, the amount is
  unmapped and the reason says which date. For a plan whose objectives are not loaded yet,
  the rows are unmapped and say which eje the sector falls under.
- Any other vocabulary (COFOG, SDG, the reporting organisation's own, …), a code unknown
  to the codelists, or a crosswalk row whose target is not in force on the date gives one
  unmapped resolution saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from iati.codelists import load_codelist
from mappings.crosswalks import (
    PUBLISHER_SECTOR,
    Crosswalk,
    Resolution,
    Row,
    Status,
    crosswalk,
    resolved,
    unmapped,
)
from mappings.money import HUNDRED
from mappings.plans import in_no_plan, plan_in_force
from mappings.tables import Classification, table

__all__ = ["DacSector", "as_dac", "investment_subsectors", "plan_objectives"]

SUBSECTOR_CROSSWALK = "sector-investment-subsector"
OBJECTIVE_CROSSWALK = "sector-plan-objective"
DAC_PURPOSE = "1"  # SectorVocabulary 1: OECD DAC CRS purpose codes (5 digits)
DAC_CATEGORY = "2"  # SectorVocabulary 2: OECD DAC CRS categories (3 digits)
SUBSECTOR_LEVEL = "subsector"
DAC_VOCABULARIES = frozenset({DAC_PURPOSE, DAC_CATEGORY})


@dataclass(frozen=True, slots=True)
class DacSector:
    """A DAC code that a published sector is (or part of it: `share` percent), and how it
    was found: `via` the publisher's own code's crosswalk row, with its status."""

    vocabulary: str
    code: str
    share: Decimal = HUNDRED
    via: str | None = None
    status: Status = Status.published


def as_dac(
    publisher: str | None, vocabulary: str, code: str, narrative: str | None, *, on: date
) -> tuple[DacSector, ...] | Resolution:
    """The DAC codes a published sector is: itself when DAC's, else what crosswalk
    `publisher-sector` says of the publisher's own code; an unmapped resolution saying
    which key the ministry decides when it says nothing (or says unmapped)."""
    if not code:
        return unmapped(f"a sector of vocabulary {vocabulary} without a code", rule="sectors")
    if vocabulary in DAC_VOCABULARIES:
        return (DacSector(vocabulary, code),)
    walk = crosswalk(PUBLISHER_SECTOR)
    key = "/".join((publisher or "-", vocabulary, code))
    rule = f"crosswalk {walk.name} {key}"
    named = f" ({narrative})" if narrative else ""
    rows = walk.lookup(publisher or "", vocabulary, code, on=on)
    if not rows:
        return unmapped(
            f"the publisher's own sector code {vocabulary}/{code}{named} has no DAC code in "
            f"crosswalk {walk.name}", rule=rule, version=walk.version)
    mapped = [row for row in rows if row.target is not None and row.status is not Status.unmapped]
    total = sum((HUNDRED if row.share is None else row.share for row in mapped), Decimal(0))
    if not mapped:  # the ministry's row says no DAC code fits
        return unmapped(rows[0].rationale or "unmapped", rule=f"{rule} (unmapped)",
                        version=walk.version)
    if total != HUNDRED:
        return unmapped(f"the crosswalk rows' shares sum to {total}, not 100", rule=rule,
                        version=walk.version)
    return tuple(
        DacSector(DAC_PURPOSE if len(row.target or "") == 5 else DAC_CATEGORY, row.target or "",
                  HUNDRED if row.share is None else row.share,
                  f"{rule} → {row.target} ({row.status.value})", row.status)
        for row in mapped
    )


def investment_subsectors(vocabulary: str, code: str, *, on: date) -> tuple[Resolution, ...]:
    """The investment subsectors of an amount reported under sector `vocabulary`/`code`."""
    walk = crosswalk(SUBSECTOR_CROSSWALK)
    subsectors = table(Classification.investment_subsector)

    def in_force(target: str) -> bool:
        row = subsectors.get(target, on)
        return row is not None and row.level == SUBSECTOR_LEVEL

    return _resolve(walk, (), vocabulary, code, on=on, known=in_force)


def plan_objectives(vocabulary: str, code: str, *, on: date) -> tuple[Resolution, ...]:
    """The objectives, of the national plan in force on `on`, of a sector's amount."""
    walk = crosswalk(OBJECTIVE_CROSSWALK)
    plan = plan_in_force(on)
    if plan is None:
        return (in_no_plan(on, rule=f"crosswalk {walk.name} {vocabulary}/{code}",
                           version=walk.version),)

    def objective(target: str) -> bool:
        return plan.has_objective(target, on)

    return _resolve(walk, (plan.code,), vocabulary, code, on=on, known=objective)


def _resolve(
    walk: Crosswalk, prefix: tuple[str, ...], vocabulary: str, code: str, *,
    on: date, known: Callable[[str], bool],
) -> tuple[Resolution, ...]:
    """The resolutions of the rows of `code` (or of its category), checked and complete."""
    rule = f"crosswalk {walk.name} {'/'.join((*prefix, vocabulary, code))}"
    if vocabulary not in (DAC_PURPOSE, DAC_CATEGORY):
        return (unmapped(
            f"sector vocabulary {vocabulary!r} is not mapped: only DAC 5-digit purpose codes "
            f"({DAC_PURPOSE}) and DAC 3-digit categories ({DAC_CATEGORY}) are",
            rule=rule, version=walk.version,
        ),)
    rows = walk.lookup(*prefix, vocabulary, code, on=on)
    category = _category(code) if vocabulary == DAC_PURPOSE and not rows else None
    if category is not None:
        rows = walk.lookup(*prefix, DAC_CATEGORY, category, on=on)
    if not rows:
        reason = _no_row(vocabulary, code, category, on)
        return (unmapped(reason, rule=rule, version=walk.version),)
    found = _checked(walk, rows, known, on)
    if category is None:
        return found
    return tuple(
        replace(item, rule=f"{item.rule} for {vocabulary}/{code} via category {category}")
        for item in found
    )


def _category(code: str) -> str | None:
    """The DAC category of a 5-digit purpose code, as the IATI Sector codelist gives it."""
    item = load_codelist("Sector").get(code)
    return item.category if item is not None else None


def _no_row(vocabulary: str, code: str, category: str | None, on: date) -> str:
    codelist = "Sector" if vocabulary == DAC_PURPOSE else "SectorCategory"
    if code not in load_codelist(codelist):
        return f"{code!r} is not a code of the IATI {codelist} codelist"
    via = f" nor for its category {category}" if category else ""
    return f"no crosswalk row for {codelist} code {code}{via} in force on {on.isoformat()}"


def _checked(
    walk: Crosswalk, rows: Sequence[Row], known: Callable[[str], bool], on: date
) -> tuple[Resolution, ...]:
    """The rows' resolutions, unless their shares do not make 100 or a target is unknown."""
    total = sum((HUNDRED if row.share is None else row.share for row in rows), Decimal(0))
    if total != HUNDRED:
        rules = "; ".join(resolved(walk, row).rule for row in rows)
        return (unmapped(f"the crosswalk rows' shares sum to {total}, not 100",
                         rule=rules, version=walk.version),)
    found = []
    for row in rows:
        item = resolved(walk, row)
        if row.target is not None and not known(row.target):
            reason = f"{row.target} is not a target in force on {on.isoformat()}"
            item = replace(item, code=None, status=Status.unmapped, reason=reason)
        found.append(item)
    return tuple(found)
