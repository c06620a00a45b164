"""Upgrade steps that rename or rebuild 1.x elements and attributes into their 2.03 shape."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from lxml import etree

from iati.upgrade.context import Upgrade, direct_text, plain_elements, tag_of
from iati.upgrade.outline import NARRATIVE
from iati.upgrade.tables import (
    ACTIVITY_WEB_PAGE,
    EPSG_4326,
    GAZETTEER_VOCABULARY,
    ISO_COUNTRY_VOCABULARY,
    OTHER_ACTIVITY_IDENTIFIER,
    OWN_ACTIVITY_IDENTIFIER,
    REMOVED_ATTRIBUTES,
    RENAMED_ELEMENTS,
)

Rebuild = Callable[[Upgrade, etree._Element], None]

# Characters that RFC 3986 never allows unescaped, so xsd:anyURI rejects them.
_NOT_IN_URI: Final = re.compile(r'[\s<>"{}|\\^`]')


def move_version(upgrade: Upgrade) -> None:
    """Drop the activity's own @version: 1.x put one on each activity, 2.x only on the root.

    The version the file was read as is reported once per file, by the reader.
    """
    own = upgrade.record.attrib.pop("version", None)
    if own is not None:
        declared = upgrade.from_version or "no version"
        upgrade.report(
            "upgrade.renamed", upgrade.record, attribute="version",
            actual=f"iati-activity/@version={own!r}",
            expected=f"iati-activities/@version (the file declares {declared}; "
            "the writer sets 2.03)",
        )


def rebuild_elements(upgrade: Upgrade) -> None:
    """Apply the element-specific rebuilds of `REBUILDS` and the plain renames."""
    for path, element in plain_elements(upgrade.record):
        rebuild = REBUILDS.get(path)
        if rebuild is not None:
            rebuild(upgrade, element)
        elif path in RENAMED_ELEMENTS:
            _rename(upgrade, element, RENAMED_ELEMENTS[path])


def remove_attributes(upgrade: Upgrade) -> None:
    """Drop the attributes 2.01 removed, keeping each value in its finding."""
    for path, element in plain_elements(upgrade.record):
        for (where, name), reason in REMOVED_ATTRIBUTES.items():
            value = element.get(name) if where == path else None
            if value is not None:
                del element.attrib[name]
                upgrade.report(
                    "upgrade.removed", element, attribute=name,
                    actual=f"{path}/@{name}={value!r}", expected=reason,
                )


def _rename(upgrade: Upgrade, element: etree._Element, new_name: str) -> None:
    old_name = tag_of(element)
    element.tag = new_name
    upgrade.report("upgrade.renamed", element, actual=old_name, expected=new_name)


def _activity_website(upgrade: Upgrade, element: etree._Element) -> None:
    url = direct_text(element)
    if url is None:
        return  # nothing to carry over; the audit reports the empty 1.x element
    element.tag = "document-link"
    element.text = None
    element.set("url", url.strip())
    upgrade.make_child(element, "category").set("code", ACTIVITY_WEB_PAGE)
    upgrade.report(
        "upgrade.renamed", element, actual="activity-website",
        expected=f"document-link/@url with category {ACTIVITY_WEB_PAGE} (Activity web page)",
    )
    if _NOT_IN_URI.search(url.strip()):
        upgrade.report("upgrade.unsafe", element, attribute="url", actual=repr(url.strip()),
                       expected="it is not a valid URI (xsd:anyURI); carried over as it is")


def _other_identifier(upgrade: Upgrade, element: etree._Element) -> None:
    if element.get("type") is not None:
        return  # already shaped as 2.x
    identifier = direct_text(element)
    owner_ref = element.attrib.pop("owner-ref", None)
    owner_name = element.attrib.pop("owner-name", None)
    if identifier is None and owner_ref is None and owner_name is None:
        return
    if identifier is not None:
        element.text = None
        element.set("ref", identifier.strip())
        upgrade.report("upgrade.renamed", element, actual="other-identifier text",
                       expected="other-identifier/@ref")
    _owner_org(upgrade, element, owner_ref, owner_name)
    reporting_ref = _reporting_ref(upgrade)
    kind = OWN_ACTIVITY_IDENTIFIER if owner_ref and owner_ref == reporting_ref else (
        OTHER_ACTIVITY_IDENTIFIER
    )
    element.set("type", kind)
    upgrade.report(
        "upgrade.derived", element, attribute="type",
        actual="other-identifier/@type",
        expected=f"{kind} ({'owned by the reporting organisation' if kind == 'A1' else 'other'})",
    )


def _reporting_ref(upgrade: Upgrade) -> str | None:
    reporting = upgrade.record.find("reporting-org")
    return None if reporting is None else reporting.get("ref")


def _owner_org(
    upgrade: Upgrade, element: etree._Element, ref: str | None, name: str | None
) -> None:
    for attribute, value in (("owner-ref", ref), ("owner-name", name)):
        if value is not None and not value.strip():
            upgrade.report("upgrade.removed", element, attribute=attribute,
                           actual=f"other-identifier/@{attribute}=''", expected="it was empty")
    if not (ref and ref.strip()) and not (name and name.strip()):
        return
    owner = upgrade.make_child(element, "owner-org")
    if ref and ref.strip():
        owner.set("ref", ref)
        upgrade.report("upgrade.renamed", element, actual="other-identifier/@owner-ref",
                       expected="other-identifier/owner-org/@ref")
    if name and name.strip():
        upgrade.make_child(owner, NARRATIVE).text = name
        upgrade.report("upgrade.renamed", element, actual="other-identifier/@owner-name",
                       expected="other-identifier/owner-org/narrative")


def _coordinates(upgrade: Upgrade, element: etree._Element) -> None:
    latitude, longitude = element.get("latitude"), element.get("longitude")
    location = element.getparent()
    if not latitude or not longitude or location is None or location.find("point") is not None:
        upgrade.report(
            "upgrade.unsafe", element, actual="location/coordinates",
            expected="it lacks @latitude or @longitude, or the location already has a point; "
            "kept as is",
        )
        return
    point = etree.Element("point", srsName=EPSG_4326)
    upgrade.adopt(point, element)
    upgrade.make_child(point, "pos").text = f"{latitude.strip()} {longitude.strip()}"
    location.replace(element, point)
    upgrade.report("upgrade.renamed", point, actual="location/coordinates/@latitude @longitude",
                   expected="location/point/pos (WGS 84, EPSG:4326)")
    for name, value in element.attrib.items():
        if name not in ("latitude", "longitude"):
            upgrade.report(
                "upgrade.removed", point, attribute=name,
                actual=f"location/coordinates/@{name}={value!r}",
                expected="2.03 point has no such attribute (GeographicalPrecision is not "
                "the GeographicExactness of location/exactness)",
            )


def _gazetteer_entry(upgrade: Upgrade, element: etree._Element) -> None:
    # The 1.04 guidance spells the attribute "gazeteer-ref"; the 1.0x schema "gazetteer-ref".
    agency = element.get("gazetteer-ref") or element.get("gazeteer-ref") or ""
    vocabulary = GAZETTEER_VOCABULARY.get(agency.strip().upper())
    code = direct_text(element)
    if vocabulary is None or code is None:
        upgrade.report(
            "upgrade.unsafe", element, actual=f"location/gazetteer-entry ({agency or 'no agency'})",
            expected="only GEO and OSM gazetteers have a 2.03 GeographicVocabulary code, and the "
            "entry needs its code as text; kept as is",
        )
        return
    for name in ("gazetteer-ref", "gazeteer-ref"):
        element.attrib.pop(name, None)
    element.tag = "location-id"
    element.text = None
    element.set("vocabulary", vocabulary)
    element.set("code", code.strip())
    upgrade.report("upgrade.renamed", element, actual="location/gazetteer-entry",
                   expected="location/location-id (text → @code)")
    upgrade.report("upgrade.code", element, attribute="vocabulary", actual=agency,
                   expected=vocabulary)


def _administrative(upgrade: Upgrade, element: etree._Element) -> None:
    country = element.attrib.pop("country", None)
    if country is None:
        return
    if element.get("code") is None and element.get("vocabulary") is None and country.strip():
        element.set("vocabulary", ISO_COUNTRY_VOCABULARY)
        element.set("code", country.strip())
        upgrade.report(
            "upgrade.renamed", element, actual="location/administrative/@country",
            expected=f"@vocabulary={ISO_COUNTRY_VOCABULARY!r} (ISO country) with @code",
        )
        return
    upgrade.report("upgrade.removed", element, attribute="country",
                   actual=f"location/administrative/@country={country!r}",
                   expected="removed in 2.01, and the element already has its own code")


def _document_link(upgrade: Upgrade, element: etree._Element) -> None:
    # 1.0x documented document-link/@language; 2.01 made it a repeatable language child.
    language = element.attrib.pop("language", None)
    if language is None:
        return
    if not language.strip():
        upgrade.report("upgrade.removed", element, attribute="language",
                       actual="document-link/@language=''", expected="it was empty")
        return
    upgrade.make_child(element, "language").set("code", language.strip())
    upgrade.report("upgrade.renamed", element, actual="document-link/@language",
                   expected="document-link/language/@code")


REBUILDS: Final[Mapping[str, Rebuild]] = {
    "activity-website": _activity_website,
    "other-identifier": _other_identifier,
    "location/coordinates": _coordinates,
    "location/gazetteer-entry": _gazetteer_entry,
    "location/administrative": _administrative,
    "document-link": _document_link,
}
