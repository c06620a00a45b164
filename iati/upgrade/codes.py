"""Upgrade steps that turn 1.x text codes into 2.03 codes: the published tables, then names."""

# 2.01 made codelists "language neutral": where a 1.x code was an English word, that word
# became the *name* of a new numeric code. CODE_MAPS holds the tables IATI published; for
# every other coded attribute (found through the codelists' own mapping.xml) a value that is
# exactly the name of one 2.03 code is replaced by that code, e.g. an organisation type
# "Multilateral" by 40.

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from lxml import etree

from iati.artefacts import codelist_mapping_path, codelist_path
from iati.parsing import hardened_parser
from iati.upgrade.context import Upgrade, plain_elements
from iati.upgrade.tables import CODE_MAPS, CodeMap

_MAPPED: Final = frozenset((code_map.path, code_map.attribute) for code_map in CODE_MAPS)
_ACTIVITY_PREFIX: Final = "//iati-activity/"


@dataclass(frozen=True, slots=True)
class Codelist:
    """The codes of one vendored 2.03 codelist, and each unambiguous English name's code."""

    codes: frozenset[str]
    by_name: dict[str, str]


def replace_codes(upgrade: Upgrade) -> None:
    """Replace every 1.x code of `CODE_MAPS`; report values that fit neither version."""
    by_path: dict[str, list[etree._Element]] = {}
    for path, element in plain_elements(upgrade.record):
        by_path.setdefault(path, []).append(element)
    for code_map in CODE_MAPS:
        for element in by_path.get(code_map.path, ()):
            _replace(upgrade, element, code_map)


def replace_names(upgrade: Upgrade) -> None:
    """Replace a coded attribute's value that is the name of exactly one 2.03 code."""
    coded = coded_attributes()
    for path, element in plain_elements(upgrade.record):
        for attribute, value in element.attrib.items():
            name = coded.get((path, str(attribute)))
            if name is None or (path, attribute) in _MAPPED:
                continue
            codelist = load_codelist(name)
            code = codelist.by_name.get(_normal(value))
            if value.strip() not in codelist.codes and code is not None:
                element.set(attribute, code)
                upgrade.report("upgrade.code", element, attribute=str(attribute), actual=value,
                               expected=f"{code} (the {name} code of that name)")


@functools.cache
def load_codelist(name: str) -> Codelist:
    """The vendored 2.03 codelist `name` (withdrawn codes included)."""
    tree = etree.parse(str(codelist_path(name)), _parser())
    codes: set[str] = set()
    by_name: dict[str, str | None] = {}
    for item in tree.iterfind(".//codelist-item"):
        code = (item.findtext("code") or "").strip()
        codes.add(code)
        for label in item.iterfind("name/narrative"):
            if label.get("{http://www.w3.org/XML/1998/namespace}lang") is None:
                key = _normal(label.text or "")
                # A name shared by two codes says nothing about which one was meant.
                by_name[key] = code if key not in by_name else None
    return Codelist(frozenset(codes), {k: v for k, v in by_name.items() if v is not None})


@functools.cache
def coded_attributes() -> dict[tuple[str, str], str]:
    """(path below iati-activity, attribute) → codelist, from IATI's ``mapping.xml``.

    Mappings with a condition (a codelist that applies only under some vocabulary) are left
    out: without the condition the name could belong to the wrong list.
    """
    found: dict[tuple[str, str], str] = {}
    tree = etree.parse(str(codelist_mapping_path()), _parser())
    for mapping in tree.iterfind("mapping"):
        path, reference = mapping.findtext("path") or "", mapping.find("codelist")
        if mapping.find("condition") is not None or reference is None:
            continue
        if not path.startswith(_ACTIVITY_PREFIX) or "@" not in path:
            continue  # the root's @version, or element text such as crs-add/channel-code
        where, _, attribute = path.removeprefix(_ACTIVITY_PREFIX).rpartition("@")
        found[(where.rstrip("/"), attribute)] = reference.get("ref", "")
    return found


def _replace(upgrade: Upgrade, element: etree._Element, code_map: CodeMap) -> None:
    value = element.get(code_map.attribute)
    if value is None:
        return
    replacement = code_map.lookup(value)
    if replacement is not None:
        element.set(code_map.attribute, replacement)
        upgrade.report("upgrade.code", element, attribute=code_map.attribute,
                       actual=value, expected=replacement)
    elif value.strip() not in load_codelist(code_map.codelist).codes:
        upgrade.report(
            "upgrade.unsafe", element, attribute=code_map.attribute,
            actual=f"{value!r} ({code_map.path}/@{code_map.attribute})",
            expected=f"it is neither a 1.x code nor a 2.03 {code_map.codelist} code, so no "
            "2.03 code can be chosen for it; kept as is",
        )


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _parser() -> etree.XMLParser:
    # Vendored artefacts, but parsed as warily as any input.
    return hardened_parser()
