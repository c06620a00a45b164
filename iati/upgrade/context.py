"""The bookkeeping of one record's upgrade: where each original element stood, and the findings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from iati.findings import Finding, make

RECORD_XPATH: Final = "/iati-activities/iati-activity"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an element stood in the 1.x input: its XPath and source line."""

    xpath: str
    line: int | None


@dataclass
class Upgrade:
    """One record being upgraded in place, with every finding made so far."""

    record: etree._Element
    activity: str | None
    from_version: str | None = None
    findings: list[Finding] = field(default_factory=list)
    # Keyed by element: holding the proxies keeps lxml from handing out new ones.
    origins: dict[etree._Element, Origin] = field(default_factory=dict)
    settled: set[tuple[etree._Element, str]] = field(default_factory=set)

    @classmethod
    def start(
        cls, record: etree._Element, *, activity: str | None, from_version: str | None
    ) -> Upgrade:
        """Record the original position of every element before anything moves."""
        upgrade = cls(record, activity, from_version)
        upgrade.origins[record] = Origin(RECORD_XPATH, record.sourceline)
        for parent in record.iter():
            for child, step in _steps(parent):
                upgrade.origins[child] = Origin(
                    f"{upgrade.origins[parent].xpath}/{step}", child.sourceline
                )
        return upgrade

    def origin(self, element: etree._Element) -> Origin:
        """Where `element` (or the element it was made from) stood in the input."""
        found = self.origins.get(element)
        if found is not None:
            return found
        parent = element.getparent()
        if parent is None:
            return Origin(RECORD_XPATH, None)
        return Origin(f"{self.origin(parent).xpath}/{_name(element)}", self.origin(parent).line)

    def report(
        self,
        code: str,
        element: etree._Element,
        *,
        actual: str,
        expected: str | None = None,
        attribute: str | None = None,
        child: str | None = None,
    ) -> None:
        """Add a finding about `element` (its @attribute or missing child) at its 1.x line."""
        origin = self.origin(element)
        xpath = origin.xpath
        if attribute is not None:
            xpath += f"/@{_attribute_step(attribute)}"
        elif child is not None:
            xpath += f"/{child}"
        self.findings.append(
            make(code, actual=actual, expected=expected, xpath=xpath,
                 line=origin.line, activity=self.activity)
        )
        if code.startswith(("upgrade.unsafe", "upgrade.missing", "upgrade.kept")):
            # kept with a problem: the audit must not repeat it
            self.settle(element, f"@{attribute}" if attribute is not None else child or "")

    def settle(self, element: etree._Element, aspect: str = "") -> None:
        """Note that `aspect` of `element` (``@name``, a child's name, or ``""`` for the element
        itself) has its finding, so the audit does not repeat it."""
        self.settled.add((element, aspect))

    def is_settled(self, element: etree._Element, aspect: str = "") -> bool:
        return (element, aspect) in self.settled

    def adopt(self, made: etree._Element, original: etree._Element) -> None:
        """`made` replaces `original`: it reports, and validates, at the original's place."""
        self.origins[made] = self.origin(original)
        if original.sourceline is not None:
            made.sourceline = original.sourceline  # type: ignore[misc]

    def make_child(
        self, host: etree._Element, tag: str, *, index: int | None = None
    ) -> etree._Element:
        """A new child of `host` that reports (and validates) at the line of `host`."""
        child = etree.Element(tag)
        if index is None:
            host.append(child)
        else:
            host.insert(index, child)
        if host.sourceline is not None:
            child.sourceline = host.sourceline  # type: ignore[misc]
        return child


def plain_elements(record: etree._Element) -> list[tuple[str, etree._Element]]:
    """Every IATI (no-namespace) element below `record` with its local path, in document order.

    A snapshot, so steps may rename or move elements while going through it. Extension
    elements, and everything inside them, are left out: the upgrade never touches another
    namespace.
    """
    found: list[tuple[str, etree._Element]] = []
    _collect_plain(record, "", found)
    return found


def _collect_plain(
    parent: etree._Element, prefix: str, found: list[tuple[str, etree._Element]]
) -> None:
    for child in parent:
        tag = tag_of(child)
        if tag and not tag.startswith("{"):
            path = f"{prefix}{tag}"
            found.append((path, child))
            _collect_plain(child, f"{path}/", found)


def direct_text(element: etree._Element) -> str | None:
    """The element's own text when it is more than whitespace."""
    text = element.text
    return text if text is not None and text.strip() else None


def tag_of(element: etree._Element) -> str:
    """The element's tag in Clark notation; ``""`` for comments and processing instructions."""
    tag = element.tag
    return tag if isinstance(tag, str) else ""


def _steps(parent: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    children = [child for child in parent if tag_of(child)]
    totals: dict[str, int] = {}
    for child in children:
        totals[tag_of(child)] = totals.get(tag_of(child), 0) + 1
    seen: dict[str, int] = {}
    for child in children:
        tag = tag_of(child)
        seen[tag] = seen.get(tag, 0) + 1
        step = _name(child)
        yield child, step if totals[tag] == 1 else f"{step}[{seen[tag]}]"


def _name(element: etree._Element) -> str:
    qname = etree.QName(element)
    if qname.namespace is None:
        return qname.localname
    if element.prefix:
        return f"{element.prefix}:{qname.localname}"
    return f"*[local-name()='{qname.localname}']"


def _attribute_step(attribute: str) -> str:
    if attribute.startswith("{http://www.w3.org/XML/1998/namespace}"):
        return "xml:" + attribute.split("}", 1)[1]
    return attribute
