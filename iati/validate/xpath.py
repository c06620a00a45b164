"""XPath helpers for the validation stages: compile once, scope ruleset contexts, read nodes.

The IATI rulesets write their contexts as absolute paths over a whole file
(``/iati-activities/iati-activity/transaction``, ``//title``). iati-ec checks one record at a
time while streaming, so each context is rewritten to start from the record element itself.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from lxml import etree

from iati.paths import Node
from iati.xml import XML_NS

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
_STRING_VALUE: Final = etree.XPath("string()")


@functools.cache
def compile_xpath(expression: str) -> etree.XPath:
    """`expression` compiled once per process; raises `etree.XPathSyntaxError` if invalid."""
    return etree.XPath(expression, namespaces={"xml": XML_NS})


def record_scoped(context: str) -> str:
    """The ruleset context `context` rewritten to select from a record element.

    ``/iati-activities/iati-activity/transaction`` becomes ``self::iati-activity/transaction``
    (the root step is dropped: the record is already inside it), ``//title`` becomes
    ``descendant-or-self::title``; unions are rewritten branch by branch.
    """
    return " | ".join(_scope_branch(branch.strip()) for branch in _split_top(context, "|"))


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


def select(xpath: etree.XPath, element: etree._Element, variables: Mapping[str, str]) -> list[Node]:
    """The elements, attributes and text nodes `xpath` selects from `element`."""
    result = xpath(element, **variables)
    if not isinstance(result, list):
        return []
    return [node for node in result if isinstance(node, (etree._Element, str))]  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class Scope:
    """An element XPaths are evaluated on, with the date of the check and any loop value."""

    element: etree._Element
    today: date
    registered_org_ids: frozenset[str] = frozenset()
    variables: Mapping[str, str] = field(default_factory=dict)

    def select(self, xpath: etree.XPath) -> list[Node]:
        return select(xpath, self.element, self.variables)

    def holds(self, xpath: etree.XPath) -> bool:
        """XPath ``boolean()`` of `xpath`: a non-empty node-set, non-zero number, …"""
        result = xpath(self.element, **self.variables)
        if isinstance(result, float):
            return result != 0 and not math.isnan(result)
        return bool(result)

    def nodes(self, xpaths: Iterable[etree.XPath]) -> list[Node]:
        """What each of `xpaths` selects, one after the other."""
        return [node for xpath in xpaths for node in self.select(xpath)]

    def dates(self, xpath: etree.XPath | None) -> list[tuple[Node | None, date]]:
        """The readable dates `xpath` selects, or today's (node None) for no XPath (``NOW``).

        Unreadable dates are left out: the schema stage reports them.
        """
        if xpath is None:
            return [(None, self.today)]
        found = [(node, date_of(text_of(node))) for node in self.select(xpath)]
        return [(node, day) for node, day in found if day is not None]

    def bound(self, value: str) -> Scope:
        """This scope with the loop variable bound to `value`."""
        return Scope(self.element, self.today, self.registered_org_ids, {LOOP_VARIABLE: value})


def text_of(node: Node) -> str:
    """The XPath string-value of `node`: all text inside an element, or the attribute value."""
    if isinstance(node, etree._Element):
        return str(_STRING_VALUE(node))
    return str(node)


def value_of(node: Node) -> str | None:
    """The value of an attribute or text node; None for an element."""
    return None if isinstance(node, etree._Element) else str(node)


def shown(node: Node | None, day: date) -> str:
    """A date as written at `node`, or in ISO form when it is today's (no node)."""
    return day.isoformat() if node is None else text_of(node)


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
