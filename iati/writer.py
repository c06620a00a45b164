"""Write the model as IATI 2.03 XML, streaming: one record in memory at a time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from lxml import etree

from iati.elements.activity import Activity, ActivityFile
from iati.elements.organisation import Organisation, OrganisationFile
from iati.xml import XML_NS, Extension, IatiElement, format_value, plan_for, write_element

OUTPUT_VERSION = "2.03"


def activity_to_element(activity: Activity, indent: str | None = None) -> etree._Element:
    """The `iati-activity` element of `activity` (pretty-printed when `indent` is given)."""
    nsmap = _nsmap(activity.namespaces)
    return write_element(None, "iati-activity", activity, nsmap=nsmap, indent=indent)


def organisation_to_element(
    organisation: Organisation, indent: str | None = None
) -> etree._Element:
    """The `iati-organisation` element of `organisation`."""
    nsmap = _nsmap(organisation.namespaces)
    return write_element(None, "iati-organisation", organisation, nsmap=nsmap, indent=indent)


def write_activities(
    activities: Iterable[Activity],
    out: IO[bytes],
    *,
    file: ActivityFile | None = None,
    pretty: bool = True,
) -> int:
    """Write an `iati-activities` 2.03 document to `out`; returns the number of activities.

    `file` gives the root's attributes, namespaces and kept root-level elements (its
    `activities` list is ignored: the activities come from the iterable, so a file of any
    size streams through).
    """
    root = file or ActivityFile()
    return _write_document("iati-activities", root, activities, activity_to_element, out, pretty)


def write_organisations(
    organisations: Iterable[Organisation],
    out: IO[bytes],
    *,
    file: OrganisationFile | None = None,
    pretty: bool = True,
) -> int:
    """Write an `iati-organisations` 2.03 document to `out`; returns the number of records."""
    root = file or OrganisationFile()
    return _write_document(
        "iati-organisations", root, organisations, organisation_to_element, out, pretty
    )


def to_bytes(activities: Iterable[Activity], *, file: ActivityFile | None = None) -> bytes:
    """A whole `iati-activities` document as bytes (for small outputs and tests)."""
    from io import BytesIO

    buffer = BytesIO()
    write_activities(activities, buffer, file=file)
    return buffer.getvalue()


def _write_document(
    tag: str,
    root: ActivityFile | OrganisationFile,
    records: Iterable[Any],
    to_element: Any,
    out: IO[bytes],
    pretty: bool,
) -> int:
    count = 0
    extensions = sorted(root.extensions, key=lambda extension: extension.position)
    with etree.xmlfile(out, encoding="utf-8") as document:
        document.write_declaration()
        with document.element(tag, _root_attributes(root), nsmap=_nsmap(root.namespaces)):
            for record in records:
                _flush_root(document, extensions, count, pretty)
                element = to_element(record, "\n  " if pretty else None)
                if pretty:
                    document.write("\n  ")
                document.write(element)
                count += 1
            _flush_root(document, extensions, None, pretty)
            if pretty:
                document.write("\n")
    return count


def _flush_root(document: Any, pending: list[Extension], count: int | None, pretty: bool) -> None:
    while pending and (count is None or pending[0].position <= count):
        if pretty:
            document.write("\n  ")
        document.write(pending.pop(0).element())


def _root_attributes(root: IatiElement) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, attribute in plan_for(type(root)).attribute_order:
        value = getattr(root, name)
        if value is not None:
            attributes[attribute] = format_value(value)
    attributes["version"] = OUTPUT_VERSION
    attributes.update(root.extra_attributes)
    return attributes


def _nsmap(namespaces: dict[str, str]) -> dict[str | None, str] | None:
    if not namespaces:
        return None
    return {prefix or None: uri for prefix, uri in namespaces.items() if uri != XML_NS}
