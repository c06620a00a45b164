"""Hardened, streaming access to the records of an IATI file: one activity at a time.

The parser never loads a DTD, never expands entities, never touches the network and never
recovers from broken XML; libxml2's default limits bound depth and text size, and
`max_bytes` bounds the input. Each record element is yielded while still attached to its
root (so relative XPath such as ``..`` works) and is cleared as soon as the consumer asks
for the next one, so memory stays flat however large the file is.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from lxml import etree

from iati.errors import IatiInputError
from iati.parsing import hardened_parser

ACTIVITIES: Final = "iati-activities"
ORGANISATIONS: Final = "iati-organisations"
RECORD_TAG: Final = {ACTIVITIES: "iati-activity", ORGANISATIONS: "iati-organisation"}
DEFAULT_MAX_BYTES: Final = 2 * 1024**3

Source = str | Path | bytes | IO[bytes]


@dataclass(slots=True)
class RootInfo:
    """What the root element of the file says about it."""

    tag: str
    version: str | None
    attributes: dict[str, str]
    namespaces: dict[str, str]
    line: int | None

    @property
    def record_tag(self) -> str:
        return RECORD_TAG[self.tag]


@dataclass(slots=True)
class RootExtra:
    """A child of the root that is not a record (an extension element, usually)."""

    position: int
    element: etree._Element
    line: int | None = None  # in the file (the copy's own lines count from its start)


class _CountingReader(io.RawIOBase):
    """A byte stream that refuses to read past `limit` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._stream.read(len(buffer))
        self.consumed += len(chunk)
        if self.consumed > self._limit:
            raise IatiInputError(
                "input.too-large",
                f"The input is larger than the limit of {self._limit:,} bytes; "
                "split it into smaller files or raise the limit.",
            )
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        buffer = bytearray(size)
        count = self.readinto(memoryview(buffer))
        return bytes(buffer[:count])


def _open(source: Source) -> tuple[IO[bytes], bool]:
    if isinstance(source, bytes):
        return io.BytesIO(source), True
    if isinstance(source, (str, Path)):
        return open(source, "rb"), True
    return source, False


@dataclass
class IatiSource:
    """Streams the records (`iati-activity` or `iati-organisation`) of one IATI XML file."""

    source: Source
    max_bytes: int = DEFAULT_MAX_BYTES
    root: RootInfo | None = None
    extras: list[RootExtra] = field(default_factory=list)
    record_count: int = 0
    root_element: etree._Element | None = None
    # (line, text) of non-white-space text directly inside the root: not IATI, not kept.
    stray_text: list[tuple[int | None, str]] = field(default_factory=list)
    # With `hold`, yielded records stay whole until `release_held` (for windows of records).
    hold: bool = False
    _held: list[etree._Element] = field(default_factory=list)
    _reader: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        """How many bytes of the input have been consumed so far (for progress bars)."""
        return 0 if self._reader is None else self._reader.consumed

    def records(self) -> Iterator[etree._Element]:
        """Yield each record element; raises `IatiInputError` if the input is not IATI XML."""
        stream, owned = _open(self.source)
        reader = self._reader = _CountingReader(stream, self.max_bytes)
        try:
            yield from self._iterate(reader)
        finally:
            if owned:
                stream.close()

    def _iterate(self, reader: _CountingReader) -> Iterator[etree._Element]:
        events = etree.iterparse(
            reader,
            events=("start", "end"),
            tag=(ACTIVITIES, ORGANISATIONS, "iati-activity", "iati-organisation"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_blank_text=False,
        )
        record_tag: str | None = None
        try:
            for event, element in events:
                if self.root is None:
                    record_tag = self._start_root(element)
                    continue
                if event != "end" or element.tag != record_tag:
                    continue
                if element.getparent() is not self.root_element:
                    continue  # a record inside a record or an extension stays where it is
                self._collect_extras_before(element)
                self.record_count += 1
                yield element
                self._note_stray_text(element)
                if self.hold:
                    self._held.append(element)
                else:
                    _release(element)
        except etree.XMLSyntaxError as error:
            if reader.consumed == 0:
                raise _empty() from None
            raise _syntax_error(error) from None
        if self.root is None or events.root is None:
            raise _not_iati(getattr(events, "root", None))
        self._collect_trailing_extras(events.root)

    def release_held(self) -> None:
        """Free the records held since the last call (see `hold`): all but the record
        just yielded, if the stream stands at it (its tail is not read yet); that one
        goes with the next release."""
        for element in self._held:
            element.clear(keep_tail=False)
        if self._held:
            _release(self._held[-1])
        self._held.clear()

    def _start_root(self, element: etree._Element) -> str:
        if element.getparent() is not None or element.tag not in RECORD_TAG:
            raise _not_iati(element.getroottree().getroot())
        doctype = element.getroottree().docinfo.doctype
        if doctype:
            raise IatiInputError(
                "input.dtd-forbidden",
                "The file declares a DTD (<!DOCTYPE …>); IATI files never need one and iati-ec "
                "refuses them for safety. Remove the DOCTYPE declaration and send it again.",
                line=element.sourceline,
            )
        self.root_element = element
        self.root = RootInfo(
            tag=str(element.tag),
            version=element.get("version"),
            attributes=dict(element.attrib),
            namespaces={k or "": v for k, v in element.nsmap.items()},
            line=element.sourceline,
        )
        return self.root.record_tag

    def _note_stray_text(self, record: etree._Element) -> None:
        parent = record.getparent()
        if self.record_count == 1 and parent is not None and _is_text(parent.text):
            self.stray_text.append((parent.sourceline, str(parent.text).strip()))
        if _is_text(record.tail):
            self.stray_text.append((record.sourceline, str(record.tail).strip()))

    def _collect_extras_before(self, record: etree._Element) -> None:
        sibling = record.getprevious()
        pending: list[etree._Element] = []
        while sibling is not None and sibling.tag != record.tag:  # back to a held record
            if isinstance(sibling.tag, str):
                pending.append(sibling)
            sibling = sibling.getprevious()
        for extra in reversed(pending):
            self.extras.append(
                RootExtra(self.record_count, _detach_copy(extra), extra.sourceline)
            )

    def _collect_trailing_extras(self, root: etree._Element) -> None:
        assert self.root is not None
        for child in root:
            if isinstance(child.tag, str) and child.tag != self.root.record_tag:
                self.extras.append(
                    RootExtra(self.record_count, _detach_copy(child), child.sourceline)
                )


def _is_text(text: str | None) -> bool:
    return text is not None and not text.isspace()


def _detach_copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element, with_tail=False), hardened_parser())


def _release(element: etree._Element) -> None:
    """Free a processed record and every earlier sibling, keeping the root small."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is None:
        return
    while element.getprevious() is not None:
        del parent[0]


def _not_iati(root: etree._Element | None) -> IatiInputError:
    tag = "nothing" if root is None else f"<{root.tag!s}>"
    return IatiInputError(
        "input.not-iati",
        f"The root element is {tag}, not <iati-activities> or <iati-organisations>; "
        "this is XML but not an IATI file.",
        line=None if root is None else root.sourceline,
    )


def _empty() -> IatiInputError:
    return IatiInputError("input.empty", "The input is empty. Send an IATI XML file (UTF-8).")


def _syntax_error(error: etree.XMLSyntaxError) -> IatiInputError:
    line = error.position[0] if error.position else None
    text = str(error.msg or error)
    if "Excessive depth" in text or "XML_PARSE_HUGE" in text or "huge" in text.lower():
        return IatiInputError(
            "input.too-large",
            f"The XML goes beyond iati-ec's safety limits (nesting deeper than 256 levels or "
            f"a single text or attribute over 10 MB) at line {line}. IATI files never need "
            "that; check how the file was produced.",
            line=line,
        )
    if "Document is empty" in text or ("Start tag expected" in text and line == 1):
        return IatiInputError(
            "input.not-xml",
            f"The input is not XML ({text}). Send an IATI XML file (UTF-8).",
            line=line,
        )
    return IatiInputError(
        "input.not-xml",
        f"The input is not well-formed XML: {text}. Fix the XML at line {line} and send it again.",
        line=line,
    )
