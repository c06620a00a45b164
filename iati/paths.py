"""Indexed XPath of an element inside a streamed file (records are freed as we go)."""

from __future__ import annotations

from lxml import etree


def element_path(element: etree._Element, record: etree._Element, position: int) -> str:
    """`/iati-activities/iati-activity[3]/transaction[2]/value` for `element` in `record`.

    `position` is the record's 1-based position in the file; earlier records may already
    have been freed, so it cannot be computed from the tree.
    """
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None and node is not record:
        steps.append(_step(node))
        node = node.getparent()
    parent = record.getparent()
    root = "" if parent is None else f"/{_name(parent.tag)}"
    steps.append(f"{_name(record.tag)}[{position}]")
    return root + "/" + "/".join(reversed(steps))


def _step(node: etree._Element) -> str:
    tag = node.tag
    index = 1
    sibling = node.getprevious()
    while sibling is not None:
        if sibling.tag == tag:
            index += 1
        sibling = sibling.getprevious()
    name = _name(tag)
    return f"{name}[{index}]"


def _name(tag: object) -> str:
    if not isinstance(tag, str):
        return "node()"
    if not tag.startswith("{"):
        return tag
    qname = etree.QName(tag)
    return qname.localname if qname.namespace is None else f"*[local-name()='{qname.localname}']"
