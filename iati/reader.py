"""Read IATI files (2.01–2.03, 1.x upgraded) one record at a time into the 2.03 model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from lxml import etree

from iati import findings as catalogue
from iati.elements.activity import Activity, ActivityFile
from iati.elements.organisation import Organisation, OrganisationFile
from iati.errors import IatiInputError
from iati.findings import Finding
from iati.paths import attribute_name, element_path
from iati.source import DEFAULT_MAX_BYTES, ORGANISATIONS, IatiSource, RootExtra, RootInfo, Source
from iati.upgrade import looks_like_1x, upgrade_record
from iati.xml import XML_NS, Extension, IatiElement, plan_for
from iati.xml_read import Oddity, read_element

Record = TypeVar("Record", Activity, Organisation)
UnknownVersion = Literal["error", "assume-latest"]

SUPPORTED = ("2.01", "2.02", "2.03")
LEGACY = ("1.0", "1.00", "1.01", "1.02", "1.03", "1.04", "1.05")
_ODDITY_CODES = {
    "element": "read.unexpected-element",
    "attribute": "read.unexpected-attribute",
    "repeated": "read.repeated-element",
    "text": "read.unexpected-text",
    "invalid": "read.invalid-value",
}


@dataclass(slots=True)
class ReadRecord(Generic[Record]):
    """One record read from a file: the model, what was noticed, and where it was."""

    model: Record
    findings: list[Finding]
    position: int
    line: int | None
    element: etree._Element | None = None

    @property
    def identifier(self) -> str | None:
        return self.model.identifier


@dataclass
class Reader(Generic[Record]):
    """Streams the records of one IATI file as models, with the findings of reading them.

    `version` is the version the records are read as (after the root is seen);
    `file_findings` holds findings about the file itself (version, …). When `keep_element`
    is true each `ReadRecord` also carries the (upgraded) lxml element, valid until the
    next record is requested — the validator uses it.
    """

    source: Source
    max_bytes: int = DEFAULT_MAX_BYTES
    unknown_version: UnknownVersion = "error"
    keep_element: bool = False
    file_findings: list[Finding] = field(default_factory=list)
    version: str | None = None
    legacy: bool = False
    _stream: IatiSource | None = None
    _root_model: Any = None
    _kept: list[Extension] = field(default_factory=list)

    @property
    def root(self) -> RootInfo | None:
        return None if self._stream is None else self._stream.root

    @property
    def stream(self) -> IatiSource:
        if self._stream is None:
            self._stream = IatiSource(self.source, max_bytes=self.max_bytes)
        return self._stream

    def __iter__(self) -> Iterator[ReadRecord[Any]]:
        for position, element in self.elements():
            yield self.read(element, position)

    def elements(self) -> Iterator[tuple[int, etree._Element]]:
        """Each record's position and element, not yet read: `read` it while it is valid
        (until the next one is requested, or with the stream's `hold`, until released)."""
        stream = self.stream
        for position, element in enumerate(stream.records(), start=1):
            if position == 1:
                self._check_version(element)
            yield position, element
        if stream.record_count == 0:
            self._check_version(None)
        self._finish()

    def _check_version(self, first: etree._Element | None) -> None:
        root = self.stream.root
        assert root is not None
        declared = (root.version or "").strip()
        if declared in SUPPORTED:
            self.version = declared
        elif declared in LEGACY or (not declared and first is not None and looks_like_1x(first)):
            self.version, self.legacy = declared or "1.x", True
            self.file_findings.append(catalogue.make("upgrade.version", actual=self.version))
        elif self.unknown_version == "error":
            raise IatiInputError(
                "input.unsupported-version",
                f"@version is {root.version!r}; iati-ec reads IATI 2.01, 2.02, 2.03 and 1.0x. "
                "Set @version on the root element to the version the file follows.",
                line=root.line,
            )
        else:
            code = "read.missing-version" if not declared else "read.unsupported-version"
            self.version = "2.03"
            self.file_findings.append(catalogue.make(code, actual=root.version, line=root.line))

    def read(self, element: etree._Element, position: int) -> ReadRecord[Any]:
        """The record `element` (at `position`) as a model, upgraded first if it is 1.x."""
        found: list[Finding] = []
        if self.legacy:
            found.extend(_upgrade(element, self.version or "1.x"))
        model = _build(element, position, self._record_class(), found)
        identifier = model.identifier
        found = [f.for_activity(identifier) if f.activity is None else f for f in found]
        return ReadRecord(
            model, found, position, element.sourceline, element if self.keep_element else None
        )

    def _record_class(self) -> type[IatiElement]:
        root = self.stream.root
        return Organisation if root is not None and root.tag == ORGANISATIONS else Activity

    def root_model(self) -> ActivityFile | OrganisationFile:
        """The root's attributes and namespaces as a model (known once the root is read)."""
        if self._root_model is None:
            root = self.stream.root
            if root is None:
                raise IatiInputError("input.empty", "the file has not been read yet")
            model_class = OrganisationFile if root.tag == ORGANISATIONS else ActivityFile
            nsmap = {prefix or None: uri for prefix, uri in root.namespaces.items()}
            element = etree.Element(root.tag, root.attributes, nsmap=nsmap)
            if root.line is not None and root.line < 65536:  # libxml2 keeps 16-bit lines
                element.sourceline = root.line  # type: ignore[misc]
            self._root_model = _build(element, 0, model_class, self.file_findings)
        model: ActivityFile | OrganisationFile = self._root_model
        return model

    def root_extensions(self) -> list[Extension]:
        """The root's children that are not records, kept so far (all, once read through)."""
        extras = self.stream.extras
        while len(self._kept) < len(extras):
            self._kept.append(_kept(extras[len(self._kept)]))
        return self._kept

    def file_model(self) -> ActivityFile | OrganisationFile:
        """The file's root as a model: attributes, namespaces and kept root-level elements.

        Complete once the records have been iterated (trailing elements come last).
        """
        return self.root_model().model_copy(update={"extensions": list(self.root_extensions())})

    def _finish(self) -> None:
        """File-level findings known only at the end: stray content directly in the root."""
        root = self.stream.root
        assert root is not None
        self.root_model()
        for extra in self.stream.extras:
            if etree.QName(extra.element).namespace is None:
                self.file_findings.append(catalogue.make(
                    "read.unexpected-element", actual=str(extra.element.tag),
                    xpath=f"/{root.tag}/{extra.element.tag!s}", line=extra.line,
                ))
        for line, text in self.stream.stray_text:
            self.file_findings.append(catalogue.make(
                "read.unexpected-text", actual=text[:200], xpath=f"/{root.tag}", line=line,
            ))


def _kept(extra: RootExtra) -> Extension:
    xml = etree.tostring(extra.element, with_tail=False, encoding="unicode")
    return Extension(position=extra.position, xml=xml)


def read_activities(source: Source, **options: Any) -> Reader[Activity]:
    """A reader of the activities in `source` (path, bytes or binary stream)."""
    return Reader(source, **options)


def read_activity(xml: bytes) -> Activity:
    """The single activity of a small document (tests, API bodies of one activity)."""
    records = [record.model for record in read_activities(xml)]
    if len(records) != 1:
        raise IatiInputError("input.not-one", f"expected one activity, found {len(records)}")
    return records[0]  # type: ignore[no-any-return]


def _upgrade(element: etree._Element, version: str) -> list[Finding]:
    identifier = (element.findtext("iati-identifier") or "").strip() or None
    return list(upgrade_record(element, from_version=version, activity=identifier))


def _build(
    element: etree._Element, position: int, model_class: type[IatiElement], found: list[Finding]
) -> Any:
    """The record's model; whatever does not fit the model becomes a finding."""

    def note(oddity: Oddity) -> None:
        found.append(_oddity_finding(oddity, element, position))

    model = read_element(element, plan_for(model_class), note)
    namespaces = {prefix or "": uri for prefix, uri in element.nsmap.items() if uri != XML_NS}
    if namespaces:
        model.namespaces = namespaces  # type: ignore[attr-defined]
    return model


def _oddity_finding(oddity: Oddity, record: etree._Element, position: int) -> Finding:
    xpath = element_path(oddity.element, record, position)
    if oddity.kind == "attribute" or (oddity.kind == "invalid" and oddity.name != "text()"):
        xpath += f"/@{attribute_name(oddity.name)}"
    if oddity.kind in ("text", "invalid"):
        actual = (oddity.value or "").strip()[:200]
    else:
        actual = attribute_name(oddity.name)
    return catalogue.make(
        _ODDITY_CODES[oddity.kind],
        actual=actual,
        expected=oddity.expected,
        xpath=xpath,
        line=oddity.element.sourceline,
    )
