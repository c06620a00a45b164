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
from iati.source import ACTIVITIES, DEFAULT_MAX_BYTES, IatiSource, RootExtra, RootInfo, Source
from iati.xml import XML_NS, Extension, IatiElement, Oddity, plan_for, read_element

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

    @property
    def root(self) -> RootInfo | None:
        return None if self._stream is None else self._stream.root

    @property
    def stream(self) -> IatiSource:
        if self._stream is None:
            self._stream = IatiSource(self.source, max_bytes=self.max_bytes)
        return self._stream

    def __iter__(self) -> Iterator[ReadRecord[Any]]:
        stream = self.stream
        for position, element in enumerate(stream.records(), start=1):
            if position == 1:
                self._check_version(stream.root, element)
            yield self._read(element, position)

    def _check_version(self, root: RootInfo | None, first: etree._Element) -> None:
        assert root is not None
        declared = (root.version or "").strip()
        if declared in SUPPORTED:
            self.version = declared
        elif declared in LEGACY or (not declared and _looks_legacy(first)):
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

    def _read(self, element: etree._Element, position: int) -> ReadRecord[Any]:
        found: list[Finding] = []
        if self.legacy:
            found.extend(_upgrade(element, self.version or "1.x", position))
        model_class: type[IatiElement] = (
            Activity if self.stream.root and self.stream.root.tag == ACTIVITIES else Organisation
        )
        model = _build(element, position, model_class, found)
        identifier = model.identifier
        found = [f.for_activity(identifier) if f.activity is None else f for f in found]
        return ReadRecord(
            model, found, position, element.sourceline, element if self.keep_element else None
        )


    def file_model(self) -> ActivityFile | OrganisationFile:
        """The file's root as a model: attributes, namespaces and kept root-level elements.

        Complete once the records have been iterated (trailing elements come last).
        """
        root = self.stream.root
        if root is None:
            raise IatiInputError("input.empty", "the file has not been read yet")
        model_class = ActivityFile if root.tag == ACTIVITIES else OrganisationFile
        nsmap = {prefix or None: uri for prefix, uri in root.namespaces.items()}
        element = etree.Element(root.tag, root.attributes, nsmap=nsmap)
        element.sourceline = root.line  # type: ignore[misc]
        found: list[Finding] = []
        model: Any = _build(element, 0, model_class, found)
        model.extensions = [_kept(extra) for extra in self.stream.extras]
        for extra in self.stream.extras:
            if etree.QName(extra.element).namespace is None:
                found.append(catalogue.make(
                    "read.unexpected-element", actual=str(extra.element.tag),
                    xpath=f"/{root.tag}/{extra.element.tag!s}", line=extra.line,
                ))
        for line, text in self.stream.stray_text:
            found.append(catalogue.make(
                "read.unexpected-text", actual=text[:200], xpath=f"/{root.tag}", line=line,
            ))
        self.file_findings.extend(found)
        return model  # type: ignore[no-any-return]


def _kept(extra: RootExtra) -> Extension:
    xml = etree.tostring(extra.element, with_tail=False, encoding="unicode")
    return Extension(position=extra.position, xml=xml)


def read_activities(source: Source, **options: Any) -> Reader[Activity]:
    """A reader of the activities in `source` (path, bytes or binary stream)."""
    return Reader(source, **options)


def read_organisations(source: Source, **options: Any) -> Reader[Organisation]:
    """A reader of the organisation records in `source`."""
    return Reader(source, **options)


def read_activity(xml: bytes) -> Activity:
    """The single activity of a small document (tests, API bodies of one activity)."""
    records = [record.model for record in read_activities(xml)]
    if len(records) != 1:
        raise IatiInputError("input.not-one", f"expected one activity, found {len(records)}")
    return records[0]  # type: ignore[no-any-return]


def _looks_legacy(record: etree._Element) -> bool:
    try:
        from iati.upgrade import looks_like_1x
    except ImportError:
        return False
    return bool(looks_like_1x(record))


def _upgrade(element: etree._Element, version: str, position: int) -> list[Finding]:
    from iati.upgrade import upgrade_record

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
