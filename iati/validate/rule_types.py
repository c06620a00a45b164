"""The rule types of the ruleset specification (IATI-Rulesets ``SPEC.rst``): one checker each.

A `Case` is one case of a rule as `iati.validate.rules` compiles it from the JSON; `evaluate`
runs it through the checker that `RULE_TYPES` names for its type and yields a `Failure` for
every place it does not hold.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from lxml import etree

from iati.codelists import load_codelist
from iati.findings import Severity
from iati.paths import Node
from iati.validate.xpath import Scope, compile_xpath, decimal_of, select, shown, text_of, value_of

__all__ = ["NOW", "ORG_ID_PREFIX", "RULE_TYPES", "Case", "Failure", "RuleInfo", "RuleType",
           "as_list", "evaluate"]

NOW: Final = "NOW"  # sentinel for a date key: the date of the check
ORG_ID_PREFIX: Final = "ORG-ID-PREFIX"  # sentinel in `prefix`: any registration agency code
# The official validator rounds a sum to 4 decimal places, so 3 × 33.333333 adds up to 100.
_SUM_TOLERANCE: Final = Decimal("0.00005")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a failure of a case is called: its `ruleInfo`, or a stable stand-in without one."""

    code: str
    severity: Severity
    category: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Case:
    """One case of one rule type: XPaths compiled, numbers read as Decimal."""

    rule_type: str
    info: RuleInfo
    raw: Mapping[str, Any]
    xpath: Mapping[str, etree.XPath]  # keys holding one XPath (absent: a sentinel such as NOW)
    xpaths: Mapping[str, tuple[etree.XPath, ...]]  # keys holding a list of XPaths
    numbers: Mapping[str, Decimal]
    regex: re.Pattern[str] | None
    body: tuple[Case, ...]  # a loop's `do` cases

    def fail(self, node: Node | None = None, actual: str | None = None) -> Failure:
        return Failure(self, node, actual)

    def matches(self, scope: Scope, key: str = "paths") -> list[Node]:
        return scope.nodes(self.xpaths.get(key, ()))

    def dates(self, scope: Scope, key: str) -> list[tuple[Node | None, date]]:
        return scope.dates(self.xpath.get(key))  # no XPath: NOW


@dataclass(frozen=True, slots=True)
class Failure:
    """A case that does not hold at `node` (None: at the context element itself)."""

    case: Case
    node: Node | None
    actual: str | None


def evaluate(case: Case, scope: Scope) -> Iterator[Failure]:
    """The failures of `case` at `scope`; none when its `condition` or `idCondition` is unmet."""
    # `condition`, `if` and `then` are read with XPath boolean(), as SPEC says; the official
    # JS validator takes any node-set as true, even an empty one, so its 3.7.1 never fails.
    condition = case.xpath.get("condition")
    if condition is not None and not scope.holds(condition):
        return
    if _id_condition_met(case, scope):
        yield from RULE_TYPES[case.rule_type].check(case, scope)


def _id_condition_met(case: Case, scope: Scope) -> bool:
    # Without the Registry's list of publishers every identifier counts as unregistered, so
    # the identifier rules (all warnings) apply to every publisher rather than to none.
    kind, registered = case.raw.get("idCondition"), scope.registered_org_ids
    if kind is None or not registered:
        return True
    texts = [text_of(node) for node in case.matches(scope)]
    if kind == "NOT_EXISTING_ORG_ID":
        return not registered.intersection(texts)
    prefixes = tuple(f"{org_id}-" for org_id in registered)
    return not any(text.startswith(prefixes) for text in texts)


def _atleast_one(case: Case, scope: Scope) -> Iterator[Failure]:
    if not case.matches(scope):
        yield case.fail()


def _no_more_than_one(case: Case, scope: Scope) -> Iterator[Failure]:
    found = case.matches(scope)
    if len(found) > 1:
        yield case.fail(found[1], value_of(found[1]))


def _only_one_of(case: Case, scope: Scope) -> Iterator[Failure]:
    found = case.matches(scope)
    for excluded in case.xpaths["excluded"]:
        if (found if scope.select(excluded) else len(found) != 1):
            yield case.fail(found[1] if len(found) > 1 else None)
            return


def _dependent(case: Case, scope: Scope) -> Iterator[Failure]:
    paths = zip(as_list(case.raw["paths"]), case.xpaths["paths"], strict=True)
    present = {path: bool(scope.select(xpath)) for path, xpath in paths}
    if any(present.values()) and not all(present.values()):
        yield case.fail(None, ", ".join(path for path, there in present.items() if not there))


# SPEC gives `all` as a name, not an XPath: the items that must each carry it when `one` is
# missing. These two follow the official validator; any other name (`sector`) means "every
# transaction has one".
_ONE_OR_ALL_ITEMS: Final = {
    "lang": ("descendant::narrative", "@xml:lang"),
    "currency": ("descendant::value | descendant::forecast | descendant::loan-status", "@currency"),
}


def _one_or_all(case: Case, scope: Scope) -> Iterator[Failure]:
    if scope.select(case.xpath["one"]):
        return
    items, required = _ONE_OR_ALL_ITEMS.get(case.raw["all"], ("transaction", case.raw["all"]))
    needed = compile_xpath(required)
    lacking = (
        item for item in scope.select(compile_xpath(items))
        if isinstance(item, etree._Element) and not select(needed, item, scope.variables)
    )
    # One finding at the first item that lacks it, as the one fix is often `one` (a default
    # language or currency) rather than fifty narratives or values.
    first = next(lacking, None)
    if first is not None:
        yield case.fail(first)


def _unique(case: Case, scope: Scope) -> Iterator[Failure]:
    seen: set[str] = set()
    for node in case.matches(scope):
        text = text_of(node)
        if text in seen:
            yield case.fail(node, text)
        seen.add(text)


def _no_spaces(case: Case, scope: Scope) -> Iterator[Failure]:
    yield from _each_text(case, scope, lambda text: text == text.strip())


def _regex_matches(case: Case, scope: Scope) -> Iterator[Failure]:
    search = _search(case)  # an empty value passes, as in the official validator
    yield from _each_text(case, scope, lambda text: not text or search(text) is not None)


def _regex_no_matches(case: Case, scope: Scope) -> Iterator[Failure]:
    search = _search(case)
    yield from _each_text(case, scope, lambda text: not text or search(text) is None)


def _startswith(case: Case, scope: Scope) -> Iterator[Failure]:
    separator = str(case.raw.get("separator", ""))
    starts = [text_of(node) + separator for node in case.matches(scope, "prefix")]
    if ORG_ID_PREFIX in as_list(case.raw["prefix"]):
        starts.extend(f"{code}-" for code in _registration_agencies())
    allowed = tuple(starts)
    yield from _each_text(case, scope, lambda text: text.startswith(allowed))


def _range(case: Case, scope: Scope) -> Iterator[Failure]:
    low, high = case.numbers.get("min"), case.numbers.get("max")

    def within(text: str) -> bool:
        amount = decimal_of(text)  # not a number: the schema stage reports it
        if amount is None:
            return True
        return (low is None or low <= amount) and (high is None or amount <= high)

    yield from _each_text(case, scope, within)


def _strict_sum(case: Case, scope: Scope) -> Iterator[Failure]:
    amounts = [decimal_of(text_of(node)) for node in case.matches(scope)]
    readable = [amount for amount in amounts if amount is not None]
    if len(readable) < len(amounts):
        return  # a value that is not a number has no sum; the schema stage reports it
    total = sum(readable, Decimal(0))
    if abs(total - case.numbers["sum"]) >= _SUM_TOLERANCE:
        yield case.fail(None, str(total))


def _sum(case: Case, scope: Scope) -> Iterator[Failure]:
    if case.matches(scope):
        yield from _strict_sum(case, scope)


def _date_order(case: Case, scope: Scope) -> Iterator[Failure]:
    later = case.dates(scope, "more")
    if not later:
        return  # either date missing or unreadable: SPEC ignores the rule
    latest_allowed = min(day for _, day in later)
    for node, day in case.dates(scope, "less"):
        if day > latest_allowed:
            yield case.fail(node, shown(node, day))


def _date_now(case: Case, scope: Scope) -> Iterator[Failure]:
    for node, day in case.dates(scope, "date"):
        if day > scope.today:
            yield case.fail(node, shown(node, day))


def _time_limit(case: Case, scope: Scope) -> Iterator[Failure]:
    starts, ends = case.dates(scope, "start"), case.dates(scope, "end")
    if starts and ends and (ends[0][1] - starts[0][1]).days > 365:
        (start_node, start), (end_node, end) = starts[0], ends[0]
        yield case.fail(end_node, f"{shown(start_node, start)}/{shown(end_node, end)}")


def _between_dates(case: Case, scope: Scope) -> Iterator[Failure]:
    starts, ends = case.dates(scope, "start"), case.dates(scope, "end")
    if not starts or not ends:
        return
    for node, day in case.dates(scope, "date"):
        if not starts[0][1] <= day <= ends[0][1]:
            yield case.fail(node, shown(node, day))


def _if_then(case: Case, scope: Scope) -> Iterator[Failure]:
    if scope.holds(case.xpath["if"]) and not scope.holds(case.xpath["then"]):
        values = [value for value in map(value_of, case.matches(scope)) if value is not None]
        yield case.fail(None, values[0] if values else None)


def _loop(case: Case, scope: Scope) -> Iterator[Failure]:
    for value in dict.fromkeys(text_of(node) for node in scope.select(case.xpath["foreach"])):
        inner = scope.bound(value)
        for sub_case in case.body:
            yield from evaluate(sub_case, inner)


@dataclass(frozen=True, slots=True)
class RuleType:
    """A rule type of SPEC: its checker and the case keys it cannot do without."""

    check: Callable[[Case, Scope], Iterator[Failure]]
    required: tuple[str, ...]


RULE_TYPES: Final[Mapping[str, RuleType]] = {
    "no_more_than_one": RuleType(_no_more_than_one, ("paths",)),
    "atleast_one": RuleType(_atleast_one, ("paths",)),
    "only_one_of": RuleType(_only_one_of, ("paths", "excluded")),
    "one_or_all": RuleType(_one_or_all, ("one", "all")),
    "dependent": RuleType(_dependent, ("paths",)),
    "sum": RuleType(_sum, ("paths", "sum")),
    "date_order": RuleType(_date_order, ("less", "more")),
    "date_now": RuleType(_date_now, ("date",)),
    "time_limit": RuleType(_time_limit, ("start", "end")),
    "between_dates": RuleType(_between_dates, ("date", "start", "end")),
    "regex_matches": RuleType(_regex_matches, ("paths", "regex")),
    "regex_no_matches": RuleType(_regex_no_matches, ("paths", "regex")),
    "startswith": RuleType(_startswith, ("paths", "prefix")),
    "unique": RuleType(_unique, ("paths",)),
    "if_then": RuleType(_if_then, ("if", "then")),
    "loop": RuleType(_loop, ("foreach", "do")),
    "strict_sum": RuleType(_strict_sum, ("paths", "sum")),
    "no_spaces": RuleType(_no_spaces, ("paths",)),
    # Used by standard.json and SPEC's own example, though SPEC's list of names omits it.
    "range": RuleType(_range, ("paths",)),
}


def _each_text(case: Case, scope: Scope, passes: Callable[[str], bool]) -> Iterator[Failure]:
    for node in case.matches(scope):
        text = text_of(node)
        if not passes(text):
            yield case.fail(node, text)


def _search(case: Case) -> Callable[[str], re.Match[str] | None]:
    assert case.regex is not None  # required key of the regex rule types
    return case.regex.search


def as_list(value: str | Iterable[str]) -> list[str]:
    """A key the JSON gives as one string or as a list of them, as a list."""
    return [value] if isinstance(value, str) else [str(item) for item in value]


@functools.cache
def _registration_agencies() -> tuple[str, ...]:
    """OrganisationRegistrationAgency codes, withdrawn ones too: identifiers drawn from a
    withdrawn list stay in use."""
    return tuple(item.code for item in load_codelist("OrganisationRegistrationAgency"))
