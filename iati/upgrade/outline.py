"""The shape of an IATI 2.03 activity as the official XSD declares it, read from the XSD once."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from iati.artefacts import LATEST, schema_path
from iati.parsing import hardened_parser

XSD: Final = "{http://www.w3.org/2001/XMLSchema}"
XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"
NARRATIVE: Final = "narrative"

# Schema parts whose children simply continue the content model of the element being read.
_TRANSPARENT: Final = frozenset(
    XSD + name for name in ("sequence", "choice", "all", "complexContent", "complexType")
)


@dataclass(frozen=True, slots=True)
class Outline:
    """One element of the 2.03 activity schema: children in schema order, attributes, content."""

    name: str
    required: bool
    repeatable: bool
    children: dict[str, Outline] = field(default_factory=dict)
    attributes: frozenset[str] = frozenset()
    required_attributes: tuple[str, ...] = ()
    text: bool = False
    extensible: bool = False
    open_attributes: bool = False

    def child(self, name: str) -> Outline | None:
        """The declaration of child `name` here, or None if 2.03 has no such child."""
        return self.children.get(name)

    def position(self, name: str) -> int:
        """Where child `name` comes in the schema's sequence (unknown names come last)."""
        names = list(self.children)
        return names.index(name) if name in names else len(names)

    @property
    def holds_narratives(self) -> bool:
        """True for elements whose free text lives in `narrative` children since 2.01."""
        return NARRATIVE in self.children

    @property
    def needs_iso_date(self) -> bool:
        """True for date elements whose only content in 2.03 is @iso-date."""
        return "iso-date" in self.required_attributes and not self.holds_narratives

    def allows_attribute(self, name: str) -> bool:
        """True if 2.03 accepts attribute `name` (Clark notation) on this element."""
        if name in self.attributes:
            return True
        return name.startswith("{") and self.open_attributes


@dataclass(slots=True)
class _Content:
    """What one complex type contributes while it is being read."""

    children: list[etree._Element] = field(default_factory=list)
    attributes: list[etree._Element] = field(default_factory=list)
    text: bool = False
    extensible: bool = False
    open_attributes: bool = False


@dataclass(frozen=True, slots=True)
class _Index:
    elements: dict[str, etree._Element]
    types: dict[str, etree._Element]


@functools.cache
def activity_outline() -> Outline:
    """The outline of `iati-activity` in the vendored 2.03 activities schema."""
    index = _read_index()
    return _outline(index.elements["iati-activity"], index)


@functools.lru_cache(maxsize=4096)  # bounded: unknown paths come from the input
def outline_at(path: str) -> Outline | None:
    """The outline of the element at local `path` below iati-activity (``""`` is the activity).

    None when 2.03 has no element there (a 1.x-only or unknown element, or anything inside one).
    """
    found: Outline | None = activity_outline()
    for name in filter(None, path.split("/")):
        found = found.child(name) if found is not None else None
    return found


def _read_index() -> _Index:
    main = schema_path(LATEST, "activities")
    # The vendored XSDs are trusted artefacts, but they are parsed as warily as any input.
    parser = hardened_parser()
    index = _Index({}, {})
    for path in (main, main.with_name("iati-common.xsd")):
        for declaration in etree.parse(str(path), parser).getroot():
            name = declaration.get("name")
            if declaration.tag == XSD + "element" and name:
                index.elements[name] = declaration
            elif declaration.tag == XSD + "complexType" and name:
                index.types[name] = declaration
    return index


def _outline(declaration: etree._Element, index: _Index) -> Outline:
    target = index.elements[declaration.get("ref", "")] if declaration.get("ref") else declaration
    content = _Content()
    body = target.find(XSD + "complexType")
    if body is None and target.get("type") in index.types:
        body = index.types[target.get("type", "")]
    if body is None:
        content.text = True  # a simple type such as xsd:string
    else:
        _collect(body, index, content)
    attributes = {_attribute_name(part): part.get("use") for part in content.attributes}
    return Outline(
        name=target.get("name", ""),
        required=declaration.get("minOccurs", "1") != "0",
        repeatable=declaration.get("maxOccurs", "1") != "1",
        children={
            child.get("name", "") or child.get("ref", ""): _outline(child, index)
            for child in content.children
        },
        attributes=frozenset(attributes),
        required_attributes=tuple(name for name, use in attributes.items() if use == "required"),
        text=content.text,
        extensible=content.extensible,
        open_attributes=content.open_attributes,
    )


def _collect(node: etree._Element, index: _Index, content: _Content) -> None:
    for part in node:
        if part.tag == XSD + "element":
            content.children.append(part)
        elif part.tag == XSD + "attribute":
            content.attributes.append(part)
        elif part.tag == XSD + "any":
            content.extensible = True
        elif part.tag == XSD + "anyAttribute":
            content.open_attributes = True
        elif part.tag == XSD + "simpleContent":
            content.text = True
            _collect(part, index, content)
        elif part.tag == XSD + "extension":
            # A derived type's content follows the content of its base type.
            base = part.get("base", "")
            if base in index.types:
                _collect(index.types[base], index, content)
            else:
                content.text = True
            _collect(part, index, content)
        elif part.tag in _TRANSPARENT:
            _collect(part, index, content)


def _attribute_name(attribute: etree._Element) -> str:
    reference = attribute.get("ref")
    if reference == "xml:lang":
        return XML_LANG
    return attribute.get("name") or reference or ""
