"""Validation stage (b): codes checked against the official IATI Validator's codelist rules."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from lxml import etree

from iati import artefacts
from iati.findings import Finding, Severity, Stage
from iati.paths import RecordPaths, attribute_name, line_of
from iati.validate.xpath import compile_xpath
from iati.xml import XML_LANG

__all__ = ["CodelistCheck", "CodelistRule", "CodelistRules", "Condition", "Violation"]

TEXT: Final = "text()"
# The rule data writes the source rule `//@xml:lang` (9.95.1, on any element) as the path "/",
# which js-validator-api never reaches; the validator's documented rules do apply it.
EVERY_ELEMENT: Final = "/"
# A defect of the rule data: rule_mapping.xml has `//iati-organisations/@version` (9.97.1), which
# the JSON generator wrote as "/organisations"; js-validator-api therefore never applies it.
PATH_CORRECTIONS: Final = {"/organisations": "/iati-organisations"}
SEVERITIES: Final = {level.value: level for level in Severity if level is not Severity.INFO}


@dataclass(frozen=True, slots=True)
class CodelistRule:
    """One official rule: its id, the codes it allows and what to say when a code is not."""

    id: str
    codelist: str
    allowed_codes: frozenset[str]
    severity: Severity
    category: str
    message: str


@dataclass(frozen=True, slots=True)
class Condition:
    """The codelist of a code depends on a linked attribute, usually the element's @vocabulary."""

    linked_attribute: str
    levels_up: int
    attribute: str
    default: str | None
    rules: Mapping[str, CodelistRule]

    def link(self, element: etree._Element) -> str | None:
        """The linked value that selects the rule; as in js-validator-api, empty means default."""
        owner: etree._Element | None = element
        for _ in range(self.levels_up):
            owner = None if owner is None else owner.getparent()
        return (None if owner is None else owner.get(self.attribute)) or self.default


@dataclass(frozen=True, slots=True)
class CodelistCheck:
    """What to check on one attribute (or the text) of the elements at one tag path."""

    path: str
    attribute: str
    key: str
    rule: CodelistRule | None = None
    condition: Condition | None = None

    def inspect(self, element: etree._Element) -> Violation | None:
        """The violation of this check by `element`, if its code is not allowed."""
        code = (element.text or "") if self.key == TEXT else element.get(self.key)
        if code is None:
            return None
        rule, link = self.rule, None
        if self.condition is not None:
            link = self.condition.link(element)
            rule = None if link is None else self.condition.rules.get(link)
        if rule is None or code in rule.allowed_codes:
            return None
        if self.key == XML_LANG and code.lower() in rule.allowed_codes:
            return None  # a language tag's case does not matter (RFC 5646 §2.1.1): "ES" is "es"
        return Violation(self, rule, code, link, element)


@dataclass(frozen=True, slots=True)
class Violation:
    """A code that a rule does not allow, the element it is on and the linked value used."""

    check: CodelistCheck
    rule: CodelistRule
    code: str
    link: str | None
    element: etree._Element

    def finding(self, *, xpath: str, activity: str | None = None) -> Finding:
        """The finding at `xpath` (the element's), worded like the official report's context."""
        check, rule, tag = self.check, self.rule, _written_name(self.element)
        leaf = "/text()" if check.key == TEXT else f"/@{check.attribute}"
        context = f"element <{tag}>"
        if check.key != TEXT:
            context = f"attribute @{check.attribute}, in {context}"
        if check.condition is not None:
            linked = check.condition.linked_attribute
            context += f" and linked {linked if '@' in linked else '@' + linked} = {self.link}"
        return Finding(
            code=rule.id, severity=rule.severity, stage=Stage.CODELIST,
            message=f'{rule.message} "{self.code}" is not a valid value for {context} '
            f"(codelist {rule.codelist}).",
            xpath=xpath + leaf, line=line_of(self.element), activity=activity, actual=self.code,
            category=rule.category,
        )


class _PlainCheck(NamedTuple):
    """An unconditional attribute check, unpacked in the hot loop of `_visit`."""

    key: str
    allowed_codes: frozenset[str]
    rule: CodelistRule
    check: CodelistCheck


@dataclass(slots=True)
class _PathNode:
    """A step of the tag-path tree: the checks on elements here and the steps below."""

    plain: list[_PlainCheck] = field(default_factory=list)
    other: list[CodelistCheck] = field(default_factory=list)
    # Keyed by tag name, but looked up with any child's tag: a comment's tag is a function.
    children: dict[object, _PathNode] = field(default_factory=dict)

    def add(self, check: CodelistCheck) -> None:
        if check.rule is not None and check.key != TEXT:
            self.plain.append(_PlainCheck(check.key, check.rule.allowed_codes, check.rule, check))
        else:
            self.other.append(check)

    def checks(self) -> list[CodelistCheck]:
        return [plain.check for plain in self.plain] + self.other


@dataclass(frozen=True, slots=True, eq=False)
class CodelistRules:
    """The codelist rules of one IATI version, compiled for fast repeated use.

    They come from `codelist_rules.json` (IATI-Validator-Codelists, the data js-validator-api
    runs on), keyed by the plain tag path of an element and the attribute checked (``code``;
    ``text()`` for the element's text). A rule with ``conditions`` takes its codelist from the
    value of a linked attribute (``vocabulary``, ``../@vocabulary``), or ``defaultLink`` when
    that is absent or empty, and checks nothing for a value it has no mapping for. As in
    js-validator-api the paths form a tree that one walk over a record follows by dict lookups:
    measured faster than one compiled XPath per rule, and its cost does not grow with the rules.
    """

    version: str
    tree: _PathNode
    everywhere: tuple[CodelistCheck, ...]

    @classmethod
    def load(cls, version: str) -> CodelistRules:
        """The rules of `version` (``2.01``/``2.02``/``2.03``), compiled once and shared."""
        return _compile(version)

    def checks(self) -> Iterator[CodelistCheck]:
        """Every compiled check, for inspection and documentation."""
        yield from self.everywhere
        pending = [self.tree]
        while pending:
            node = pending.pop()
            yield from node.checks()
            pending.extend(node.children.values())

    def check_root(self, root: etree._Element) -> list[Finding]:
        """Rules on the root element itself (@version, @xml:lang); its records are not visited."""
        node = self.tree.children.get(root.tag)
        checks = [*self.everywhere, *(node.checks() if node else ())]
        violations = (check.inspect(root) for check in checks)
        xpath = RecordPaths(root).of(root)
        return [violation.finding(xpath=xpath) for violation in violations if violation]

    def check(
        self, record: etree._Element, *, activity: str | None = None, position: int | None = None
    ) -> list[Finding]:
        """Rules on `record` and below it: an iati-activity or -organisation attached to its root.

        `position` is its 1-based place in the file: give it when a streaming reader has
        released the earlier records, or the xpaths would count them wrongly.
        """
        root = record.getparent()
        top = self.tree.children.get(root.tag) if root is not None else None
        node = top.children.get(record.tag) if top is not None else None
        violations: list[Violation] = []
        if node is not None:
            _visit(record, node, violations)
        for check in self.everywhere:
            found = (check.inspect(carrier) for carrier in _carriers(check.key, record))
            violations.extend(violation for violation in found if violation)
        violations.sort(key=lambda violation: line_of(violation.element) or 0)  # stable: in order
        paths = RecordPaths(record, position)
        return [
            violation.finding(xpath=paths.of(violation.element), activity=activity)
            for violation in violations
        ]


def _visit(element: etree._Element, node: _PathNode, violations: list[Violation]) -> None:
    """Check `element`, then follow the tree into its children: the hot loop of the stage."""
    if node.plain:
        get = element.get
        for key, allowed_codes, rule, check in node.plain:
            code = get(key)
            if code is not None and code not in allowed_codes:
                violations.append(Violation(check, rule, code, None, element))
    for check in node.other:
        violation = check.inspect(element)
        if violation is not None:
            violations.append(violation)
    children = node.children
    if children:
        for child in element:
            following = children.get(child.tag)
            if following is not None:
                _visit(child, following, violations)


def _carriers(key: str, record: etree._Element) -> list[etree._Element]:
    """The elements in `record`, itself included, that carry the attribute `key`."""
    # One C-level XPath scan; a Python walk over every element measured twice as slow.
    found = compile_xpath(f"descendant-or-self::*/@{attribute_name(key)}")(record)
    if not isinstance(found, list):
        return []
    smart = (value for value in found if isinstance(value, etree._ElementUnicodeResult))
    return [parent for parent in (value.getparent() for value in smart) if parent is not None]


def _written_name(element: etree._Element) -> str:
    """The element's name as the file writes it (``prefix:name``), for messages."""
    tag = element.tag
    if isinstance(tag, str) and not tag.startswith("{"):
        return tag
    qname = etree.QName(element)
    return f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname


@functools.cache
def _compile(version: str) -> CodelistRules:
    path = artefacts.codelist_rules_path(version)
    document: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    tree, everywhere = _PathNode(), []
    for raw_path, attributes in document.items():
        tag_path = PATH_CORRECTIONS.get(raw_path, raw_path)
        for attribute, body in attributes.items():
            check = _check(tag_path, attribute, body)
            if tag_path == EVERY_ELEMENT:
                everywhere.append(check)
                continue
            node = tree
            for step in tag_path.strip("/").split("/"):
                node = node.children.setdefault(step, _PathNode())
            node.add(check)
    return CodelistRules(version, tree, tuple(everywhere))


def _check(path: str, attribute: str, body: dict[str, Any]) -> CodelistCheck:
    if "conditions" not in body:
        return CodelistCheck(path, attribute, _key(attribute), rule=_rule(body))
    conditions = body["conditions"]
    linked: str = conditions["linkedAttribute"]
    *ups, last = linked.split("/")
    if any(step != ".." for step in ups):
        raise ValueError(f"cannot interpret linkedAttribute {linked!r} of {path}/@{attribute}")
    condition = Condition(
        linked_attribute=linked, levels_up=len(ups), attribute=_key(last.removeprefix("@")),
        default=conditions.get("defaultLink"),
        rules={link: _rule(rule) for link, rule in conditions["mapping"].items()},
    )
    return CodelistCheck(path, attribute, _key(attribute), condition=condition)


def _rule(body: dict[str, Any]) -> CodelistRule:
    severity = SEVERITIES.get(body["severity"])
    if severity is None:
        raise ValueError(f"rule {body['id']}: unknown severity {body['severity']!r}")
    return CodelistRule(
        id=body["id"], codelist=body["codelist"], allowed_codes=frozenset(body["allowedCodes"]),
        severity=severity, category=body["category"], message=body["message"],
    )


def _key(attribute: str) -> str:
    """The lxml key of an attribute named as in the rule data (``code``, ``xml:lang``)."""
    if attribute == TEXT or ":" not in attribute:
        return attribute
    if attribute == "xml:lang":
        return XML_LANG
    raise ValueError(f"cannot interpret the prefixed attribute {attribute!r} of the rule data")
