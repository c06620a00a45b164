"""Validation stage (c): the IATI Standard Ruleset (`standard.json`), interpreted from its JSON.

Every rule type that the ruleset specification (IATI-Rulesets ``SPEC.rst``) names has one
checker in `RULE_TYPES`; each case of the JSON is compiled once (XPaths precompiled) and run by
the checker of its type, so no rule is written here by hand. Rule 1.1.2 (identifiers unique
within a file) is "Rules Code" in the official validator, not ruleset data: `UniqueIdentifiers`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from lxml import etree

from iati.artefacts import codelist_path, ruleset_path
from iati.findings import Finding, Severity, Stage
from iati.validate.xpath import (
    LOOP_VARIABLE,
    Node,
    NodePaths,
    Scope,
    compile_xpath,
    decimal_of,
    line_of,
    record_scoped,
    select,
    shown,
    text_of,
    value_of,
)

__all__ = ["RULE_TYPES", "Case", "Ruleset", "UniqueIdentifiers"]

NOW: Final = "NOW"  # sentinel for a date key: the date of the check
ORG_ID_PREFIX: Final = "ORG-ID-PREFIX"  # sentinel in `prefix`: any registration agency code
_XPATH_KEYS: Final = ("condition", "less", "more", "date", "start", "end", "one", "if", "then",
                      "foreach")
_XPATH_LIST_KEYS: Final = ("paths", "excluded", "prefix")
_NUMBER_KEYS: Final = ("sum", "min", "max")
_ID_CONDITIONS: Final = frozenset({"NOT_EXISTING_ORG_ID", "NOT_EXISTING_ORG_ID_PREFIX"})
# A loop's value becomes an XPath variable rather than text pasted into the expression: a
# value holding a quote cannot break the XPath, and each expression is compiled only once.
_LOOP_PLACEHOLDER: Final = re.compile(r"'\$1'|\"\$1\"|\$1")
# SPEC lets rule names be camelCase too; these two do not snake-case to the JSON spelling.
_RULE_ALIASES: Final = {"at_least_one": "atleast_one", "starts_with": "startswith"}
# The official validator rounds a sum to 4 decimal places, so 3 × 33.333333 adds up to 100.
_SUM_TOLERANCE: Final = Decimal("0.00005")
_SAFE_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a failure of a case is called: its `ruleInfo`, or a stable stand-in without one."""

    code: str
    severity: Severity
    category: str | None
    message: str

    @classmethod
    def of(cls, rule_type: str, raw: Mapping[str, Any]) -> RuleInfo:
        info = raw.get("ruleInfo") or {}
        keys = ", ".join(f"{key} {raw[key]!r}" for key in raw if key not in ("ruleInfo", "do"))
        message = info.get("message") or f"The ruleset rule {rule_type} ({keys}) does not hold."
        return cls(
            code=str(info.get("id") or "ruleset.rule"),
            severity=Severity(str(info.get("severity", "error")).lower()),
            category=info.get("category"),
            message=str(message),
        )


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
    paths = zip(_as_list(case.raw["paths"]), case.xpaths["paths"], strict=True)
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
    if ORG_ID_PREFIX in _as_list(case.raw["prefix"]):
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


def _as_list(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value]


@functools.cache
def _registration_agencies() -> tuple[str, ...]:
    """OrganisationRegistrationAgency codes, withdrawn ones too: identifiers drawn from a
    withdrawn list stay in use."""
    tree = etree.parse(str(codelist_path("OrganisationRegistrationAgency")), _SAFE_PARSER)
    codes = tree.xpath("//codelist-item/code/text()")
    return tuple(str(code).strip() for code in codes) if isinstance(codes, list) else ()


@dataclass(frozen=True, slots=True)
class _Context:
    """A ruleset context: its XPath, scoped to a record, and the cases run on what it selects."""

    source: str
    select: etree.XPath
    cases: tuple[Case, ...]


class Ruleset:
    """One version's IATI Standard Ruleset, compiled; `check` runs it on one record."""

    def __init__(self, version: str, contexts: Iterable[_Context]) -> None:
        self.version = version
        self._contexts = tuple(contexts)

    @classmethod
    def load(cls, version: str) -> Ruleset:
        """The vendored `standard.json` of `version`, compiled once per process."""
        return _load(version)

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, version: str) -> Ruleset:
        """Compile a ruleset; raises ValueError for a rule type or key SPEC does not allow."""
        return cls(version, (
            _Context(source, compile_xpath(record_scoped(source)), _compile_rules(rules, ()))
            for source, rules in document.items()
        ))

    @property
    def cases(self) -> tuple[Case, ...]:
        """Every case, the cases inside loops included."""
        return tuple(_flatten(case for context in self._contexts for case in context.cases))

    def check(
        self,
        record: etree._Element,
        *,
        today: date,
        activity: str | None = None,
        position: int | None = None,
        registered_org_ids: Collection[str] = (),
    ) -> list[Finding]:
        """The ruleset findings of `record`, an ``iati-activity`` or ``iati-organisation``.

        `today` is the date that ``NOW`` and `date_now` mean; `position`, the record's 1-based
        place in its file, goes into each xpath; `registered_org_ids`, the Registry's
        publisher identifiers, are what the `idCondition` of identifier rules exempts.
        """
        paths = NodePaths(record, position)
        registered = frozenset(registered_org_ids)
        findings: list[Finding] = []
        for context in self._contexts:
            for element in select(context.select, record, {}):
                if isinstance(element, etree._Element):
                    scope = Scope(element, today, registered)
                    failures = (f for case in context.cases for f in evaluate(case, scope))
                    findings.extend(_finding(f, element, paths, activity) for f in failures)
        return findings


@functools.cache
def _load(version: str) -> Ruleset:
    document = json.loads(ruleset_path(version).read_text(encoding="utf-8"))
    return Ruleset.from_json(document, version=version)


def _compile_rules(rules: Mapping[str, Any], subs: Collection[str]) -> tuple[Case, ...]:
    return tuple(
        _compile_case(rule_type, raw, subs)
        for rule_type, rule in rules.items()
        for raw in rule["cases"]
    )


def _compile_case(rule_type: str, raw: Mapping[str, Any], subs: Collection[str]) -> Case:
    name = _canonical(rule_type)
    if name not in RULE_TYPES:
        raise ValueError(f"ruleset rule type {rule_type!r} is not one that SPEC.rst names")
    missing = [key for key in RULE_TYPES[name].required if key not in raw]
    if missing or raw.get("idCondition", "NOT_EXISTING_ORG_ID") not in _ID_CONDITIONS:
        raise ValueError(f"ruleset case of {rule_type} lacks {missing} or has a bad idCondition")

    def compiled(key: str, expression: str) -> etree.XPath:
        if key in subs:  # SPEC: only the keys a loop names in `subs` take its value
            expression = _LOOP_PLACEHOLDER.sub(f"${LOOP_VARIABLE}", expression)
        return compile_xpath(expression)

    return Case(
        rule_type=name,
        info=RuleInfo.of(name, raw),
        raw=raw,
        xpath={key: compiled(key, raw[key]) for key in _XPATH_KEYS if raw.get(key, NOW) != NOW},
        xpaths={
            key: tuple(compiled(key, path) for path in _as_list(raw[key]) if path != ORG_ID_PREFIX)
            for key in _XPATH_LIST_KEYS
            if key in raw
        },
        numbers={key: Decimal(str(raw[key])) for key in _NUMBER_KEYS if key in raw},
        regex=re.compile(raw["regex"]) if "regex" in raw else None,
        body=_compile_rules(raw.get("do", {}), _as_list(raw.get("subs", ()))),
    )


def _canonical(rule_type: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", rule_type).lower()
    return _RULE_ALIASES.get(snake, snake)


def _flatten(cases: Iterable[Case]) -> Iterator[Case]:
    for case in cases:
        yield case
        yield from _flatten(case.body)


def _finding(
    failure: Failure, at: etree._Element, paths: NodePaths, activity: str | None
) -> Finding:
    node = at if failure.node is None else failure.node
    info = failure.case.info
    return Finding(
        code=info.code, severity=info.severity, message=info.message, stage=Stage.RULESET,
        xpath=paths.of(node), line=line_of(node), activity=activity, actual=failure.actual,
        category=info.category,
    )


class UniqueIdentifiers:
    """Rule 1.1.2 over one file: an activity identifier may occur only once.

    Feed it each activity's identifier in file order. Identifiers are compared without
    surrounding whitespace; rule 1.3.1 reports such whitespace on its own.
    """

    def __init__(self) -> None:
        self._first_line: dict[str, int | None] = {}

    def see(self, identifier: str, line: int | None) -> Finding | None:
        """A 1.1.2 finding if `identifier` was seen earlier in this file, else None."""
        key = identifier.strip()
        if not key:
            return None  # a missing identifier is the schema stage's to report
        if key not in self._first_line:
            self._first_line[key] = line
            return None
        first = self._first_line[key]
        return Finding(
            code="1.1.2", severity=Severity.ERROR, stage=Stage.RULESET, category="identifiers",
            message="The activity identifier must be unique for each activity"
            + (f"; it first appears at line {first}." if first is not None else "."),
            line=line, activity=identifier, actual=identifier,
        )
