"""The indicators of the aid-effectiveness scorecard, each computed from one row's amounts
(a donor's, or every donor's, in one year) and the facts of its activities: its value,
numerator and denominator, the activities behind them, and what was missing. See
`service.services.effectiveness.scorecard` and docs/effectiveness.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlencode

from pydantic import BaseModel

from mappings.amounts import Measure
from service.services.effectiveness import definitions as d
from service.services.effectiveness.store import Amount, Facts
from service.services.quality import COMPLETENESS

CENTRAL = "central"  # the Presupuesto General del Estado, approved by the Asamblea
PUBLIC = frozenset({CENTRAL, "gad", "social-security", "public-financial",
                    "public-enterprise"})
TREASURY_CHANNEL = "1"  # DisbursementChannel: through the Ministry of Finance or Treasury
UNTIED, TIED_STATUSES = "5", frozenset({"3", "4", "5"})  # TiedStatus
REVISED = "2"  # BudgetType: a revised budget (1, or none given, is the original)
FLOWS = frozenset({Measure.disbursement, Measure.expenditure})
FORWARD = frozenset({Measure.budget, Measure.planned_disbursement})
AHEAD = 3  # the years ahead medium-term predictability asks about
PERCENT = Decimal("0.01")


class IndicatorValue(BaseModel):
    """One indicator for one donor (or all) and one year."""

    code: str
    framework: str
    framework_number: str
    name: str
    definition: str
    unit: d.Unit
    value_percent: Decimal | None  # None: cannot be computed, see `reason`
    reason: str | None = None
    numerator: Decimal | None = None  # in `unit` (US dollars to the cent, or a count)
    denominator: Decimal | None = None
    numerator_activities: int = 0
    activities: int = 0  # the activities behind the denominator
    missing: list[str] = []
    activities_query: str
    identifiers: list[str] | None = None  # the activities behind it, when asked for


@dataclass(frozen=True, slots=True)
class Scope:
    """One row's amounts: those of the year, and the donor's later ones (for 5b)."""

    donor: str | None
    overall: bool
    year: int
    current: list[Amount]
    later: list[Amount]
    donors: int  # how many donors the row covers
    facts: Facts
    identifiers: bool

    @property
    def activities(self) -> set[int]:
        return {amount.activity for amount in self.current}


@dataclass(slots=True)
class _Ratio:
    """What an indicator counts: its numerator and denominator, their activities, and
    what is missing."""

    numerator: int = 0
    denominator: int = 0
    numerator_activities: set[int] | None = None
    activities: set[int] | None = None
    missing: list[str] | None = None


def _value(
    definition: d.Definition, scope: Scope, ratio: _Ratio, reason: str | None = None,
) -> IndicatorValue:
    """The indicator from `ratio`; without a denominator, null with `reason`."""
    activities = ratio.activities or set()
    cents = definition.unit is d.Unit.usd
    amount: Callable[[int], Decimal] = (
        (lambda n: Decimal(n).scaleb(-2)) if cents else Decimal)
    computable = reason is None and ratio.denominator > 0
    return IndicatorValue(
        code=definition.code, framework=d.FRAMEWORK,
        framework_number=definition.framework_number, name=definition.name,
        definition=definition.definition, unit=definition.unit,
        value_percent=(Decimal(ratio.numerator * 100) / ratio.denominator).quantize(
            PERCENT, rounding=ROUND_HALF_EVEN) if computable else None,
        reason=None if computable else reason,
        numerator=amount(ratio.numerator) if ratio.denominator or ratio.numerator else None,
        denominator=amount(ratio.denominator) if ratio.denominator else None,
        numerator_activities=len(ratio.numerator_activities or ()),
        activities=len(activities), missing=ratio.missing or [],
        activities_query=_query(definition, scope),
        identifiers=sorted(scope.facts.identifiers.get(a, str(a)) for a in activities)
        if scope.identifiers else None,
    )


def _query(definition: d.Definition, scope: Scope) -> str:
    params: list[tuple[str, str | int]] = [("year", scope.year)]
    if scope.donor is not None and not scope.overall:
        params.append(("reporting_org", scope.donor))
    params += [("indicator", definition.code), ("identifiers", "true")]
    return "/api/v1/effectiveness?" + urlencode(params)


def _usd(cents: int) -> str:
    return f"{Decimal(cents).scaleb(-2):,.2f} USD"


def _scheduled(scope: Scope) -> tuple[list[Amount], int]:
    """The budgets for the year: each activity's original ones, its revised ones only
    where it has no original one for the year; and how many revised ones were left out."""
    budgets = [a for a in scope.current if a.measure is Measure.budget]
    original = {a.activity for a in budgets if not _revised(scope, a)}
    kept = [a for a in budgets if a.activity not in original or not _revised(scope, a)]
    return kept, len(budgets) - len(kept)


def _revised(scope: Scope, amount: Amount) -> bool:
    return scope.facts.budget_types.get((amount.activity, amount.position)) == REVISED


def _annual(scope: Scope) -> IndicatorValue:
    budgets, left_out = _scheduled(scope)
    budgeted = {a.activity for a in budgets}
    flows = [a for a in scope.current if a.measure in FLOWS]
    counted = [a for a in flows if a.activity in budgeted]
    missing = []
    unbudgeted = [a for a in flows if a.activity not in budgeted]
    if unbudgeted:
        missing.append(
            f"{len({a.activity for a in unbudgeted})} activities disbursed or spent "
            f"{_usd(sum(a.cents for a in unbudgeted))} in {scope.year} without a budget "
            f"for {scope.year}")
    if left_out:
        missing.append(f"{left_out} revised budgets for {scope.year} left out where the "
                       "activity has an original one")
    ratio = _Ratio(sum(a.cents for a in counted), sum(a.cents for a in budgets),
                   {a.activity for a in counted}, budgeted, missing)
    reason = None
    if not budgets:
        reason = (f"cannot be computed: no budget for {scope.year} among the "
                  f"{len(scope.activities)} activities with money in {scope.year}")
    elif ratio.denominator == 0:
        reason = f"cannot be computed: the budgets for {scope.year} add up to zero"
    return _value(d.ANNUAL_PREDICTABILITY, scope, ratio, reason)


def _medium_term(scope: Scope) -> IndicatorValue:
    ahead = range(scope.year + 1, scope.year + AHEAD + 1)
    present = {a.donor for a in scope.current}
    forward = [a for a in scope.later
               if a.measure in FORWARD and a.cents and a.donor in present]
    covered: set[tuple[str | None, int]] = {(a.donor, a.year) for a in forward}
    uncovered = [year for year in ahead
                 if not any((a.donor, year) in covered for a in forward)]
    missing = [d.NO_ORGANISATION_FILES]
    if uncovered and not scope.overall:
        missing.insert(0, "no budget or planned disbursement for " +
                       ", ".join(str(year) for year in uncovered))
    ratio = _Ratio(len(covered), AHEAD * scope.donors, {a.activity for a in forward},
                   {a.activity for a in forward}, missing)
    return _value(d.MEDIUM_TERM_PREDICTABILITY, scope, ratio)


def _on_budget(scope: Scope) -> IndicatorValue:
    budgets, _ = _scheduled(scope)
    public = [a for a in budgets if a.perimeter in PUBLIC]
    central = [a for a in public if a.perimeter == CENTRAL]
    unplaced = [a for a in budgets if a.perimeter is None]
    off = [a for a in budgets if a.perimeter is not None and a.perimeter not in PUBLIC]
    missing = []
    if unplaced:
        missing.append(f"{len({a.activity for a in unplaced})} activities' budgets for "
                       f"{scope.year} ({_usd(sum(a.cents for a in unplaced))}) have a "
                       "receiver the budget view could not place (see the review list)")
    ratio = _Ratio(sum(a.cents for a in central), sum(a.cents for a in public),
                   {a.activity for a in central}, {a.activity for a in public}, missing)
    reason = None
    if not budgets:
        reason = f"cannot be computed: no budget for {scope.year}"
    elif not public:
        reason = (f"cannot be computed: none of the budgets for {scope.year} goes to a "
                  f"public body ({_usd(sum(a.cents for a in off))} outside every public "
                  f"budget, {_usd(sum(a.cents for a in unplaced))} to receivers not placed)")
    return _value(d.ON_BUDGET, scope, ratio, reason)


def _country_systems(scope: Scope) -> IndicatorValue:
    return _value(d.COUNTRY_SYSTEMS, scope, _Ratio(), d.NO_COUNTRY_SYSTEMS)


def _treasury(scope: Scope) -> IndicatorValue:
    public = [a for a in scope.current if a.measure in FLOWS and a.perimeter in PUBLIC]
    told = [a for a in public if a.channel is not None]
    through = [a for a in told if a.channel == TREASURY_CHANNEL]
    untold = [a for a in public if a.channel is None]
    missing = []
    if untold:
        missing.append(f"{len({a.activity for a in untold})} activities disbursed or spent "
                       f"{_usd(sum(a.cents for a in untold))} to public bodies without a "
                       "disbursement channel")
    ratio = _Ratio(sum(a.cents for a in through), sum(a.cents for a in told),
                   {a.activity for a in through}, {a.activity for a in told}, missing)
    reason = None
    if not public:
        reason = (f"cannot be computed: no disbursement or expenditure in {scope.year} "
                  "to a public body")
    elif not told:
        reason = ("cannot be computed: no disbursement channel is published for the money "
                  "to public bodies")
    return _value(d.TREASURY, scope, ratio, reason)


def _untied(scope: Scope) -> IndicatorValue:
    flows = [a for a in scope.current if a.measure in FLOWS and a.kind == "transaction"]
    status = scope.facts.tied
    told = [a for a in flows if status.get((a.activity, a.position)) in TIED_STATUSES]
    untied = [a for a in told if status.get((a.activity, a.position)) == UNTIED]
    untold = [a for a in flows if status.get((a.activity, a.position)) not in TIED_STATUSES]
    missing = []
    if untold:
        missing.append(f"{len({a.activity for a in untold})} activities disbursed or spent "
                       f"{_usd(sum(a.cents for a in untold))} without a tied status")
    ratio = _Ratio(sum(a.cents for a in untied), sum(a.cents for a in told),
                   {a.activity for a in untied}, {a.activity for a in told}, missing)
    reason = None
    if not flows:
        reason = f"cannot be computed: no disbursement or expenditure in {scope.year}"
    elif not told:
        reason = "cannot be computed: no tied status is published for the year's money"
    return _value(d.UNTIED, scope, ratio, reason)


def _transparency(scope: Scope) -> IndicatorValue:
    activities = scope.activities
    checks = {a: scope.facts.completeness.get(a, ()) for a in activities}
    complete = {a for a, passed in checks.items()
                if len(passed) == len(COMPLETENESS) and all(passed)}
    missing = []
    for index, name in enumerate(COMPLETENESS):
        lacking = sum(1 for passed in checks.values()
                      if index >= len(passed) or not passed[index])
        if lacking:
            missing.append(f"{lacking} activities without {name.replace('_', ' ')}")
    ratio = _Ratio(len(complete), len(activities), complete, activities, missing)
    return _value(d.TRANSPARENCY, scope, ratio)


def _result_indicators(scope: Scope) -> IndicatorValue:
    activities = scope.activities
    measured = activities & scope.facts.with_indicators
    ratio = _Ratio(len(measured), len(activities), measured, activities,
                   [f"{len(activities - measured)} activities without a result indicator"]
                   if activities - measured else [])
    return _value(d.RESULT_INDICATORS, scope, ratio)


def _plan_alignment(scope: Scope) -> IndicatorValue:
    spending = {a.activity for a in scope.current if a.measure in FLOWS}
    sums = [(a, scope.facts.plan.get((a, scope.year), [0, 0])) for a in spending]
    aligned = {a for a, (placed, _) in sums if placed}
    unplaced = sum(rest for _, (_, rest) in sums)
    missing = []
    if unplaced:
        missing.append(f"{_usd(unplaced)} under no objective of a plan in force (see the "
                       "review list: a plan's objectives not loaded, or no crosswalk)")
    ratio = _Ratio(sum(placed for _, (placed, _) in sums),
                   sum(placed + rest for _, (placed, rest) in sums), aligned, spending,
                   missing)
    reason = None if spending else (
        f"cannot be computed: no disbursement or expenditure in {scope.year}")
    return _value(d.PLAN_ALIGNMENT, scope, ratio, reason)


INDICATORS: dict[str, Callable[[Scope], IndicatorValue]] = {
    d.ANNUAL_PREDICTABILITY.code: _annual,
    d.MEDIUM_TERM_PREDICTABILITY.code: _medium_term,
    d.ON_BUDGET.code: _on_budget,
    d.COUNTRY_SYSTEMS.code: _country_systems,
    d.TREASURY.code: _treasury,
    d.UNTIED.code: _untied,
    d.TRANSPARENCY.code: _transparency,
    d.RESULT_INDICATORS.code: _result_indicators,
    d.PLAN_ALIGNMENT.code: _plan_alignment,
}
assert set(INDICATORS) == set(d.BY_CODE)


