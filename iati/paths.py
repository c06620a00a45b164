"""Where a node sits in a streamed IATI file: the indexed XPath every finding reports, its line.

One spelling for the reading, codelist and ruleset stages::

    /iati-activities/iati-activity[3]/transaction[2]/value[1]/@currency

- The root step has no index: a document has one root.
- Every step below the root has its 1-based index among same-named siblings, ``[1]`` included.
  Whether an index is "needed" cannot be known for the record step while streaming (the
  records after it are not read yet), and one fixed shape lets findings be grouped and
  compared by their paths as plain strings.
- The record's index is its `position` in the file, passed in: earlier records have been
  freed, so the tree no longer knows it.
- An element in a namespace is ``*[local-name()='name'][n]``, n counted among siblings of the
  same namespace and name, so the path selects it without prefix bindings; a comment is
  ``comment()[n]``, a processing instruction ``processing-instruction()[n]``.
- An attribute adds ``/@name`` (``@xml:lang`` for the XML namespace), a text node ``/text()``.

The schema stage is the one exception: below the record it reports libxml2's own paths, which
index a step only where a same-named sibling exists (``…/iati-activity[3]/budget/value``).
"""

from __future__ import annotations

from typing import Final, TypeAlias

from lxml import etree

from iati.xml import XML_NS

__all__ = ["Node", "RecordPaths", "attribute_name", "element_path", "line_of", "record_path"]

# A node a finding can be about: an element, or an attribute or text value (lxml "smart string").
Node: TypeAlias = etree._Element | etree._ElementUnicodeResult

_NODE_TESTS: Final[dict[object, str]] = {
    etree.Comment: "comment()",
    etree.ProcessingInstruction: "processing-instruction()",
}


def element_path(element: etree._Element, record: etree._Element, position: int) -> str:
    """`/iati-activities/iati-activity[3]/transaction[2]/value[1]` for `element` in `record`.

    `position` is the record's 1-based position in the file; earlier records may already
    have been freed, so it cannot be computed from the tree.
    """
    return RecordPaths(record, position).of(element)


def record_path(root_tag: str, record_tag: str, position: int) -> str:
    """``/iati-activities/iati-activity[3]``: the path of the `position`-th record."""
    return f"/{_step_name(root_tag)}/{_step_name(record_tag)}[{position}]"


class RecordPaths:
    """The paths of nodes in one record, remembered as they are asked for.

    Each ancestor's path and each parent's numbering of its children are kept, so the paths
    of many findings in one record cost linear time. `position` is the record's known 1-based
    place in the file; without it the record is numbered among the siblings still in the tree.
    """

    def __init__(self, record: etree._Element, position: int | None = None) -> None:
        self._record = record
        self._position = position
        # Holding the elements keeps their proxies alive, so lxml hands out the same objects.
        self._paths: dict[etree._Element, str] = {}
        self._indexes: dict[tuple[etree._Element, object], dict[etree._Element, int]] = {}

    def of(self, node: Node) -> str:
        """The path of an element, attribute or text node; the record's for a computed string."""
        if isinstance(node, etree._Element):
            return self._element(node)
        owner = node.getparent()
        path = self._element(self._record if owner is None else owner)
        if owner is None:
            return path
        if node.is_attribute:
            return f"{path}/@{attribute_name(str(node.attrname))}"
        return f"{path}/text()"

    def _element(self, element: etree._Element) -> str:
        path = self._paths.get(element)
        if path is None:
            path = self._paths[element] = self._compute(element)
        return path

    def _compute(self, element: etree._Element) -> str:
        parent = element.getparent()
        name = _step_name(element.tag)
        if element is self._record and self._position is not None:
            above = "" if parent is None else self._element(parent)
            return f"{above}/{name}[{self._position}]"
        if parent is None:
            return f"/{name}"
        return f"{self._element(parent)}/{name}[{self._index(parent, element)}]"

    def _index(self, parent: etree._Element, element: etree._Element) -> int:
        key = (parent, element.tag)
        indexes = self._indexes.get(key)
        if indexes is None:
            # A comment's tag is the function etree.Comment, which iterchildren takes too.
            namesakes = parent.iterchildren(element.tag)  # type: ignore[arg-type]
            indexes = self._indexes[key] = {child: i for i, child in enumerate(namesakes, 1)}
        return indexes[element]


def attribute_name(name: str) -> str:
    """An attribute's name as a path writes it: ``xml:lang``, otherwise as lxml keys it."""
    return name.replace(f"{{{XML_NS}}}", "xml:")


def line_of(node: Node) -> int | None:
    """The source line of `node` (of its element, for an attribute or text)."""
    element = node if isinstance(node, etree._Element) else node.getparent()
    # lxml-stubs type sourceline loosely; it is an int or None.
    line = None if element is None else element.sourceline
    return line if isinstance(line, int) else None


def _step_name(tag: object) -> str:
    if not isinstance(tag, str):
        return _NODE_TESTS.get(tag, "node()")
    if not tag.startswith("{"):
        return tag
    return f"*[local-name()='{tag.rpartition('}')[2]}']"
