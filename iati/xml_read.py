"""XML → model: one pass over an element per its compiled plan (the hot path of every import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from iati.errors import IatiInputError
from iati.xml import ChildSpec, Converter, Extension, IatiElement, Plan


@dataclass(slots=True)
class Oddity:
    """Something the reader kept verbatim or could not keep (becomes a finding)."""

    kind: str  # "element", "attribute", "repeated", "text", "invalid"
    element: etree._Element
    name: str
    value: str | None = None
    expected: str | None = None


OddityHandler = Callable[[Oddity], None]


_SHARED_LIMIT = 2_048  # distinct value elements remembered per class: bounds memory
# Attributes on one element: an IATI element has at most a dozen, and extensions add a few;
# libxml2 hands many more to the reader at a cost that grows with their square.
MAX_ATTRIBUTES = 256


def read_element(element: etree._Element, plan: Plan, oddity: OddityHandler) -> IatiElement:
    """The model of `element` per `plan`; whatever does not fit is reported to `oddity`.

    Written for speed: one pass over attributes, text and children, each value converted
    once, the instance built without pydantic re-validating what was just converted, and
    identical value elements (see `ValueElement`) read once.
    """
    shared = plan.shared
    if shared is not None and not len(element):
        attrib = element.attrib
        if len(attrib) > MAX_ATTRIBUTES:  # `_read` refuses it; `items()` would take minutes
            return _read(element, plan, oddity)
        key = (element.text, tuple(attrib.items()))
        model = shared.get(key)
        if model is None:
            model = _read_value(element, plan, oddity, shared, key)
        return model
    return _read(element, plan, oddity)


def _read_value(
    element: etree._Element,
    plan: Plan,
    oddity: OddityHandler,
    shared: dict[Any, IatiElement],
    key: Any,
) -> IatiElement:
    """Read a value element, and remember it if nothing about it needed reporting."""
    noticed: list[Oddity] = []

    def note(found: Oddity) -> None:
        noticed.append(found)
        oddity(found)

    model = _read(element, plan, note)
    if not noticed:
        if len(shared) >= _SHARED_LIMIT:
            shared.clear()
        shared[key] = model
    return model


def _read(element: etree._Element, plan: Plan, oddity: OddityHandler) -> IatiElement:
    values: dict[str, Any] = {}
    attrib = element.attrib
    if attrib:
        count = len(attrib)  # before `items()`, which takes time in the square of it
        if count > MAX_ATTRIBUTES:
            raise IatiInputError(
                "input.too-many-attributes",
                f"An element <{element.tag!s}> has {count:,} attributes, more than "
                f"the {MAX_ATTRIBUTES} any IATI element can use; remove the attributes that "
                "are not part of the standard.", line=element.sourceline,
            )
        names = plan.attributes
        for key, raw in attrib.items():
            slot = names.get(key)
            if slot is None:
                _extra_attribute(values, element, key, raw, oddity)
                continue
            name, convert = slot
            if convert is None:
                values[name] = raw
                continue
            try:
                values[name] = convert(raw)
            except ValueError as error:
                oddity(Oddity("invalid", element, key, raw, str(error)))
    parent = len(element) != 0
    text = element.text
    if plan.text is not None:
        if parent:
            text = _text_around_children(element)
        if text is not None:
            _convert(values, element, plan.text, text, "text()", oddity)
    elif text is not None and not text.isspace():
        oddity(Oddity("text", element, str(element.tag), text))
    if parent:
        _read_children(element, plan, values, oddity)
    # pydantic's `model_construct` without its per-call introspection, as this runs once per
    # element read: the converters produce exactly the declared types (a test proves that
    # `model_validate(model_dump())` gives back an equal model for every sample).
    full = {**plan.defaults, **values} if values else plan.defaults.copy()
    for name, factory in plan.factories:
        if name not in values:
            full[name] = factory()
    model = _new(plan.cls)
    _set(model, "__dict__", full)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_new = object.__new__
_set = object.__setattr__


def _read_children(
    element: etree._Element, plan: Plan, values: dict[str, Any], oddity: OddityHandler
) -> None:
    children = plan.children
    takes_text = plan.text is not None
    position = 0
    for child in element:
        tag = child.tag
        tail = child.tail
        # In a text element, text after a comment is part of its text (read above).
        if tail is not None and not tail.isspace() and not (takes_text and _is_node(tag)):
            oddity(Oddity("text", element, str(element.tag), tail))
        spec = children.get(tag)
        if spec is None or (not spec.many and spec.field in values):
            _keep_verbatim(values, child, position, spec, oddity)
            continue
        child_plan: Plan = spec.plan  # type: ignore[assignment]
        if child_plan.shared is None:
            model = _read(child, child_plan, oddity)
        else:
            model = read_element(child, child_plan, oddity)
        if spec.many:
            items = values.get(spec.field)
            if items is None:
                values[spec.field] = [model]
            else:
                items.append(model)
        else:
            values[spec.field] = model
        position += 1


def _is_node(tag: object) -> bool:
    """True for comments and processing instructions (whose tag is a factory, not a name)."""
    return not isinstance(tag, str)


def _text_around_children(element: etree._Element) -> str | None:
    """The text of an element, joined around the comments and processing instructions in it."""
    pieces = [element.text or ""]
    pieces += [child.tail or "" for child in element if _is_node(child.tag)]
    text = "".join(pieces)
    return text if text or element.text is not None else None


def _convert(
    values: dict[str, Any],
    element: etree._Element,
    slot: tuple[str, Converter | None],
    raw: str,
    where: str,
    oddity: OddityHandler,
) -> None:
    name, convert = slot
    if convert is None:
        values[name] = raw
        return
    try:
        values[name] = convert(raw)
    except ValueError as error:
        oddity(Oddity("invalid", element, where, raw, str(error)))


def _extra_attribute(
    values: dict[str, Any], element: etree._Element, key: str, raw: str, oddity: OddityHandler
) -> None:
    values.setdefault("extra_attributes", {})[key] = raw
    if not key.startswith("{"):
        oddity(Oddity("attribute", element, key, raw))


def _keep_verbatim(
    values: dict[str, Any],
    child: etree._Element,
    position: int,
    spec: ChildSpec | None,
    oddity: OddityHandler,
) -> None:
    """Keep an element the model has no place for, exactly as it was, at its position."""
    if _is_node(child.tag):
        return  # comments and processing instructions are not data
    xml = etree.tostring(child, with_tail=False, encoding="unicode")
    values.setdefault("extensions", []).append(Extension(position=position, xml=xml))
    if spec is not None:
        oddity(Oddity("repeated", child, str(child.tag)))
    elif etree.QName(child).namespace is None:
        oddity(Oddity("element", child, str(child.tag)))
