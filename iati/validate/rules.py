"""Validation stage (c): the IATI Standard Ruleset (`standard.json`), interpreted from its JSON.

Every rule type that the ruleset specification (IATI-Rulesets ``SPEC.rst``) names has one
checker in `RULE_TYPES` (`iati.validate.rule_types`); each case of the JSON is compiled here
once (XPaths precompiled) and run by the checker of its type, so no rule is written by hand.
Work that the expressions alone show to be useless is skipped: a context whose steps a record
lacks is not searched; a case that finds nothing on an empty element is not run on a record
lacking every element it reads (`_Planner`); a case that a quiet test clears for the whole
record is not run element by element (`RuleType.quiet`).
Rule 1.1.2 (identifiers unique within a file) is "Rules Code" in the official validator, not
ruleset data: `UniqueIdentifiers`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from lxml import etree

from iati.artefacts import ruleset_path
from iati.findings import DUPLICATE_IDENTIFIER, Finding, Severity, Stage
from iati.paths import RecordPaths, line_of
from iati.validate.rule_types import (
    NOW,
    ORG_ID_PREFIX,
    RULE_TYPES,
    Case,
    Failure,
    Quiet,
    RuleInfo,
    as_list,
    evaluate,
)
from iati.validate.xpath import (
    LOOP_VARIABLE,
    Anchors,
    Scope,
    anchors_of,
    compile_xpath,
    record_scoped,
    required_names,
    select,
)

__all__ = ["RULE_TYPES", "Case", "Ruleset", "UniqueIdentifiers"]

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
# On the record itself, quiet tests would cost what the checks cost.
_RECORD_ITSELF: Final = re.compile(r"self::[\w.-]+")
_PLANS_KEPT: Final = 1024  # sets of element names a planner remembers before starting over


@dataclass(frozen=True, slots=True)
class _Context:
    """A ruleset context: its XPath, scoped to a record, and the cases run on what it selects.

    `requires` holds, per branch of the XPath, the element names it cannot select without
    (None: not known); `quiet`, the quiet tests of its cases, for contexts below the record.
    """

    source: str
    select: etree.XPath
    cases: tuple[Case, ...]
    requires: tuple[frozenset[str], ...] | None
    quiet: Mapping[Case, Quiet]

    @classmethod
    def compile(cls, source: str, cases: tuple[Case, ...]) -> _Context:
        scoped = record_scoped(source)
        quiet = {} if _RECORD_ITSELF.fullmatch(scoped) else {
            case: test for case in cases
            if (test := RULE_TYPES[case.rule_type].quiet(case, scoped)) is not None
        }
        return cls(source, compile_xpath(scoped), cases, required_names(source), quiet)

    def plan(self, names: Set[object], inert: Set[Case]) -> tuple[Case, ...]:
        """The cases to run in a record holding the element `names`: all but those inert
        (finding nothing on an empty element) whose anchors are all absent."""
        if self.requires is not None and not any(req <= names for req in self.requires):
            return ()
        return tuple(case for case in self.cases if not (
            case in inert and case.anchors is not None and not case.anchors.attributes
            and case.anchors.elements.isdisjoint(names)
        ))

    def unquiet(self, cases: tuple[Case, ...], record: Scope) -> Sequence[Case]:
        """The `cases` that the record does not show at once to fail nowhere."""
        quiet = self.quiet
        return [case for case in cases if case not in quiet or not quiet[case](record)]


class _Planner:
    """The contexts to search in a record and the cases to run there, by the element names in
    it; remembered per set of names that matter (the records of a file tend to share one)."""

    def __init__(self, contexts: tuple[_Context, ...], inert: frozenset[Case]) -> None:
        self._contexts, self._inert = contexts, inert
        self._names = frozenset().union(*(
            names for context in contexts
            for names in (*(case.anchors.elements for case in context.cases if case.anchors),
                          *(context.requires or ()))
        ))
        self._known: dict[frozenset[object], list[tuple[_Context, tuple[Case, ...]]]] = {}

    def __call__(self, names: set[object]) -> list[tuple[_Context, tuple[Case, ...]]]:
        key = self._names.intersection(names)
        plans = self._known.get(key)
        if plans is None:
            if len(self._known) >= _PLANS_KEPT:
                self._known.clear()
            planned = ((context, context.plan(key, self._inert)) for context in self._contexts)
            plans = self._known[key] = [(context, cases) for context, cases in planned if cases]
        return plans


class Ruleset:
    """One version's IATI Standard Ruleset, compiled; `check` runs it on one record."""

    def __init__(self, version: str, contexts: Iterable[_Context]) -> None:
        self.version = version
        self._contexts = tuple(contexts)
        self._planner: tuple[tuple[date, frozenset[str]], _Planner] | None = None

    @classmethod
    def load(cls, version: str) -> Ruleset:
        """The vendored `standard.json` of `version`, compiled once per process."""
        return _load(version)

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, version: str) -> Ruleset:
        """Compile a ruleset; raises ValueError for a rule type or key SPEC does not allow."""
        return cls(version, (
            _Context.compile(source, _compile_rules(rules, ()))
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
        paths = RecordPaths(record, position)
        registered = frozenset(registered_org_ids)
        planner, whole = self._planner_for(today, registered), Scope(record, today, registered)
        findings: list[Finding] = []
        for context, planned in planner({element.tag for element in record.iter()}):
            cases = context.unquiet(planned, whole)
            for element in select(context.select, record, {}) if cases else ():
                if isinstance(element, etree._Element):
                    scope = Scope(element, today, registered)
                    for case in cases:
                        failures = evaluate(case, scope)
                        if failures:
                            findings += (_finding(f, element, paths, activity) for f in failures)
        return findings

    def _planner_for(self, today: date, registered: frozenset[str]) -> _Planner:
        """The planner for `today` and `registered` (kept for the last pair asked about)."""
        known = self._planner
        if known is None or known[0] != (today, registered):
            empty = Scope(etree.Element("empty"), today, registered)
            inert = frozenset(
                case for context in self._contexts for case in context.cases
                if case.anchors is not None and not evaluate(case, empty)
            )
            known = self._planner = ((today, registered), _Planner(self._contexts, inert))
        return known[1]


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

    single = {key: raw[key] for key in _XPATH_KEYS if raw.get(key, NOW) != NOW}
    single.update(RULE_TYPES[name].implied(raw))
    lists = {
        key: [path for path in as_list(raw[key]) if path != ORG_ID_PREFIX]
        for key in _XPATH_LIST_KEYS
        if key in raw
    }
    xpath = {key: compiled(key, expression) for key, expression in single.items()}
    xpaths = {key: tuple(compiled(key, path) for path in paths) for key, paths in lists.items()}
    return Case(
        rule_type=name,
        info=_rule_info(name, raw),
        raw=raw,
        xpath=xpath,
        xpaths=xpaths,
        numbers={key: Decimal(str(raw[key])) for key in _NUMBER_KEYS if key in raw},
        regex=re.compile(raw["regex"]) if "regex" in raw else None,
        body=_compile_rules(raw.get("do", {}), as_list(raw.get("subs", ()))),
        anchors=_anchors([*xpath.values(), *(path for paths in xpaths.values() for path in paths)]),
    )


def _anchors(xpaths: Iterable[etree.XPath]) -> Anchors | None:
    """The anchors of all `xpaths`; None if any may read more."""
    found: Anchors | None = Anchors(frozenset(), frozenset())
    for anchors in (anchors_of(xpath.path) for xpath in xpaths):
        found = None if anchors is None or found is None else found | anchors
    return found


def _rule_info(rule_type: str, raw: Mapping[str, Any]) -> RuleInfo:
    """The case's `ruleInfo`, or a stable stand-in naming its rule type and keys."""
    info = raw.get("ruleInfo") or {}
    keys = ", ".join(f"{key} {raw[key]!r}" for key in raw if key not in ("ruleInfo", "do"))
    message = info.get("message") or f"The ruleset rule {rule_type} ({keys}) does not hold."
    return RuleInfo(
        code=str(info.get("id") or "ruleset.rule"),
        severity=Severity(str(info.get("severity", "error")).lower()),
        category=info.get("category"),
        message=str(message),
    )


def _canonical(rule_type: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", rule_type).lower()
    return _RULE_ALIASES.get(snake, snake)


def _flatten(cases: Iterable[Case]) -> Iterator[Case]:
    for case in cases:
        yield case
        yield from _flatten(case.body)


def _finding(
    failure: Failure, at: etree._Element, paths: RecordPaths, activity: str | None
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
    surrounding whitespace; rule 1.3.1 reports such whitespace on its own. As in the
    official validator, activities without an identifier count as one identifier.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int | None, int]] = {}  # first line, occurrences

    def see(self, identifier: str | None, line: int | None) -> Finding | None:
        """A 1.1.2 finding if `identifier` was seen earlier in this file, else None."""
        key = (identifier or "").strip()
        first, times = self._seen.get(key, (line, 0))
        self._seen[key] = (first, times + 1)
        if times == 0:
            return None
        return Finding(
            code=DUPLICATE_IDENTIFIER, severity=Severity.ERROR, stage=Stage.RULESET,
            category="identifiers",
            message="The activity identifier must be unique for each activity"
            + (f"; it first appears at line {first}." if first is not None else "."),
            line=line, activity=identifier, actual=identifier,
        )

    def times(self, identifier: str | None) -> int:
        """How often `identifier` has been seen so far."""
        return self._seen.get((identifier or "").strip(), (None, 0))[1]
