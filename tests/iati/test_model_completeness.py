"""The model covers every element and attribute of the official schemas (2.01–2.03)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from iati.artefacts import schema_path
from iati.elements.activity import ActivityFile
from iati.elements.organisation import OrganisationFile
from iati.xml import XML_LANG, IatiElement, plan_for

XS = "{http://www.w3.org/2001/XMLSchema}"


class _Schema:
    """Just enough of an XSD walker to list every element path and its attributes."""

    def __init__(self, version: str, kind: str) -> None:
        main = schema_path(version, kind)  # type: ignore[arg-type]
        self.elements: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        self.attribute_groups: dict[str, etree._Element] = {}
        for path in (main, main.with_name("iati-common.xsd")):
            for node in etree.parse(str(path)).getroot():
                table = {
                    f"{XS}element": self.elements,
                    f"{XS}complexType": self.types,
                    f"{XS}attributeGroup": self.attribute_groups,
                }.get(str(node.tag))
                if table is not None:
                    table[node.get("name", "")] = node

    def paths(
        self, name: str, prefix: str = "", seen: frozenset[str] = frozenset()
    ) -> Iterator[str]:
        declaration = self.elements[name]
        yield from self._paths_of(declaration, f"{prefix}/{name}", seen)

    def _paths_of(
        self, declaration: etree._Element, path: str, seen: frozenset[str]
    ) -> Iterator[str]:
        yield path
        complex_type = self._complex_type(declaration)
        if complex_type is None or path in seen:
            return
        for attribute in self._attributes(complex_type):
            yield f"{path}/@{attribute}"
        for child in self._child_elements(complex_type):
            if child.get("ref"):
                yield from self.paths(child.get("ref", ""), path, seen | {path})
            else:
                yield from self._paths_of(child, f"{path}/{child.get('name')}", seen | {path})

    def _complex_type(self, declaration: etree._Element) -> etree._Element | None:
        inline = declaration.find(f"{XS}complexType")
        if inline is not None:
            return inline
        return self.types.get(declaration.get("type", ""))

    def _content_holders(self, complex_type: etree._Element) -> list[etree._Element]:
        holders = [complex_type]
        extension = complex_type.find(f"{XS}complexContent/{XS}extension")
        if extension is not None:
            holders.append(extension)
            base = self.types.get(extension.get("base", ""))
            if base is not None:
                holders.extend(self._content_holders(base))
        return holders

    def _attributes(self, complex_type: etree._Element) -> Iterator[str]:
        for holder in self._content_holders(complex_type):
            for node in holder:
                yield from self._attributes_in(node)
            simple = holder.find(f"{XS}simpleContent")
            for extension in () if simple is None else simple.iter(f"{XS}extension"):
                for node in extension:
                    yield from self._attributes_in(node)

    def _attributes_in(self, node: etree._Element) -> Iterator[str]:
        if node.tag == f"{XS}attribute":
            name = node.get("name") or node.get("ref", "")
            yield XML_LANG if name == "xml:lang" else name
        elif node.tag == f"{XS}attributeGroup" and node.get("ref"):
            for inner in self.attribute_groups[node.get("ref", "")]:
                yield from self._attributes_in(inner)

    def _child_elements(self, complex_type: etree._Element) -> Iterator[etree._Element]:
        for holder in self._content_holders(complex_type):
            for node in holder.iter(f"{XS}element"):
                owner = node.getparent()
                while owner is not None and owner.tag in (f"{XS}sequence", f"{XS}choice"):
                    owner = owner.getparent()
                if owner is holder:
                    yield node


def _model_paths(
    cls: type[IatiElement], path: str, seen: frozenset[type] = frozenset()
) -> Iterator[str]:
    yield path
    plan = plan_for(cls)
    for attribute in plan.attributes:
        yield f"{path}/@{attribute}"
    if cls in seen:
        return
    for spec in plan.child_order:
        yield from _model_paths(spec.cls, f"{path}/{spec.tag}", seen | {cls})


CASES = [
    (version, kind, root, model)
    for version in ("2.01", "2.02", "2.03")
    for kind, root, model in (
        ("activities", "iati-activities", ActivityFile),
        ("organisations", "iati-organisations", OrganisationFile),
    )
]


@pytest.mark.parametrize(("version", "kind", "root", "model"), CASES)
def test_every_schema_element_and_attribute_has_a_model_field(
    version: str, kind: str, root: str, model: type[IatiElement]
) -> None:
    in_schema = set(_Schema(version, kind).paths(root))
    in_model = set(_model_paths(model, f"/{root}"))
    assert len(in_schema) > (250 if kind == "activities" else 60)
    assert sorted(in_schema - in_model) == []


def test_the_2_03_model_declares_nothing_the_schema_lacks() -> None:
    in_schema = set(_Schema("2.03", "activities").paths("iati-activities"))
    in_model = set(_model_paths(ActivityFile, "/iati-activities"))
    assert sorted(in_model - in_schema) == []
