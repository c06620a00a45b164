"""Model → XML: each element written per its compiled plan, in the schema's element order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree

from iati.xml import Extension, IatiElement, Plan, plan_for


def format_value(value: Any) -> str:
    """The XML text of a model value (lexical form kept where the value remembers it)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        text = str(value)
        return format(value, "f") if "E" in text else text
    to_xml = getattr(value, "to_xml", None)
    if to_xml is not None:
        return str(to_xml())
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def write_element(
    parent: etree._Element | None,
    tag: str,
    model: IatiElement,
    nsmap: dict[str | None, str] | None = None,
    indent: str | None = None,
) -> etree._Element:
    """Write `model` as element `tag` (appended to `parent` when given) and return it.

    With `indent` (the new line and spaces this element starts at) the standard elements
    are pretty-printed; kept elements are written exactly as they were read.
    """
    plan = plan_for(type(model))
    if parent is None:
        element = etree.Element(tag, nsmap=nsmap)
    else:
        element = etree.SubElement(parent, tag)
    for name, attribute in plan.attribute_order:
        value = getattr(model, name)
        if value is not None:
            element.set(attribute, format_value(value))
    for attribute, text in model.extra_attributes.items():
        element.set(attribute, text)
    if plan.text is not None:
        value = getattr(model, plan.text[0])
        if value is not None:
            element.text = format_value(value)
    _write_children(element, plan, model, None if indent is None else indent + "  ")
    if indent is not None and len(element):
        if element.text is None:  # never overwrite text that precedes a kept child
            element.text = indent + "  "
        element[-1].tail = indent
    return element


def _write_children(
    element: etree._Element, plan: Plan, model: IatiElement, indent: str | None
) -> None:
    pending = sorted(model.extensions, key=_position) if model.extensions else []
    written = 0
    for spec in plan.child_order:
        value = getattr(model, spec.field)
        if value is None:
            continue
        for item in value if spec.many else (value,):
            _flush(element, pending, written, indent)
            write_element(element, spec.tag, item, indent=indent).tail = indent
            written += 1
    _flush(element, pending, None, indent)


def _position(extension: Extension) -> int:
    return extension.position


def _flush(
    element: etree._Element, pending: list[Extension], written: int | None, indent: str | None
) -> None:
    """Append the kept elements whose position is `written` (all remaining when None)."""
    while pending and (written is None or pending[0].position <= written):
        kept = pending.pop(0).element()
        kept.tail = indent
        element.append(kept)
