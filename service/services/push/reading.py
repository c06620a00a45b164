"""Read a pushed file activity by activity: the model, its findings, the XML as received.

Each activity arrives with its XML as received and `received_hash`, that XML's SHA-256.
An activity whose received hash is its stored version's is known unchanged without being
read into a model or validated (`Incoming.assume_unchanged`): that is what makes a
re-push of the same file cheap.

Once read, its stored form is `document`, the model's JSON keeping every value's
spelling (so the XML written from it round-trips what was pushed), and `content_hash`,
the SHA-256 of that JSON in canonical form (sorted keys, no spaces): the same content
laid out differently is still unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import BaseModel

from iati.elements.activity import Activity as IatiActivity
from iati.errors import IatiInputError
from iati.findings import Finding
from iati.reader import Reader
from iati.source import ACTIVITIES
from iati.validate.pipeline import RecordChecker
from iati.values import XsdBoolean
from service.services.push.findings import reported

# Activities read ahead together (see `PushedFile.windows`): at most this many, and about
# this many characters of XML as received (a larger activity makes a window of its own).
WINDOW_COUNT = 32
WINDOW_BYTES = 4 << 20


@dataclass(eq=False)
class Incoming:
    """One activity of a pushed file, to be compared with the store.

    It arrives unread: its identifier, reporting-org/@ref, the refs of its ``B1``
    other-identifiers (previous reporting organisations) and received hash come straight
    from the XML. `check` reads it into a model and validates it; until its window is
    released it may instead be `assume_unchanged`, which reads nothing.
    """

    position: int
    received_xml: str
    received_hash: str
    raw_identifier: str | None
    raw_reporting_org_ref: str | None
    previous_reporting_orgs: tuple[str, ...]
    _element: etree._Element | None
    _pushed: PushedFile | None
    _model: IatiActivity | None = None
    _findings: list[Finding] | None = None
    _kept: list[dict[str, Any]] | None = None
    _assumed_hash: str | None = None
    _counted: bool = False

    @property
    def checked(self) -> bool:
        return self._model is not None

    def check(self) -> None:
        """Read the activity into its model and validate it (once), while it is held."""
        if self._model is not None:
            return
        assert self._element is not None, "released unread"
        assert self._pushed is not None
        self._model, self._findings = self._pushed.check(
            self._element, self.position, counted=self._counted
        )
        self._kept = None

    def assume_unchanged(self, content_hash: str, stored_findings: list[dict[str, Any]]) -> None:
        """Take the stored version's content hash and findings, the activity being that
        version, unread; unless the file has already had its identifier (a second copy):
        that one is checked, with the finding that says so."""
        assert self._pushed is not None
        assert not self._counted
        repeated = self._pushed.note_identifier(self.raw_identifier, self._element)
        self._counted = True
        if repeated:
            self.check()
            self.findings.extend(repeated)
            return
        self._findings = []
        self._kept = stored_findings
        self._assumed_hash = content_hash

    def release(self) -> None:
        """Forget the element: its window is being freed."""
        self._element = None
        self._pushed = None

    @property
    def model(self) -> IatiActivity:
        assert self._model is not None, "the activity has not been checked"
        return self._model

    @property
    def findings(self) -> list[Finding]:
        assert self._findings is not None, "the activity has not been checked"
        return self._findings

    @property
    def kept(self) -> list[dict[str, Any]]:
        """The findings kept with the activity and its outcome (see `reported`)."""
        if self._kept is None:
            self._kept = reported(self.findings)
        return self._kept

    @cached_property
    def document(self) -> dict[str, Any]:
        return stored_document(self.model)

    @property
    def content_hash(self) -> str:
        """The stored form's hash (the stored version's, if assumed unchanged)."""
        if self._model is None and self._assumed_hash is not None:
            return self._assumed_hash
        return self._content_hash

    @cached_property
    def _content_hash(self) -> str:
        return content_hash(self.document)

    @property
    def identifier(self) -> str | None:
        return self._model.identifier if self._model is not None else self.raw_identifier

    @property
    def reporting_org_ref(self) -> str | None:
        if self._model is None:
            return self.raw_reporting_org_ref
        org = self._model.reporting_org
        return None if org is None or org.ref is None else org.ref.strip()


@dataclass
class PushedFile:
    """The activities of a pushed file, each checked by the validator's three stages."""

    path: Path
    today: date
    max_bytes: int
    file_findings: list[Finding] = field(default_factory=list)
    _reader: Reader[IatiActivity] | None = None
    _checker: RecordChecker | None = None

    @property
    def bytes_read(self) -> int:
        return 0 if self._reader is None else self._reader.stream.bytes_read

    @property
    def count(self) -> int:
        """How many activities have been read so far."""
        return 0 if self._reader is None else self._reader.stream.record_count

    @property
    def version(self) -> str | None:
        """The IATI version the file declares (known after its first activity)."""
        root = None if self._reader is None else self._reader.root
        declared = "" if root is None else (root.version or "").strip()
        return declared[:16] or None  # the column's width; any longer is not a version

    def activities(self) -> Iterator[Incoming]:
        """Each activity in file order, checked; raises `IatiInputError` if the file is
        unreadable."""
        for window in self.windows(count=1):
            window[0].check()
            yield window[0]

    def windows(
        self, *, count: int = WINDOW_COUNT, size: int = WINDOW_BYTES
    ) -> Iterator[list[Incoming]]:
        """The activities in consecutive lists, each held until the next is asked for:
        until then each activity must be checked or assumed unchanged."""
        reader = self._reader = Reader(
            self.path, max_bytes=self.max_bytes, keep_element=True,
        )
        reader.stream.hold = True
        window: list[Incoming] = []
        held = 0
        for position, element in reader.elements():
            if self._checker is None:
                self._start(reader)
            window.append(_arrived(element, position, self))
            held += len(window[-1].received_xml)
            if len(window) >= count or held >= size:
                yield from self._release(window, reader)
                window, held = [], 0
        if window:
            yield from self._release(window, reader)
        if self._checker is None:  # a file without activities
            self._start(reader)
        assert self._checker is not None
        self.file_findings += self._checker.finish()
        self.file_findings += reader.file_findings

    def _release(self, window: list[Incoming], reader: Reader[Any]) -> Iterator[list[Incoming]]:
        try:
            yield window
        finally:
            for incoming in window:
                incoming.release()
            reader.stream.release_held()

    def check(
        self, element: etree._Element, position: int, *, counted: bool
    ) -> tuple[IatiActivity, list[Finding]]:
        assert self._reader is not None
        assert self._checker is not None
        record = self._reader.read(element, position)
        return record.model, self._checker.check(record, counted=counted)

    def note_identifier(
        self, identifier: str | None, element: etree._Element | None
    ) -> list[Finding]:
        """Note an unread activity's identifier: the finding if the file has had it."""
        assert self._checker is not None
        line = None if element is None else element.sourceline
        return self._checker.count(identifier, line)

    def _start(self, reader: Reader[Any]) -> None:
        if reader.root is not None and reader.root.tag != ACTIVITIES:
            raise IatiInputError(
                "input.not-activities",
                f"The root element is <{reader.root.tag}>; push IATI activity files "
                "(<iati-activities>).",
                line=reader.root.line,
            )
        self._checker = RecordChecker(reader, self.today)
        if reader.stream.root_element is not None:
            self.file_findings += self._checker.codelists.check_root(reader.stream.root_element)


def _arrived(element: etree._Element, position: int, pushed: PushedFile) -> Incoming:
    xml = received_xml(element)  # before any 1.x upgrade
    ref = element.find("reporting-org")
    return Incoming(
        position=position,
        received_xml=xml,
        received_hash=hashlib.sha256(xml.encode("utf-8")).hexdigest(),
        raw_identifier=_stripped(element.findtext("iati-identifier")),
        raw_reporting_org_ref=None if ref is None else _stripped(ref.get("ref")),
        previous_reporting_orgs=tuple(
            named for other in element.iterfind("other-identifier[@type='B1']")
            if (named := (other.get("ref") or "").strip())
        ),
        _element=element,
        _pushed=pushed,
    )


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()


def received_xml(element: etree._Element) -> str:
    """The activity's XML as received (its in-scope namespaces declared on it)."""
    return etree.tostring(element, encoding="unicode", with_tail=False)


def stored_document(model: IatiActivity) -> dict[str, Any]:
    """The model's JSON, with each boolean as spelt in the file (``1`` or ``true``).

    The model's own JSON gives booleans as JSON booleans; the stored document keeps the
    spelling so that the XML written from it is the XML that was pushed.
    """
    document = model.model_dump(mode="json", exclude_defaults=True)
    _keep_spelling(model, document)
    return document


def _keep_spelling(source: Any, plain: dict[str, Any] | list[Any]) -> None:
    """Replace each boolean of `plain`, the JSON of `source`, by its spelling in the file.

    Only booleans and containers are followed into `source` (a model, list or dict), so
    the walk touches little besides the JSON it already has.
    """
    items: Iterable[tuple[Any, Any]] = (
        plain.items() if isinstance(plain, dict) else enumerate(plain)
    )
    for key, value in items:
        if isinstance(value, bool | dict | list):
            inner = getattr(source, key) if isinstance(source, BaseModel) else source[key]
            if isinstance(inner, XsdBoolean):
                plain[key] = inner.to_xml()
            elif not isinstance(value, bool):
                _keep_spelling(inner, value)


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of `document` as canonical JSON."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_of(document: dict[str, Any]) -> IatiActivity:
    """The model of a stored document."""
    return IatiActivity.model_validate(document)
