"""XPath helpers for the validation stages: compile once, scope and read contexts, read nodes.

The IATI rulesets write their contexts as absolute paths over a whole file
(``/iati-activities/iati-activity/transaction``, ``//title``). iati-ec checks one record at a
time while streaming, so each context is rewritten to start from the record element itself.
`anchors_of` and `required_names` read an expression (not the data) to tell which element
names it cannot select anything without, so that a record lacking them need not be searched.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from lxml import etree

from iati.paths import Node
from iati.xml import XML_LANG, XML_NS

LOOP_VARIABLE: Final = "foreach"  # the XPath variable a ruleset loop binds its value to

_OPENERS: Final = {"[": "]", "(": ")"}
# xs:date / xs:dateTime, with optional time and timezone: "2012-01-01", "2012-01-01+00:00",
# "2014-09-10T07:15:37Z". Only the calendar date is used; the time of day never decides a rule.
_DATE: Final = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?\s*"
)
# xs:decimal; Decimal() alone would also take "NaN", "1e3" and "1_000".
_DECIMAL: Final = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*")
_STRING_VALUE: Final = etree.XPath("string()", regexp=False)
_NAME: Final = re.compile(r"[^\W\d][\w.-]*")  # an element or attribute name without prefix
_ATTRIBUTE: Final = re.compile(r"\s*@([^\W\d][\w.-]*|xml:lang)\s*")
_ATTRIBUTE_OF: Final[dict[etree.XPath, str]] = {}  # compiled ``@name`` XPaths: the lxml key
_EMPTY: Final = etree.Element("empty")
# An XPath 1.0 token: a literal, a number, a variable, a (prefixed) name or a symbol.
_TOKEN: Final = re.compile(
    r"\s*('[^']*'|\"[^\"]*\"|\d+(?:\.\d*)?|\.\d+|\$?[^\W\d][\w.-]*(?::[^\W\d][\w.-]*)?"
    r"|\.\.|::|//|!=|<=|>=|[/@()\[\],|=<>+*.-])\s*"
)
_OPERATORS: Final = frozenset({"and", "or", "div", "mod", "=", "!=", "<", "<=", ">", ">=", "+",
                               "-", "*", "|", ","})
# The axes a first step may take and stay on the context or below it.
_ANCHOR_AXES: Final = frozenset({"attribute", "child", "descendant", "self", "descendant-or-self"})
# Functions of their arguments alone; any other (and these but true() and false() without
# arguments) may read the context node itself.
_FUNCTIONS: Final = frozenset({
    "boolean", "ceiling", "concat", "contains", "count", "false", "floor", "normalize-space",
    "not", "number", "round", "starts-with", "string", "string-length", "substring",
    "substring-after", "substring-before", "sum", "translate", "true",
})


@functools.cache
def compile_xpath(expression: str) -> etree.XPath:
    """`expression` compiled once per process; raises `etree.XPathSyntaxError` if invalid.

    No EXSLT regular expressions: no ruleset uses them, and they cost on every call. An
    expression that is just ``@name`` is noted, for `Scope` to read without XPath.
    """
    xpath = etree.XPath(expression, namespaces={"xml": XML_NS}, regexp=False)
    attribute = _ATTRIBUTE.fullmatch(expression)
    if attribute is not None:
        _ATTRIBUTE_OF[xpath] = XML_LANG if attribute[1] == "xml:lang" else attribute[1]
    return xpath


def attribute_of(xpath: etree.XPath) -> str | None:
    """The lxml key of the attribute `xpath` reads if it is just ``@name``, else None."""
    return _ATTRIBUTE_OF.get(xpath)


def record_scoped(context: str) -> str:
    """The ruleset context `context` rewritten to select from a record element.

    ``/iati-activities/iati-activity/transaction`` becomes ``self::iati-activity/transaction``
    (the root step is dropped: the record is already inside it), ``//title`` becomes
    ``descendant-or-self::title``; unions are rewritten branch by branch.
    """
    return " | ".join(_scope_branch(branch.strip()) for branch in _split_top(context, "|"))


def required_names(context: str) -> tuple[frozenset[str], ...] | None:
    """For each branch of the ruleset context `context`, the element names in a record that
    the branch cannot select anything without: its steps below the root. None unless every
    step is a plain name (predicates aside)."""
    branches = []
    for branch in (branch.strip() for branch in _split_top(context, "|")):
        steps = [step.split("[", 1)[0].strip() for step in _split_top(branch, "/") if step]
        names = steps if branch.startswith("//") else steps[1:]
        if not all(_NAME.fullmatch(name) for name in names):
            return None
        branches.append(frozenset(names))
    return tuple(branches)


def _scope_branch(branch: str) -> str:
    if branch.startswith("//"):
        return "descendant-or-self::" + branch[2:]
    steps = list(_split_top(branch[1:], "/", limit=1)) if branch.startswith("/") else []
    if len(steps) != 2 or not steps[1]:
        raise ValueError(
            f"ruleset context {branch!r} does not select inside a record; "
            "expected /<root>/<record>… or //<element>"
        )
    return "self::" + steps[1]


def _split_top(text: str, separator: str, limit: int = -1) -> Iterator[str]:
    """`text` split at `separator` where it stands outside brackets, parentheses and quotes."""
    closers: list[str] = []
    quote: str | None = None
    start = 0
    for index, char in enumerate(text):
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _OPENERS:
            closers.append(_OPENERS[char])
        elif closers and char == closers[-1]:
            closers.pop()
        elif char == separator and not closers and limit != 0:
            yield text[start:index]
            start = index + 1
            limit -= 1
    yield text[start:]


@dataclass(frozen=True, slots=True)
class Anchors:
    """Where the location paths of an expression start: element names, context attributes.

    When none is there (no such element in the record, no such attribute on the context
    element), every node-set the expression builds is empty: it evaluates as on an empty
    element.
    """

    elements: frozenset[str]
    attributes: frozenset[str]

    def __or__(self, other: Anchors) -> Anchors:
        return Anchors(self.elements | other.elements, self.attributes | other.attributes)


def anchors_of(expression: str) -> Anchors | None:
    """The anchors of `expression`, or None if it may read anything else: the context's own
    text or name, its parent or siblings, any child (``*``), an absolute path, a function
    outside a few pure ones, a variable. Predicates and later steps are skipped: they only
    ever see nodes that an anchored first step found."""
    parts = _tokens(expression)
    if parts is not None and any(part.startswith("$") for part in parts):
        return None  # a loop's value: the expression is not read on its own
    elements: set[str] = set()
    attributes: set[str] = set()
    index, operand = 0, False
    while parts is not None and index < len(parts):
        part = parts[index]
        if part == "[":
            index = _after_predicate(parts, index)
        elif operand and part in ("/", "//"):
            index = _after_step(parts, index + 1)
        elif operand:
            if part != ")" and part not in _OPERATORS:
                return None
            index, operand = index + 1, part == ")"
        else:
            started = _operand_start(parts, index, elements, attributes)
            if started is None:
                return None
            index, operand = started
    return None if parts is None else Anchors(frozenset(elements), frozenset(attributes))


def _operand_start(
    parts: list[str], index: int, elements: set[str], attributes: set[str]
) -> tuple[int, bool] | None:
    """Read what begins an operand at `index`: the index after it and whether it ends there."""
    part, following = parts[index], _token(parts, index + 1)
    if part in ("(", "-"):
        return index + 1, False
    if part[0] in "'\"" or part[0].isdigit() or (part[0] == "." and part[1:2].isdigit()):
        return index + 1, True
    if following == "(" and part in _FUNCTIONS:
        if _token(parts, index + 2) != ")":
            return index + 2, False
        return (index + 3, True) if part in ("true", "false") else None
    if part == "@":
        axis, test, after = "attribute", following, index + 2
    elif following == "::":
        axis, test, after = part, _token(parts, index + 2), index + 3
    else:
        axis, test, after = "child", part, index + 1
    if axis == "attribute" and test == "xml:lang":
        attributes.add(XML_LANG)
    elif axis not in _ANCHOR_AXES or not _NAME.fullmatch(test) or _token(parts, after) == "(":
        return None  # text(), node(), *, ., .., a prefixed name: may read the context itself
    else:
        (attributes if axis == "attribute" else elements).add(test)
    return after, True


def _tokens(expression: str) -> list[str] | None:
    """`expression` split into XPath tokens; None if some character starts none."""
    parts, index = [], 0
    while (found := _TOKEN.match(expression, index)) and found.end() > index:
        parts.append(found[1])
        index = found.end()
    return parts if not expression[index:].strip() else None


def _token(parts: list[str], index: int) -> str:
    return parts[index] if index < len(parts) else ""


def _after_step(parts: list[str], index: int) -> int:
    """The index after the path step at `index` (``@name``, ``axis::name``, ``text()``, …)."""
    if _token(parts, index) == "@":
        index += 1
    elif _token(parts, index + 1) == "::":
        index += 2
    if _token(parts, index + 1) == "(":  # a node type test
        while _token(parts, index) not in (")", ""):
            index += 1
    return index + 1


def _after_predicate(parts: list[str], index: int) -> int:
    """The index after the predicate that opens at `index`."""
    depth = 0
    for position in range(index, len(parts)):
        depth += {"[": 1, "]": -1}.get(parts[position], 0)
        if depth == 0:
            return position + 1
    return len(parts)


def selects_nodes(xpath: etree.XPath) -> bool:
    """Whether `xpath` gives a node-set (in XPath 1.0 a type the data cannot change) that
    `select` takes whole (no namespace nodes)."""
    try:
        return "namespace" not in xpath.path and isinstance(xpath(_EMPTY), list)
    except etree.XPathEvalError:  # it reads a loop variable
        return False


def select(xpath: etree.XPath, element: etree._Element, variables: Mapping[str, str]) -> list[Node]:
    """The elements, attributes and text nodes `xpath` selects from `element`."""
    result = xpath(element, **variables)
    if not isinstance(result, list):
        return []
    return [node for node in result if isinstance(node, (etree._Element, str))]  # type: ignore[misc]


class Scope:
    """An element XPaths are evaluated on, with the date of the check and any loop value.

    What each XPath gives is remembered while the scope lives, as the cases of a context often
    read the same nodes (three org rules read ``@ref``, date_order and time_limit the same
    period dates); the lists handed out are shared, so they are typed read-only.
    """

    __slots__ = ("_dates", "_found", "_held", "element", "registered_org_ids", "today",
                 "variables")

    def __init__(
        self,
        element: etree._Element,
        today: date,
        registered_org_ids: frozenset[str] = frozenset(),
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.element, self.today, self.registered_org_ids = element, today, registered_org_ids
        self.variables: Mapping[str, str] = variables or {}
        self._found: dict[etree.XPath, list[Node]] = {}
        self._held: dict[etree.XPath, bool] = {}
        self._dates: dict[etree.XPath | None, list[tuple[Node | None, date]]] = {}

    def select(self, xpath: etree.XPath) -> Sequence[Node]:
        found = self._found.get(xpath)
        if found is None:
            found = self._found[xpath] = select(xpath, self.element, self.variables)
        return found

    def nodes(self, xpaths: Sequence[etree.XPath]) -> Sequence[Node]:
        """What each of `xpaths` selects, one after the other."""
        if len(xpaths) == 1:
            return self.select(xpaths[0])
        return [node for xpath in xpaths for node in self.select(xpath)]

    def any(self, xpaths: Sequence[etree.XPath]) -> bool:
        """Whether any of `xpaths` selects something; the rest are not evaluated."""
        for xpath in xpaths:
            attribute = _ATTRIBUTE_OF.get(xpath)
            if self.select(xpath) if attribute is None else self.element.get(attribute) is not None:
                return True
        return False

    def texts(self, xpaths: Sequence[etree.XPath]) -> list[str]:
        """The `text_of` each node `xpaths` select, without building attribute nodes."""
        texts: list[str] = []
        for xpath in xpaths:
            attribute = _ATTRIBUTE_OF.get(xpath)
            if attribute is None:
                texts.extend(text_of(node) for node in self.select(xpath))
            elif (value := self.element.get(attribute)) is not None:
                texts.append(value)
        return texts

    def holds(self, xpath: etree.XPath) -> bool:
        """Whether `xpath` holds as the official validator reads a rule's ``condition``,
        ``if`` or ``then``: any node-set, even an empty one, holds (a JavaScript array is
        true), a number when neither zero nor NaN, a string when not empty."""
        held = self._held.get(xpath)
        if held is None:
            result = xpath(self.element, **self.variables)
            if isinstance(result, list):
                result = True
            elif isinstance(result, float):
                result = result != 0 and not math.isnan(result)
            held = self._held[xpath] = bool(result)
        return held

    def dates(self, xpath: etree.XPath | None) -> list[tuple[Node | None, date]]:
        """The readable dates `xpath` selects, or today's (node None) for no XPath (``NOW``).

        Unreadable dates are left out: the schema stage reports them.
        """
        known = self._dates.get(xpath)
        if known is None:
            if xpath is None:
                known = [(None, self.today)]
            else:
                found = ((node, date_of(text_of(node))) for node in self.select(xpath))
                known = [(node, day) for node, day in found if day is not None]
            self._dates[xpath] = known
        return known

    def bound(self, value: str) -> Scope:
        """This scope with the loop variable bound to `value`."""
        return Scope(self.element, self.today, self.registered_org_ids, {LOOP_VARIABLE: value})


def text_of(node: Node) -> str:
    """The XPath string-value of `node`: all text inside an element, or the attribute value."""
    if not isinstance(node, etree._Element):
        return str(node)
    if len(node) == 0:  # no child nodes, comments included: its text is all there is
        return node.text or ""
    return str(_STRING_VALUE(node))


def value_of(node: Node) -> str | None:
    """The value of an attribute or text node; None for an element."""
    return None if isinstance(node, etree._Element) else str(node)


def shown(node: Node | None, day: date) -> str:
    """A date as written at `node`, or in ISO form when it is today's (no node)."""
    return day.isoformat() if node is None else text_of(node)


@functools.lru_cache(maxsize=4096)  # a file repeats its dates: transactions, periods
def date_of(text: str) -> date | None:
    """The calendar date written in `text` (xs:date or xs:dateTime), or None if it is not one."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # e.g. 2023-02-30: the schema stage reports it
        return None


def decimal_of(text: str) -> Decimal | None:
    """The xs:decimal written in `text`, or None if it is not one."""
    return Decimal(text.strip()) if _DECIMAL.fullmatch(text) else None
