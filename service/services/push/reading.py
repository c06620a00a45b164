"""Read a pushed file activity by activity: the model, its findings, the XML as received.

Each activity comes with its stored form: `document`, the model's JSON that keeps every
value's spelling (so the XML written from it round-trips what was pushed), and
`content_hash`, the SHA-256 of that JSON in canonical form (sorted keys, no spaces).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lxml import etree

from iati.elements.activity import Activity as IatiActivity
from iati.errors import IatiInputError
from iati.findings import Finding
from iati.reader import Reader, ReadRecord
from iati.source import ACTIVITIES
from iati.validate.pipeline import RecordChecker
from iati.values import XsdBoolean


@dataclass(slots=True)
class Incoming:
    """One activity of a pushed file, checked and ready to be compared with the store."""

    position: int
    model: IatiActivity
    findings: list[Finding]
    received_xml: str
    document: dict[str, Any] = field(init=False)
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        self.document = stored_document(self.model)
        self.content_hash = content_hash(self.document)

    @property
    def identifier(self) -> str | None:
        return self.model.identifier

    @property
    def reporting_org_ref(self) -> str | None:
        org = self.model.reporting_org
        return None if org is None or org.ref is None else org.ref.strip()


class _ReceivingReader(Reader[IatiActivity]):
    """A reader that also serialises each record as received, before any 1.x upgrade."""

    received_xml: str = ""

    def _read(self, element: etree._Element, position: int) -> ReadRecord[Any]:
        self.received_xml = etree.tostring(element, encoding="unicode", with_tail=False)
        return super()._read(element, position)


@dataclass
class PushedFile:
    """The activities of a pushed file, each checked by the validator's three stages."""

    path: Path
    today: date
    max_bytes: int
    file_findings: list[Finding] = field(default_factory=list)
    _reader: _ReceivingReader | None = None
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
        """Each activity in file order; raises `IatiInputError` if the file is unreadable."""
        reader = self._reader = _ReceivingReader(
            self.path, max_bytes=self.max_bytes, unknown_version="assume-latest",
            keep_element=True,
        )
        for record in reader:
            if self._checker is None:
                self._start(reader)
            assert self._checker is not None
            found = self._checker.check(record)
            yield Incoming(record.position, record.model, found, reader.received_xml)
        if self._checker is None:  # a file without activities
            self._start(reader)
        assert self._checker is not None
        self.file_findings += self._checker.finish()
        self.file_findings += reader.file_findings

    def _start(self, reader: _ReceivingReader) -> None:
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


def stored_document(model: IatiActivity) -> dict[str, Any]:
    """The model's JSON, with each boolean as spelt in the file (``1`` or ``true``).

    The model's own JSON gives booleans as JSON booleans; the stored document keeps the
    spelling so that the XML written from it is the XML that was pushed.
    """
    spelled = model.model_dump(exclude_defaults=True)
    plain = model.model_dump(mode="json", exclude_defaults=True)
    return _keep_spelling(spelled, plain)  # type: ignore[no-any-return]


def _keep_spelling(python: Any, plain: Any) -> Any:
    if isinstance(python, XsdBoolean):
        return python.to_xml()
    if isinstance(python, dict) and isinstance(plain, dict):
        return {key: _keep_spelling(python.get(key), value) for key, value in plain.items()}
    if isinstance(python, list) and isinstance(plain, list):
        return [_keep_spelling(one, other) for one, other in zip(python, plain, strict=True)]
    return plain


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of `document` as canonical JSON."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_of(document: dict[str, Any]) -> IatiActivity:
    """The model of a stored document."""
    return IatiActivity.model_validate(document)
