"""Validate an IATI file in one streaming pass: read, schema, codelists, ruleset."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from iati import artefacts
from iati.errors import IatiInputError
from iati.findings import Finding, Severity, Stage
from iati.reader import Reader, ReadRecord
from iati.source import ACTIVITIES, DEFAULT_MAX_BYTES, Source
from iati.validate.codelists import CodelistRules
from iati.validate.report import RecordReport, ValidationReport
from iati.validate.rules import Ruleset, UniqueIdentifiers
from iati.validate.schema import SchemaStage

Progress = Callable[[int], None]


def validate(
    source: Source,
    *,
    today: date,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
) -> ValidationReport:
    """Every finding of the three stages on `source`, never raising for bad input.

    Input that cannot be read at all (not XML, not IATI, a DTD, too large) gives a report
    with `fatal` set and `readable` false. `progress` is called with the bytes read so far.
    """
    report = ValidationReport(file=name or _name(source))
    reader: Reader[Any] = Reader(
        source, max_bytes=max_bytes, unknown_version="assume-latest", keep_element=True
    )
    try:
        _run(reader, report, today, progress)
    except IatiInputError as error:
        report.fatal = error.as_dict()
    return report


class _Stages:
    """The three stages, set up from the file's root once it has been seen."""

    def __init__(self, reader: Reader[Any], today: date) -> None:
        root = reader.root
        assert root is not None
        version = reader.version if reader.version in artefacts.VERSIONS else artefacts.LATEST
        self.schema = SchemaStage.for_root(root)
        self.codelists = CodelistRules.load(version)
        self.rules = Ruleset.load(version)
        self.unique = UniqueIdentifiers() if root.tag == ACTIVITIES else None
        self.today = today

    def check(self, record: ReadRecord[Any]) -> list[Finding]:
        element, identifier = record.element, record.identifier
        assert element is not None
        found = list(record.findings)
        found += self.schema.check(element, position=record.position, activity=identifier)
        found += self.codelists.check(element, activity=identifier, position=record.position)
        found += self.rules.check(
            element, today=self.today, activity=identifier, position=record.position
        )
        if self.unique is not None and identifier:
            repeated = self.unique.see(identifier, record.line)
            if repeated is not None:
                found.append(repeated)
        return found


def _run(
    reader: Reader[Any], report: ValidationReport, today: date, progress: Progress | None
) -> None:
    stages: _Stages | None = None
    for record in reader:
        if stages is None:
            stages = _start(reader, report, today)
        report.records.append(RecordReport(
            identifier=record.identifier,
            title=_title(record.model),
            position=record.position,
            line=record.line,
            findings=stages.check(record),
        ))
        if progress is not None:
            progress(reader.stream.bytes_read)
    if stages is None:
        stages = _start(reader, report, today)
    report.findings += stages.schema.finish(
        extras=reader.stream.extras, record_count=reader.stream.record_count
    )
    reader.file_model()
    report.findings += reader.file_findings


def _start(reader: Reader[Any], report: ValidationReport, today: date) -> _Stages:
    root = reader.root
    assert root is not None
    if reader.version is None:  # a file without records: the reader never looked
        reader.version = root.version if root.version in artefacts.VERSIONS else None
    report.file_type = root.tag
    report.version = root.version
    report.read_as = reader.version if reader.version in artefacts.VERSIONS else "2.03"
    stages = _Stages(reader, today)
    if reader.stream.root_element is not None:
        report.findings += stages.codelists.check_root(reader.stream.root_element)
    if reader.legacy:
        report.findings.append(_version_1_unsupported(root.version or "1.x"))
    return stages


def _version_1_unsupported(version: str) -> Finding:
    severity, category, message = official_rule("0.6.1")
    return Finding(
        code="0.6.1", severity=severity, stage=Stage.READ, category=category,
        message=message.replace("{me:iati-version(@version)}", version),
        xpath="/iati-activities/@version", actual=version,
    )


@cache
def official_rule(rule_id: str) -> tuple[Severity, str, str]:
    """(severity, category, message) of an official validator rule id."""
    with artefacts.data_quality_rules_path().open(encoding="utf-8") as rules:
        for row in csv.DictReader(rules):
            if row["ID"] == rule_id:
                severity = Severity(row["Severity"].lower() or "error")
                return severity, row["Class"], row["Message"]
    raise KeyError(rule_id)


def _title(model: Any) -> str | None:
    block = getattr(model, "title", None) or getattr(model, "name", None)
    return None if block is None else block.text()


def _name(source: Source) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", "<input>")
