"""The rule types of the ruleset specification (IATI-Rulesets ``SPEC.rst``): one checker each.

A `Case` is one case of a rule as `iati.validate.rules` compiles it from the JSON; `evaluate`
runs it through the checker that `RULE_TYPES` names for its type and returns a `Failure` for
every place it does not hold. Some rule types also say how to show, with one test on a whole
record, that a case fails nowhere in it (`RuleType.quiet`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from lxml import etree

from iati.codelists import load_codelist
from iati.findings import Severity
from iati.paths import Node
from iati.validate.xpath import (
    Anchors,
    Scope,
    attribute_of,
    compile_xpath,
    decimal_of,
    select,
    selects_nodes,
    shown,
    text_of,
    value_of,
)

__all__ = ["NOW", "ORG_ID_PREFIX", "RULE_TYPES", "Case", "Failure", "Quiet", "RuleInfo",
           "RuleType", "as_list", "evaluate"]

NOW: Final = "NOW"  # sentinel for a date key: the date of the check
ORG_ID_PREFIX: Final = "ORG-ID-PREFIX"  # sentinel in `prefix`: any registration agency code
# The official validator rounds a sum to 4 decimal places, so 3 × 33.333333 adds up to 100.
_SUM_TOLERANCE: Final = Decimal("0.00005")
# SPEC gives `all` as a name, not an XPath: the items that must each carry it when `one` is
# missing. These two follow the official validator; any other name (`sector`) means "every
# transaction has one".
_ONE_OR_ALL_ITEMS: Final = {
    "lang": ("descendant::narrative", "@xml:lang"),
    "currency": ("descendant::value | descendant::forecast | descendant::loan-status", "@currency"),
}

Quiet = Callable[[Scope], bool]  # true when a case fails nowhere in the record (its scope)
Passes = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a failure of a case is called: its `ruleInfo`, or a stable stand-in without one."""

    code: str
    severity: Severity
    category: str | None
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class Case:
    """One case of one rule type: XPaths compiled, numbers read as Decimal.

    `anchors` are those of all its XPaths (None if one may read more): where none is there,
    the case does what it does on an empty element.
    """

    rule_type: str
    info: RuleInfo
    raw: Mapping[str, Any]
    xpath: Mapping[str, etree.XPath]  # keys holding one XPath (absent: a sentinel such as NOW)
    xpaths: Mapping[str, tuple[etree.XPath, ...]]  # keys holding a list of XPaths
    numbers: Mapping[str, Decimal]
    regex: re.Pattern[str] | None
    body: tuple[Case, ...]  # a loop's `do` cases
    anchors: Anchors | None

    def fail(self, node: Node | None = None, actual: str | None = None) -> Failure:
        return Failure(self, node, actual)

    def matches(self, scope: Scope, key: str = "paths") -> Sequence[Node]:
        return scope.nodes(self.xpaths.get(key, ()))

    def dates(self, scope: Scope, key: str) -> Sequence[tuple[Node | None, date]]:
        return scope.dates(self.xpath.get(key))  # no XPath: NOW


@dataclass(frozen=True, slots=True)
class Failure:
    """A case that does not hold at `node` (None: at the context element itself)."""

    case: Case
    node: Node | None
    actual: str | None


def evaluate(case: Case, scope: Scope) -> list[Failure]:
    """The failures of `case` at `scope`; none when its `condition` or `idCondition` is unmet."""
    # `condition`, `if` and `then` are read as the official validator reads them, not with
    # the XPath boolean() that SPEC names: any node-set holds, even an empty one. So 3.7.1
    # (whose `then` is a node-set) never fails, and 8.8.2 (whose `if` is `@value`) fails
    # for a baseline without a value.
    condition = case.xpath.get("condition")
    if condition is not None and not scope.holds(condition):
        return []
    if not _id_condition_met(case, scope):
        return []
    return RULE_TYPES[case.rule_type].check(case, scope)


def _id_condition_met(case: Case, scope: Scope) -> bool:
    # Without the Registry's list of publishers every identifier counts as unregistered, so
    # the identifier rules (all warnings) apply to every publisher rather than to none.
    kind, registered = case.raw.get("idCondition"), scope.registered_org_ids
    if kind is None or not registered:
        return True
    texts = scope.texts(case.xpaths.get("paths", ()))
    if kind == "NOT_EXISTING_ORG_ID":
        return not registered.intersection(texts)
    prefixes = tuple(f"{org_id}-" for org_id in registered)
    return not any(text.startswith(prefixes) for text in texts)


def _atleast_one(case: Case, scope: Scope) -> list[Failure]:
    return [] if scope.any(case.xpaths["paths"]) else [case.fail()]


def _no_more_than_one(case: Case, scope: Scope) -> list[Failure]:
    found = case.matches(scope)
    return [case.fail(found[1], value_of(found[1]))] if len(found) > 1 else []


def _only_one_of(case: Case, scope: Scope) -> list[Failure]:
    found = case.matches(scope)
    for excluded in case.xpaths["excluded"]:
        if (found if scope.select(excluded) else len(found) != 1):
            return [case.fail(found[1] if len(found) > 1 else None)]
    return []


def _dependent(case: Case, scope: Scope) -> list[Failure]:
    paths = zip(as_list(case.raw["paths"]), case.xpaths["paths"], strict=True)
    present = {path: bool(scope.select(xpath)) for path, xpath in paths}
    if any(present.values()) and not all(present.values()):
        return [case.fail(None, ", ".join(path for path, there in present.items() if not there))]
    return []


def _one_or_all(case: Case, scope: Scope) -> list[Failure]:
    if scope.any((case.xpath["one"],)):
        return []
    needed = case.xpath["required"]
    lacking = (
        item for item in scope.select(case.xpath["items"])
        if isinstance(item, etree._Element) and not select(needed, item, scope.variables)
    )
    # One finding at the first item that lacks it, as the one fix is often `one` (a default
    # language or currency) rather than fifty narratives or values.
    first = next(lacking, None)
    return [] if first is None else [case.fail(first)]


def _unique(case: Case, scope: Scope) -> list[Failure]:
    texts = scope.texts(case.xpaths["paths"])
    if len(set(texts)) == len(texts):
        return []
    seen: set[str] = set()
    failures = []
    for node in case.matches(scope):
        text = text_of(node)
        if text in seen:
            failures.append(case.fail(node, text))
        seen.add(text)
    return failures


def _startswith(case: Case, scope: Scope) -> list[Failure]:
    separator = str(case.raw.get("separator", ""))
    allowed = tuple(text + separator for text in scope.texts(case.xpaths["prefix"]))
    if ORG_ID_PREFIX in as_list(case.raw["prefix"]):
        allowed += _registration_prefixes()
    return _each_text(case, scope, lambda text: text.startswith(allowed))


def _strict_sum(case: Case, scope: Scope) -> list[Failure]:
    amounts = [decimal_of(text) for text in scope.texts(case.xpaths["paths"])]
    readable = [amount for amount in amounts if amount is not None]
    if len(readable) < len(amounts):
        return []  # a value that is not a number has no sum; the schema stage reports it
    total = sum(readable, Decimal(0))
    within = abs(total - case.numbers["sum"]) < _SUM_TOLERANCE
    return [] if within else [case.fail(None, str(total))]


def _sum(case: Case, scope: Scope) -> list[Failure]:
    return _strict_sum(case, scope) if scope.any(case.xpaths["paths"]) else []


def _date_order(case: Case, scope: Scope) -> list[Failure]:
    later = case.dates(scope, "more")
    if not later:
        return []  # either date missing or unreadable: SPEC ignores the rule
    latest_allowed = min(day for _, day in later)
    return [case.fail(node, shown(node, day))
            for node, day in case.dates(scope, "less") if day > latest_allowed]


def _date_now(case: Case, scope: Scope) -> list[Failure]:
    return [case.fail(node, shown(node, day))
            for node, day in case.dates(scope, "date") if day > scope.today]


def _time_limit(case: Case, scope: Scope) -> list[Failure]:
    starts, ends = case.dates(scope, "start"), case.dates(scope, "end")
    if not starts or not ends or (ends[0][1] - starts[0][1]).days <= 365:
        return []
    (start_node, start), (end_node, end) = starts[0], ends[0]
    return [case.fail(end_node, f"{shown(start_node, start)}/{shown(end_node, end)}")]


def _between_dates(case: Case, scope: Scope) -> list[Failure]:
    starts, ends = case.dates(scope, "start"), case.dates(scope, "end")
    if not starts or not ends:
        return []
    return [case.fail(node, shown(node, day)) for node, day in case.dates(scope, "date")
            if not starts[0][1] <= day <= ends[0][1]]


def _if_then(case: Case, scope: Scope) -> list[Failure]:
    if not scope.holds(case.xpath["if"]) or scope.holds(case.xpath["then"]):
        return []
    values = [value for value in map(value_of, case.matches(scope)) if value is not None]
    return [case.fail(None, values[0] if values else None)]


def _loop(case: Case, scope: Scope) -> list[Failure]:
    failures = []
    for value in dict.fromkeys(text_of(node) for node in scope.select(case.xpath["foreach"])):
        inner = scope.bound(value)
        for sub_case in case.body:
            failures += evaluate(sub_case, inner)
    return failures


def _each_text(case: Case, scope: Scope, passes: Passes) -> list[Failure]:
    if all(map(passes, scope.texts(case.xpaths["paths"]))):
        return []  # as almost always: no node needs building
    texts = ((node, text_of(node)) for node in case.matches(scope))
    return [case.fail(node, text) for node, text in texts if not passes(text)]


def _unspaced(case: Case) -> Passes:
    return lambda text: text == text.strip()


def _matching(case: Case) -> Passes:
    assert case.regex is not None  # a required key of the rule type
    search = case.regex.search  # an empty value passes, as in the official validator
    return lambda text: not text or search(text) is not None


def _not_matching(case: Case) -> Passes:
    matching = _matching(case)
    return lambda text: not text or not matching(text)


def _within(case: Case) -> Passes:
    low, high = case.numbers.get("min"), case.numbers.get("max")

    def within(text: str) -> bool:
        amount = decimal_of(text)  # not a number: the schema stage reports it
        if amount is None:
            return True
        return (low is None or low <= amount) and (high is None or amount <= high)

    return within


# A case is quiet in a record when no element of its context (`context`, an XPath from the
# record) can fail it. The quiet tests below read case expressions inside a predicate on the
# context, which is only sound for expressions that `anchors_of` understands (no position()).

def _atleast_one_quiet(case: Case, context: str) -> Quiet | None:
    paths = case.xpaths["paths"]
    if case.anchors is None or not all(map(selects_nodes, paths)):
        return None
    return _nowhere(
        context, *_holding(case.xpath.get("condition")), *(f"not({xpath.path})" for xpath in paths)
    )


def _if_then_quiet(case: Case, context: str) -> Quiet | None:
    if case.anchors is None:
        return None
    then = case.xpath["then"]
    if selects_nodes(then):  # a node-set always holds: the case can never fail
        return lambda record: True
    return _nowhere(context, *_holding(case.xpath["if"]), f"not({then.path})")


def _holding(xpath: etree.XPath | None) -> list[str]:
    """The predicate tests for `xpath` holding as `Scope.holds` reads it (none: it always
    holds)."""
    if xpath is None or selects_nodes(xpath):
        return []
    return [f"boolean({xpath.path})"]


def _nowhere(context: str, *tests: str) -> Quiet:
    """Quiet where no element of `context` passes all `tests`."""
    failing = compile_xpath(f"({context})[{' and '.join(tests)}]")
    return lambda record: not record.select(failing)


@dataclass(frozen=True, slots=True)
class RuleType:
    """A rule type of SPEC: its checker and the case keys it cannot do without; `implied`,
    the XPaths it evaluates besides the case's own (compiled into `Case.xpath` with them);
    `quiet`, a case's quiet test in a context, where one is known."""

    check: Callable[[Case, Scope], list[Failure]]
    required: tuple[str, ...]
    implied: Callable[[Mapping[str, Any]], Mapping[str, str]] = lambda raw: {}
    quiet: Callable[[Case, str], Quiet | None] = lambda case, context: None


def _text_rule(passes: Callable[[Case], Passes], *required: str) -> RuleType:
    """The rule type that fails at each node of `paths` whose text does not pass."""

    def quiet(case: Case, context: str) -> Quiet | None:
        if not all(map(attribute_of, case.xpaths["paths"])):
            return None  # only a plain ``@name`` joins safely onto the context
        joined = " | ".join(f"({context})/{xpath.path}" for xpath in case.xpaths["paths"])
        texts, test = compile_xpath(joined), passes(case)
        return lambda record: all(map(test, record.texts((texts,))))

    return RuleType(lambda case, scope: _each_text(case, scope, passes(case)),
                    ("paths", *required), quiet=quiet)


def _one_or_all_items(raw: Mapping[str, Any]) -> dict[str, str]:
    items, required = _ONE_OR_ALL_ITEMS.get(raw["all"], ("transaction", raw["all"]))
    return {"items": items, "required": required}


RULE_TYPES: Final[Mapping[str, RuleType]] = {
    "no_more_than_one": RuleType(_no_more_than_one, ("paths",)),
    "atleast_one": RuleType(_atleast_one, ("paths",), quiet=_atleast_one_quiet),
    "only_one_of": RuleType(_only_one_of, ("paths", "excluded")),
    "one_or_all": RuleType(_one_or_all, ("one", "all"), _one_or_all_items),
    "dependent": RuleType(_dependent, ("paths",)),
    "sum": RuleType(_sum, ("paths", "sum")),
    "date_order": RuleType(_date_order, ("less", "more")),
    "date_now": RuleType(_date_now, ("date",)),
    "time_limit": RuleType(_time_limit, ("start", "end")),
    "between_dates": RuleType(_between_dates, ("date", "start", "end")),
    "regex_matches": _text_rule(_matching, "regex"),
    "regex_no_matches": _text_rule(_not_matching, "regex"),
    "startswith": RuleType(_startswith, ("paths", "prefix")),
    "unique": RuleType(_unique, ("paths",)),
    "if_then": RuleType(_if_then, ("if", "then"), quiet=_if_then_quiet),
    "loop": RuleType(_loop, ("foreach", "do")),
    "strict_sum": RuleType(_strict_sum, ("paths", "sum")),
    "no_spaces": _text_rule(_unspaced),
    # Used by standard.json and SPEC's own example, though SPEC's list of names omits it.
    "range": _text_rule(_within),
}


def as_list(value: str | Iterable[str]) -> list[str]:
    """A key the JSON gives as one string or as a list of them, as a list."""
    return [value] if isinstance(value, str) else [str(item) for item in value]


@functools.cache
def _registration_prefixes() -> tuple[str, ...]:
    """``code-`` for each OrganisationRegistrationAgency code, withdrawn ones too: identifiers
    drawn from a withdrawn list stay in use."""
    return tuple(f"{item.code}-" for item in load_codelist("OrganisationRegistrationAgency"))
