"""The engine that reads and writes IATI XML from the model's own field declarations.

Every model class declares, per field, where its value lives in XML (`Attr`, `Child`,
`Text` in the field's `Annotated` metadata). `plan_for` compiles that once per class into
a `Plan`, and the same plan drives both `read_element` (XML → field dict, validated by
pydantic in one call) and `write_element` (model → XML in schema order), so reader and
writer cannot drift apart. Anything the standard does not define here — elements and
attributes of other namespaces (IATI extensions), or unexpected ones — is kept verbatim
with its position and written back in place.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Union

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from iati.values import IsoDate, IsoDateTime, XsdBoolean

XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
XML_LANG: Final = f"{{{XML_NS}}}lang"

# Kept elements are re-parsed when written: same hardening as the reader.
_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True, slots=True)
class Attr:
    """The field is the XML attribute `name` (Clark notation for namespaced ones)."""

    name: str


@dataclass(frozen=True, slots=True)
class Child:
    """The field is the child element (or list of child elements) named `tag`."""

    tag: str


@dataclass(frozen=True, slots=True)
class Text:
    """The field is the element's own text content."""


TEXT: Final = Text()


class Extension(BaseModel):
    """An element the standard does not define at this place, kept verbatim.

    `position` is the number of standard child elements that precede it, so the writer can
    put it back exactly where it was.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    xml: str

    @property
    def tag(self) -> str:
        return str(etree.QName(self.element()))

    def element(self) -> etree._Element:
        """The kept element, parsed again (with the reader's hardened parser)."""
        return etree.fromstring(self.xml, _PARSER)


class IatiElement(BaseModel):
    """Base of every model class that stands for one IATI XML element."""

    model_config = ConfigDict(extra="forbid")

    extensions: list[Extension] = Field(default_factory=list)
    extra_attributes: dict[str, str] = Field(default_factory=dict)



@dataclass(slots=True)
class ChildSpec:
    """How one child field maps to XML."""

    field: str
    tag: str
    many: bool
    cls: type[IatiElement]
    plan: Plan | None = None


Converter = Callable[[str], Any]


@dataclass(slots=True)
class Plan:
    """The compiled XML mapping of one model class."""

    cls: type[IatiElement]
    attributes: dict[str, tuple[str, Converter | None]] = field(default_factory=dict)
    attribute_order: list[tuple[str, str]] = field(default_factory=list)
    # Keyed by tag; typed `object` because lxml tags may also be comments or QNames.
    children: dict[object, ChildSpec] = field(default_factory=dict)
    child_order: list[ChildSpec] = field(default_factory=list)
    text: tuple[str, Converter | None] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    factories: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)

    def new(self, values: dict[str, Any], fields_set: set[str]) -> IatiElement:
        """An instance from values the reader has already converted to the field types.

        This is pydantic's `model_construct` without its per-call introspection: the
        reader's converters produce exactly the declared types (a test proves that
        `model_validate(model_dump())` gives back an equal model for every sample).
        """
        model = self.cls.__new__(self.cls)
        _set(model, "__dict__", values)
        _set(model, "__pydantic_fields_set__", fields_set)
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


_set = object.__setattr__


def plan_for(cls: type[IatiElement]) -> Plan:
    """The compiled plan of `cls`, built on first use from its field declarations."""
    plan = cls.__dict__.get("_plan_cache")
    if plan is None:
        plan = _compile(cls)
        type.__setattr__(cls, "_plan_cache", plan)
        for spec in plan.child_order:
            spec.plan = plan_for(spec.cls)
    assert isinstance(plan, Plan)
    return plan


def _compile(cls: type[IatiElement]) -> Plan:
    plan = Plan(cls)
    hints = typing.get_type_hints(cls, include_extras=True)
    for name, info in cls.model_fields.items():
        if info.default_factory is not None:
            plan.factories.append((name, info.default_factory))  # type: ignore[arg-type]
        else:
            plan.defaults[name] = info.default
        for marker in info.metadata:
            if isinstance(marker, Attr):
                plan.attributes[marker.name] = (name, converter_for(hints[name]))
                plan.attribute_order.append((name, marker.name))
            elif isinstance(marker, Child):
                many, child_cls = _element_type(hints[name])
                spec = ChildSpec(name, marker.tag, many, child_cls)
                plan.children[marker.tag] = spec
                plan.child_order.append(spec)
            elif isinstance(marker, Text):
                plan.text = (name, converter_for(hints[name]))
    return plan


def _element_type(hint: Any) -> tuple[bool, type[IatiElement]]:
    """(is a list, element class) for a child field annotation."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _element_type(typing.get_args(hint)[0])
    if origin is list:
        return True, _element_type(typing.get_args(hint)[0])[1]
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _element_type(options[0])
    if isinstance(hint, type) and issubclass(hint, IatiElement):
        return False, hint
    raise TypeError(f"child field must be an IatiElement or a list of them, not {hint!r}")


def _to_decimal(text: str) -> Decimal:
    """An `xs:decimal`: Python's extras (exponents, underscores, NaN) are refused."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("not an xs:decimal number") from None
    if not amount.is_finite() or "_" in text or "e" in text or "E" in text:
        raise ValueError("not an xs:decimal number (no exponent, no separators)")
    return amount


def _to_int(text: str) -> int:
    """An `xs:int` / `xs:positiveInteger` (Python's underscores are refused)."""
    if "_" in text:
        raise ValueError("not an xs:integer")
    try:
        return int(text)
    except ValueError:
        raise ValueError("not an xs:integer") from None


_CONVERTERS: Final[dict[Any, Converter | None]] = {
    str: None,
    Decimal: _to_decimal,
    int: _to_int,
    IsoDate: IsoDate.parse,
    IsoDateTime: IsoDateTime.parse,
    XsdBoolean: XsdBoolean.of,
}


def converter_for(hint: Any) -> Converter | None:
    """The function that turns XML text into the field's type (None: keep the string)."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return converter_for(typing.get_args(hint)[0])
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return converter_for(options[0])
    if hint not in _CONVERTERS:
        raise TypeError(f"no XML converter for {hint!r}")
    return _CONVERTERS[hint]


# ---------------------------------------------------------------------------------------
# Reading


@dataclass(slots=True)
class Oddity:
    """Something the reader kept verbatim or could not keep (becomes a finding)."""

    kind: str  # "element", "attribute", "repeated", "text", "invalid"
    element: etree._Element
    name: str
    value: str | None = None
    expected: str | None = None


OddityHandler = Callable[[Oddity], None]


def read_element(element: etree._Element, plan: Plan, oddity: OddityHandler) -> IatiElement:
    """The model of `element` per `plan`; whatever does not fit is reported to `oddity`.

    This is the hot path of every import, written for speed: one pass over attributes,
    text and children, values converted once, the instance built without re-validation.
    """
    values: dict[str, Any] = {}
    attrib = element.attrib
    if attrib:
        names = plan.attributes
        for key, raw in attrib.items():
            slot = names.get(key)
            if slot is None:
                _extra_attribute(values, element, key, raw, oddity)
            elif slot[1] is None:
                values[slot[0]] = raw
            else:
                _convert(values, element, slot, raw, key, oddity)
    text = element.text
    if plan.text is not None:
        if text is not None:
            _convert(values, element, plan.text, text, "text()", oddity)
    elif text is not None and not text.isspace():
        oddity(Oddity("text", element, str(element.tag), text))
    children = plan.children
    position = 0
    for child in element:
        spec = children.get(child.tag)
        if spec is None or (not spec.many and spec.field in values):
            _keep_verbatim(values, child, position, spec, oddity)
            continue
        tail = child.tail
        if tail is not None and not tail.isspace():
            oddity(Oddity("text", element, str(element.tag), tail))
        model = read_element(child, spec.plan, oddity)  # type: ignore[arg-type]
        if spec.many:
            items = values.get(spec.field)
            if items is None:
                values[spec.field] = [model]
            else:
                items.append(model)
        else:
            values[spec.field] = model
        position += 1
    full = {**plan.defaults, **values}
    for name, factory in plan.factories:
        if name not in values:
            full[name] = factory()
    return plan.new(full, set(values))


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
    if not isinstance(child.tag, str):
        return  # comments and processing instructions are not data
    xml = etree.tostring(child, with_tail=False, encoding="unicode")
    values.setdefault("extensions", []).append(Extension(position=position, xml=xml))
    if spec is not None:
        oddity(Oddity("repeated", child, child.tag))
    elif etree.QName(child).namespace is None:
        oddity(Oddity("element", child, child.tag))


# ---------------------------------------------------------------------------------------
# Writing


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
