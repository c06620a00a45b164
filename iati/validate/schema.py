"""Validation stage (a): a streamed IATI file's records against the official XSD of its version.

Only one record is held at a time, so a 1 GB file validates in flat memory; the findings are
those lxml gives when it validates the whole file at once (same messages, same lines). A
file whose @version is missing or not 2.01, 2.02 or 2.03 is validated against 2.03, the
latest; the reading stage reports the version problem itself.
"""

from __future__ import annotations

import copy
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from iati import artefacts
from iati.findings import SCHEMA_INVALID, Finding, make
from iati.parsing import hardened_parser
from iati.paths import record_path
from iati.source import ACTIVITIES, RootExtra, RootInfo

__all__ = ["SchemaStage", "load_schema"]

_CODE: Final = SCHEMA_INVALID
_STEP_INDEX: Final = re.compile(r"\[\d+\]$")
_LINE_LIMIT: Final = 65535
_PER_THREAD = threading.local()
_BUILDING = threading.Lock()


def load_schema(version: str, kind: artefacts.SchemaKind) -> etree.XMLSchema:
    """The vendored official XSD, parsed once per thread by a parser that never goes online.

    Once per thread, not once per process: a validator keeps the errors of its last run on
    itself, so two threads sharing one would read each other's errors. A load takes ~5 ms.
    """
    cache: dict[tuple[str, str], etree.XMLSchema] = _PER_THREAD.__dict__.setdefault("xsd", {})
    key = (version, kind)
    if key not in cache:
        path = str(artefacts.schema_path(version, kind))
        with _BUILDING:  # libxml2 cannot build two schemas at once in one process
            cache[key] = etree.XMLSchema(etree.parse(path, hardened_parser()))
    return cache[key]


@dataclass
class _RootShape:
    """The root's children so far, each run of records collapsed into one.

    The root's content model (records, then elements of other namespaces) depends on the
    order of those kinds, never on how many records a run holds, so one stands for many.
    """

    record_tag: str
    tags: list[str] = field(default_factory=list)
    records: int = 0
    extras: Counter[str] = field(default_factory=Counter)

    def add_records(self, count: int) -> None:
        if count > 0 and (not self.tags or self.tags[-1] != self.record_tag):
            self.tags.append(self.record_tag)
        self.records += count

    def add_extra(self, tag: str) -> tuple[int, int]:
        """Count a non-record child; its 1-based index among its namesakes and among all."""
        self.extras[tag] += 1
        self.tags.append(tag)
        return self.extras[tag], self.records + self.extras.total()


@dataclass(slots=True)
class _Region:
    """A subtree of the validated document and where it sits in the original file."""

    validated_path: str
    file_path: str
    activity: str | None
    original: etree._Element | None = None
    copied: etree._Element | None = None
    relative_lines: bool = False
    extra_indexes: tuple[int, int] | None = None
    top_line: int | None = None
    _lines: dict[str, int] | None = None

    def place(self, tree: etree._ElementTree, root_tag: str) -> None:
        """Learn where the copy sits; a root extra's file path takes libxml2's spelling."""
        assert self.copied is not None
        self.validated_path = tree.getpath(self.copied)
        if self.extra_indexes is not None:
            # libxml2 names a prefixed child `p:name` and counts namesakes, but a child in a
            # default namespace `*`, counted among all children.
            name = _STEP_INDEX.sub("", self.validated_path.rsplit("/", 1)[-1])
            namesake, child = self.extra_indexes
            self.file_path = f"/{root_tag}/{name}[{child if name == '*' else namesake}]"

    def owns(self, path: str) -> bool:
        return path == self.validated_path or path.startswith(self.validated_path + "/")

    def finding(self, error: etree._LogEntry) -> Finding:
        path = error.path or self.validated_path
        return make(
            _CODE, actual=error.message, xpath=self.file_path + path[len(self.validated_path) :],
            line=self.line(error), activity=self.activity,
        )

    def line(self, error: etree._LogEntry) -> int | None:
        """The error's line in the original file.

        A copy keeps its original's line only below 65535 (libxml2 keeps lines in 16 bits
        and recovers larger ones from the original text nodes), so copies are mapped back
        to their originals by path.
        """
        if self.copied is None:
            own_node = error.path == self.validated_path
            if error.line == _LINE_LIMIT and own_node and self.original is not None:
                # Validated in place, a record's own node is a childless stand-in that
                # cannot look past the limit; its original can.
                return self.original.sourceline
            return error.line or None
        assert self.original is not None
        if self._lines is None:
            self._lines = self._original_lines(self.original, self.copied)
        return self._lines.get(error.path or "", error.line or None)

    def _original_lines(self, original: etree._Element, copied: etree._Element) -> dict[str, int]:
        tree = copied.getroottree()
        top = self.top_line or original.sourceline or 0
        lines: dict[str, int] = {}
        for source, twin in zip(original.iter(), copied.iter(), strict=True):
            line = source.sourceline
            if not isinstance(twin.tag, str) or line is None:
                continue
            if self.relative_lines:
                # An `IatiSource` extra is re-parsed on its own: its lines count from 1.
                line = top + line - 1
            lines[tree.getpath(twin)] = line
        return lines


@dataclass
class SchemaStage:
    """Checks one file's records as they stream past, then the file's root once at the end.

    ``stage = SchemaStage.for_root(source.root)``, then ``stage.check(record, position=i,
    activity=identifier)`` for each record of ``source.records()``, then
    ``stage.finish(extras=source.extras, record_count=source.record_count)``.
    """

    root: RootInfo
    version: str
    kind: artefacts.SchemaKind
    _shape: _RootShape = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._shape = _RootShape(self.root.record_tag)

    @classmethod
    def for_root(cls, root: RootInfo) -> SchemaStage:
        """The stage for a file with this root: its own version's XSD, or 2.03 if unknown."""
        known = root.version in artefacts.VERSIONS
        version = root.version if root.version is not None and known else artefacts.LATEST
        kind: artefacts.SchemaKind = "activities" if root.tag == ACTIVITIES else "organisations"
        return cls(root, version, kind)

    def check(
        self, record: etree._Element, *, position: int, activity: str | None = None
    ) -> list[Finding]:
        """Schema findings for `record`, the `position`-th record (from 1) of the file.

        `record` should still sit in the streamed tree, as `IatiSource.records()` yields it,
        so that any non-record children of the root just before it are seen: libxml2 stops
        checking a root's children after the first one out of place, and so does this stage.
        """
        before = _extras_before(record)
        if not before and not self._shape.extras:
            found = self._check_in_place(record, position, activity)
        else:
            found = self._check_in_context(record, before, position, activity)
        self._shape.add_records(1)
        return found

    def finish(
        self,
        *,
        extras: Sequence[RootExtra],
        record_count: int,
        stray_text: Sequence[tuple[int | None, str]] = (),
    ) -> list[Finding]:
        """Findings about the root itself (attributes, children, text), once per file.

        `stray_text` is the non-white-space text found directly in the root (the source
        notes it as records are released); libxml2 reports each such text node once.
        """
        found = [self._stray_text_finding() for _ in stray_text]
        return found + self._root_structure(extras, record_count)

    def _stray_text_finding(self) -> Finding:
        message = (
            f"Element '{self.root.tag}': Character content other than whitespace is not "
            "allowed because the content type is 'element-only'."
        )
        return make(_CODE, actual=message, xpath=f"/{self.root.tag}", line=self.root.line)

    def _root_structure(self, extras: Sequence[RootExtra], record_count: int) -> list[Finding]:
        shape = _RootShape(self.root.record_tag)
        wrapper = self._wrapper([])
        regions: list[_Region] = []
        for extra in extras:
            if extra.position > shape.records:
                etree.SubElement(wrapper, shape.record_tag)
                shape.add_records(extra.position - shape.records)
            tag = _clark(extra.element)
            indexes = shape.add_extra(tag)
            if extra.position < record_count:
                # Checked with the record after it; here it only holds its place in the order.
                etree.SubElement(wrapper, tag)
                continue
            twin = _append_copy(wrapper, extra.element)
            region = _Region("", "", None, extra.element, twin, extra_indexes=indexes)
            region.relative_lines = True  # `IatiSource` re-parsed it on its own
            region.top_line = extra.line
            regions.append(region)
        if record_count > shape.records:
            etree.SubElement(wrapper, shape.record_tag)
        return self._validate(wrapper, regions, keep_root=True)

    def _check_in_place(
        self, record: etree._Element, position: int, activity: str | None
    ) -> list[Finding]:
        # A record is a global element of the XSD, so it can be validated on its own, in
        # place: no copy, and libxml2 reads the original lines. Paths then start at it.
        schema = load_schema(self.version, self.kind)
        if schema.validate(record):
            return []
        region = _Region(
            f"/{self._shape.record_tag}", self._record_path(position), activity, original=record
        )
        return [region.finding(error) for error in schema.error_log]

    def _check_in_context(
        self,
        record: etree._Element,
        before: list[etree._Element],
        position: int,
        activity: str | None,
    ) -> list[Finding]:
        # Once the root has had non-record children, libxml2's verdict on this record depends
        # on the order of all children so far: validate a copy after stand-ins for them.
        wrapper = self._wrapper(self._shape.tags)
        regions: list[_Region] = []
        for extra in before:
            indexes = self._shape.add_extra(_clark(extra))
            twin = _append_copy(wrapper, extra)
            regions.append(_Region("", "", None, extra, twin, extra_indexes=indexes))
        twin = _append_copy(wrapper, record)
        regions.append(_Region("", self._record_path(position), activity, record, twin))
        return self._validate(wrapper, regions, keep_root=False)

    def _validate(
        self, wrapper: etree._Element, regions: list[_Region], *, keep_root: bool
    ) -> list[Finding]:
        tree = wrapper.getroottree()
        for region in regions:
            region.place(tree, self.root.tag)
        schema = load_schema(self.version, self.kind)
        if schema.validate(wrapper):
            return []
        found = (self._place(error, regions, keep_root) for error in schema.error_log)
        return [finding for finding in found if finding is not None]

    def _place(
        self, error: etree._LogEntry, regions: list[_Region], keep_root: bool
    ) -> Finding | None:
        """The finding for `error` where it belongs in the file, if not reported elsewhere."""
        root_path = f"/{self.root.tag}"
        if not error.path:
            return make(_CODE, actual=error.message, line=error.line or None)
        if error.path == root_path:
            # Every wrapper carries the root's attributes; report their errors only once.
            if not keep_root:
                return None
            return make(_CODE, actual=error.message, xpath=root_path, line=self.root.line)
        owner = next((region for region in regions if region.owns(error.path)), None)
        # Errors elsewhere belong to stand-ins, whose originals are checked on their own.
        return None if owner is None else owner.finding(error)

    def _wrapper(self, stand_ins: Iterable[str]) -> etree._Element:
        """A fresh root like the file's (tag, attributes, namespaces) with empty stand-ins."""
        namespaces = {prefix or None: uri for prefix, uri in self.root.namespaces.items()}
        wrapper = etree.Element(self.root.tag, self.root.attributes, nsmap=namespaces)
        for tag in stand_ins:
            etree.SubElement(wrapper, tag)
        return wrapper

    def _record_path(self, position: int) -> str:
        return record_path(self.root.tag, self._shape.record_tag, position)


def _extras_before(record: etree._Element) -> list[etree._Element]:
    """The root's non-record children between the previous record and this one, in order."""
    found: list[etree._Element] = []
    sibling = record.getprevious()
    while sibling is not None and sibling.tag != record.tag:
        if isinstance(sibling.tag, str):
            found.append(sibling)
        sibling = sibling.getprevious()
    return found[::-1]


def _append_copy(wrapper: etree._Element, element: etree._Element) -> etree._Element:
    twin = copy.deepcopy(element)
    twin.tail = None
    wrapper.append(twin)
    return twin


def _clark(element: etree._Element) -> str:
    """The element's name as ``{namespace}local``, the spelling lxml builds elements from."""
    return etree.QName(element).text
