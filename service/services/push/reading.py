"""Read a pushed file activity by activity: the model, its findings, the XML as received.

Each activity comes with its stored form: `document`, the model's JSON that keeps every
value's spelling (so the XML written from it round-trips what was pushed), and
`content_hash`, the SHA-256 of that JSON in canonical form (sorted keys, no spaces).
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
from iati.reader import Reader, ReadRecord
from iati.source import ACTIVITIES
from iati.validate.pipeline import RecordChecker
from iati.values import XsdBoolean
from service.services.push.findings import reported


@dataclass
class Incoming:
    """One activity of a pushed file, checked and ready to be compared with the store.

    Its stored form is made when first asked for: a rejected activity never needs it.
    """

    position: int
    model: IatiActivity
    findings: list[Finding]
    received_xml: str

    @cached_property
    def kept(self) -> list[dict[str, Any]]:
        """The findings kept with the activity and its outcome (see `reported`)."""
        return reported(self.findings)

    @cached_property
    def document(self) -> dict[str, Any]:
        return stored_document(self.model)

    @cached_property
    def content_hash(self) -> str:
        return content_hash(self.document)

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
