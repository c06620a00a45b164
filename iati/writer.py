"""Write the model as IATI 2.03 XML, streaming: one record in memory at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from io import BytesIO
from typing import IO, Any

from lxml import etree

from iati.elements.activity import Activity, ActivityFile
from iati.elements.organisation import Organisation, OrganisationFile
from iati.xml import XML_NS, Extension, IatiElement, plan_for
from iati.xml_write import format_value, write_element

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
    extensions: Callable[[], Sequence[Extension]] | None = None,
    pretty: bool = True,
) -> int:
    """Write an `iati-activities` 2.03 document to `out`; returns the number of activities.

    `file` gives the root's attributes and namespaces (its `activities` are ignored: they
    come from the iterable, so a file of any size streams through). The root's kept
    elements come from `extensions` when given — asked again as the activities go, so a
    streaming reader's trailing elements are still written — else from `file.extensions`.
    If the iterable raises, the root is left unclosed: a consumer of the stream sees a
    broken document, never a complete-looking one.
    """
    root = file or ActivityFile()
    kept = extensions or (lambda: root.extensions)
    return _write_document("iati-activities", root, kept, activities, activity_to_element,
                           out, pretty)


def write_organisations(
    organisations: Iterable[Organisation],
    out: IO[bytes],
    *,
    file: OrganisationFile | None = None,
    extensions: Callable[[], Sequence[Extension]] | None = None,
    pretty: bool = True,
) -> int:
    """Write an `iati-organisations` 2.03 document to `out`; returns the number of records."""
    root = file or OrganisationFile()
    kept = extensions or (lambda: root.extensions)
    return _write_document("iati-organisations", root, kept, organisations,
                           organisation_to_element, out, pretty)


def to_bytes(activities: Iterable[Activity], *, file: ActivityFile | None = None) -> bytes:
    """A whole `iati-activities` document as bytes (for small outputs and tests)."""
    buffer = BytesIO()
    write_activities(activities, buffer, file=file)
    return buffer.getvalue()


def activity_chunks(
    activities: Iterable[Activity], *, file: ActivityFile | None = None, pretty: bool = True
) -> Iterator[bytes]:
    """An `iati-activities` 2.03 document as a stream of byte chunks: the root's start, one
    chunk per activity, the root's end (for a response that streams as it is read)."""
    root = file or ActivityFile()
    return _document_chunks("iati-activities", root, lambda: root.extensions, activities,
                            activity_to_element, pretty, count=[0])


def _write_document(
    tag: str,
    root: ActivityFile | OrganisationFile,
    kept: Callable[[], Sequence[Extension]],
    records: Iterable[Any],
    to_element: Callable[[Any, str | None], etree._Element],
    out: IO[bytes],
    pretty: bool,
) -> int:
    count = [0]
    for chunk in _document_chunks(tag, root, kept, records, to_element, pretty, count=count):
        out.write(chunk)
    return count[0]


def _document_chunks(
    tag: str,
    root: ActivityFile | OrganisationFile,
    kept: Callable[[], Sequence[Extension]],
    records: Iterable[Any],
    to_element: Callable[[Any, str | None], etree._Element],
    pretty: bool,
    *,
    count: list[int],
) -> Iterator[bytes]:
    """The document's chunks; `count[0]` counts the records written."""
    start, end = _root_tags(tag, root)
    yield b"<?xml version='1.0' encoding='UTF-8'?>\n" + start
    indent = "\n  " if pretty else None
    separator = b"\n  " if pretty else b""
    written = 0
    for record in records:
        chunk = BytesIO()
        written = _write_kept(chunk, kept(), written, count[0], separator)
        chunk.write(separator + etree.tostring(to_element(record, indent), encoding="unicode")
                    .encode("utf-8"))
        count[0] += 1
        yield chunk.getvalue()
    chunk = BytesIO()
    _write_kept(chunk, kept(), written, None, separator)
    chunk.write((b"\n" if pretty else b"") + end + b"\n")
    yield chunk.getvalue()


def _write_kept(
    out: IO[bytes], kept: Sequence[Extension], written: int, count: int | None, separator: bytes
) -> int:
    """Write the kept root elements not yet written whose position is `count` or less.

    `kept` is in document order (positions never decrease), as the reader collects them.
    """
    for extension in kept[written:]:
        if count is not None and extension.position > count:
            break
        out.write(separator + extension.xml.encode("utf-8"))
        written += 1
    return written


def _root_tags(tag: str, root: IatiElement) -> tuple[bytes, bytes]:
    """The root's start and end tags, serialised by lxml (escaping, namespace declarations)."""
    nsmap = _nsmap(getattr(root, "namespaces", {}))
    element = etree.Element(tag, _root_attributes(root), nsmap=nsmap)
    element.append(etree.Comment("records"))
    start, end = etree.tostring(element, encoding="unicode").split("<!--records-->")
    return start.encode("utf-8"), end.encode("utf-8")


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
