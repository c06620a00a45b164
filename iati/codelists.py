"""The IATI codelists vendored in `iati/resources/codelists`, loaded into frozen typed objects."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final

from lxml import etree

from iati import artefacts

__all__ = [
    "Codelist",
    "CodelistItem",
    "CodelistMapping",
    "ItemStatus",
    "codelist_mappings",
    "codelist_names",
    "load_codelist",
]

XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"
ENGLISH: Final = "en"


class ItemStatus(StrEnum):
    """Whether a code may still be used; withdrawn codes stay listed so old data can be read."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class CodelistItem:
    """One code of a codelist with its names, description, category and status."""

    code: str
    name: str | None
    names: Mapping[str, str]
    description: str | None
    descriptions: Mapping[str, str]
    category: str | None
    status: ItemStatus = ItemStatus.ACTIVE
    url: str | None = None
    public_database: bool = False
    activation_date: date | None = None
    withdrawal_date: date | None = None

    @property
    def withdrawn(self) -> bool:
        return self.status is ItemStatus.WITHDRAWN

    def name_in(self, language: str) -> str | None:
        """The name in `language`, else the English one (no codelist has Spanish names yet)."""
        return self.names.get(language, self.name)


@dataclass(frozen=True, slots=True)
class Codelist:
    """A codelist: its metadata and its items by code, in file order.

    `complete` is None where the file does not say (``LoanRepaymentPeriod``); an incomplete
    list (``Country``, ``Language``, …) may legitimately miss codes that are in use.
    Iterating yields the items, withdrawn ones included.
    """

    name: str
    embedded: bool
    complete: bool | None
    items: Mapping[str, CodelistItem]
    title: str | None = None
    description: str | None = None
    category: str | None = None
    url: str | None = None
    category_codelist: str | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.items

    def __getitem__(self, code: str) -> CodelistItem:
        return self.items[code]

    def __iter__(self) -> Iterator[CodelistItem]:
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)

    def get(self, code: str) -> CodelistItem | None:
        return self.items.get(code)

    def active(self) -> tuple[CodelistItem, ...]:
        """The items that may be used in new data (not withdrawn), in file order."""
        return tuple(item for item in self if not item.withdrawn)

    def codes(self, *, include_withdrawn: bool = True) -> frozenset[str]:
        return frozenset(item.code for item in self if include_withdrawn or not item.withdrawn)

    def in_category(self, category: str) -> tuple[CodelistItem, ...]:
        """The items whose category is `category` (e.g. Sector items of DAC 3 code ``111``)."""
        return tuple(item for item in self if item.category == category)

    def categories(self) -> Codelist | None:
        """The codelist that names this list's categories (Sector → SectorCategory), if any."""
        return None if self.category_codelist is None else load_codelist(self.category_codelist)


@dataclass(frozen=True, slots=True)
class CodelistMapping:
    """One entry of IATI's `mapping.xml`: the XPath that takes its codes from `codelist`."""

    path: str
    codelist: str
    condition: str | None = None


@functools.cache
def codelist_names() -> tuple[str, ...]:
    """The names of every vendored codelist, sorted (``ActivityDateType`` … ``Version``)."""
    folder = artefacts.codelist_path("Sector").parent
    mapping = artefacts.codelist_mapping_path()
    return tuple(sorted(path.stem for path in folder.glob("*.xml") if path != mapping))


@functools.cache
def load_codelist(name: str) -> Codelist:
    """The codelist `name` (e.g. ``Sector``), parsed once and shared; raises LookupError."""
    # The name becomes a file path, so only names of vendored files are accepted.
    if name not in codelist_names():
        raise LookupError(f"no IATI codelist named {name!r}; see iati.codelists.codelist_names()")
    root = _parse(artefacts.codelist_path(name))
    language = root.get(XML_LANG, ENGLISH)
    metadata = root.find("metadata")
    titles = _narratives(metadata, "name", language)
    descriptions = _narratives(metadata, "description", language)
    categories = _narratives(metadata, "category", language)
    return Codelist(
        name=root.get("name", name),
        embedded=_flag(root.get("embedded")) is True,
        complete=_flag(root.get("complete")),
        items=MappingProxyType(_items(name, root, language)),
        title=titles.get(ENGLISH),
        description=descriptions.get(ENGLISH),
        category=categories.get(ENGLISH),
        url=_text(metadata, "url"),
        category_codelist=root.get("category-codelist"),
    )


@functools.cache
def codelist_mappings() -> tuple[CodelistMapping, ...]:
    """Every entry of `mapping.xml`, in file order."""
    root = _parse(artefacts.codelist_mapping_path())
    return tuple(_mapping(element) for element in root.iterfind("mapping"))


def _parse(path: Path) -> etree._Element:
    # Vendored files are trusted, but the same hardened settings as for user input cost nothing.
    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, remove_comments=True
    )
    return etree.parse(str(path), parser).getroot()


def _mapping(element: etree._Element) -> CodelistMapping:
    codelist = element.find("codelist")
    return CodelistMapping(
        path=_text(element, "path") or "",
        codelist="" if codelist is None else codelist.get("ref", ""),
        condition=_text(element, "condition"),
    )


def _items(name: str, root: etree._Element, language: str) -> dict[str, CodelistItem]:
    items: dict[str, CodelistItem] = {}
    for element in root.iterfind("codelist-items/codelist-item"):
        item = _item(element, language)
        previous = items.setdefault(item.code, item)
        # FileFormat repeats two codes verbatim; a repeat that differs would lose data.
        if previous != item:
            raise ValueError(f"codelist {name} lists code {item.code!r} twice, differently")
    return items


def _item(element: etree._Element, language: str) -> CodelistItem:
    names = _narratives(element, "name", language)
    descriptions = _narratives(element, "description", language)
    return CodelistItem(
        code=_text(element, "code") or "",
        name=names.get(ENGLISH),
        names=MappingProxyType(names),
        description=descriptions.get(ENGLISH),
        descriptions=MappingProxyType(descriptions),
        category=_text(element, "category"),
        status=ItemStatus(element.get("status", ItemStatus.ACTIVE)),
        url=_text(element, "url"),
        public_database=_flag(element.get("public-database")) is True,
        activation_date=_date(element.get("activation-date")),
        withdrawal_date=_date(element.get("withdrawal-date")),
    )


def _narratives(parent: etree._Element | None, tag: str, language: str) -> dict[str, str]:
    """Texts of `parent/tag/narrative` by language; the first one of a language wins."""
    found: dict[str, str] = {}
    if parent is None:
        return found
    for narrative in parent.iterfind(f"{tag}/narrative"):
        text = (narrative.text or "").strip()
        if text:
            found.setdefault(narrative.get(XML_LANG, language), text)
    return found


def _text(parent: etree._Element | None, tag: str) -> str | None:
    text = None if parent is None else parent.findtext(tag)
    if text is None:
        return None
    return text.strip() or None


def _flag(value: str | None) -> bool | None:
    """An xs:boolean attribute; None when absent."""
    if value is None:
        return None
    if value.strip() not in {"0", "1", "true", "false"}:
        raise ValueError(f"{value!r} is not an xs:boolean")
    return value.strip() in {"1", "true"}


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value.strip())
