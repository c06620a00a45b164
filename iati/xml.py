"""How the model declares its XML: field markers, the element base class, compiled plans.

Every model class declares, per field, where its value lives in XML (`Attr`, `Child`,
`Text` in the field's `Annotated` metadata). `plan_for` compiles that once per class into
a `Plan`, and the same plan drives both `iati.xml_read.read_element` (XML → model) and
`iati.xml_write.write_element` (model → XML in schema order), so reader and writer cannot
drift apart. Anything the standard does not define at a place — elements and attributes of
other namespaces (IATI extensions), or unexpected ones — is kept verbatim with its position
(`Extension`, `extra_attributes`) and written back in place.
"""

from __future__ import annotations

import re
import threading
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Union

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from iati.parsing import hardened_parser
from iati.values import IsoDate, IsoDateTime, XsdBoolean

XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
XML_LANG: Final = f"{{{XML_NS}}}lang"



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
        return etree.fromstring(self.xml, hardened_parser())


class IatiElement(BaseModel):
    """Base of every model class that stands for one IATI XML element."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    extensions: list[Extension] = Field(default_factory=list)
    extra_attributes: dict[str, str] = Field(default_factory=dict)


class ValueElement(IatiElement):
    """A small, frozen element that is a value (a narrative, a code, a date).

    The reader shares one instance between every identical occurrence in a file (a file
    repeats the same few codes and names thousands of times), which makes reading much
    cheaper. Frozen, so a shared instance cannot be changed under its other users: replace
    it (``model_copy(update=…)``) instead of mutating it, its lists included.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    # Instances of a `ValueElement` already read, by (text, attributes); None: not shared.
    shared: dict[tuple[str | None, tuple[tuple[str, str], ...]], IatiElement] | None = None


_COMPILING = threading.RLock()


def plan_for(cls: type[IatiElement]) -> Plan:
    """The compiled plan of `cls`, built on first use from its field declarations.

    Thread-safe: a plan is published only once it and its children's plans are complete.
    """
    plan = cls.__dict__.get("_plan_cache")
    if plan is None:
        with _COMPILING:
            plan = cls.__dict__.get("_plan_cache")
            if plan is None:
                plan = _compile(cls)
                for spec in plan.child_order:
                    spec.plan = plan_for(spec.cls)
                type.__setattr__(cls, "_plan_cache", plan)
    assert isinstance(plan, Plan)
    return plan


def _compile(cls: type[IatiElement]) -> Plan:
    plan = Plan(cls, shared={} if issubclass(cls, ValueElement) else None)
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


# The XSD lexical spaces, ASCII digits only (Python also takes exponents, "_", "NaN", "١٢٣").
_DECIMAL: Final = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
_INTEGER: Final = re.compile(r"\s*[+-]?[0-9]+\s*")


def _to_decimal(text: str) -> Decimal:
    """An `xs:decimal`, exactly as written (trailing zeros kept)."""
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError("not an xs:decimal number (digits and one '.', no exponent)")
    return Decimal(text)


def _to_int(text: str) -> int:
    """An `xs:int` / `xs:positiveInteger`."""
    if _INTEGER.fullmatch(text) is None:
        raise ValueError("not an xs:integer")
    return int(text)


_REMEMBERED = 4_096  # distinct texts a remembering converter keeps: bounds memory


def _remembering(parse: Converter) -> Converter:
    """`parse`, giving back what it gave before for a text already seen.

    A file repeats its dates and amounts many times (periods, transaction dates, budget
    values), and the values these parse to are immutable, so one instance can serve every
    occurrence. Text `parse` refuses is not remembered: it raises every time.
    """
    known: dict[str, Any] = {}

    def convert(text: str) -> Any:
        found = known.get(text)
        if found is None:
            found = parse(text)
            if len(known) >= _REMEMBERED:
                known.clear()
            known[text] = found
        return found

    return convert


_CONVERTERS: Final[dict[Any, Converter | None]] = {
    str: None,
    Decimal: _remembering(_to_decimal),
    int: _to_int,
    IsoDate: _remembering(IsoDate.parse),
    IsoDateTime: _remembering(IsoDateTime.parse),
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
