"""Validate an IATI file in one streaming pass: read, schema, codelists, ruleset."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from iati import artefacts
from iati import findings as catalogue
from iati.errors import IatiInputError
from iati.findings import NOT_IATI, NOT_XML, UNSUPPORTED_VERSION, Finding, Severity, Stage
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
    on_record: Callable[[RecordReport], None] | None = None,
) -> ValidationReport:
    """Every finding of the three stages on `source`, never raising for bad input.

    Input that cannot be read at all (not XML, not IATI, a DTD, too large, no such file)
    gives a report with `fatal` set and `readable` false. A version other than 2.01, 2.02,
    2.03 or 1.0x gives the one critical finding 0.6.1 and nothing else, as in the official
    validator: rules are chosen by version. `progress` is called with the bytes read so
    far. With `on_record`, each record's findings go to it as they are found instead of
    being kept in the report: memory then stays flat whatever the file's size.
    """
    report = ValidationReport(file=name or _name(source), sink=on_record)
    reader: Reader[Any] = Reader(source, max_bytes=max_bytes, keep_element=True)
    try:
        _run(reader, report, today, progress)
    except IatiInputError as error:
        if error.code != "input.unsupported-version" or reader.root is None:
            report.fatal = {**error.as_dict(), **_official_fatal(error.code)}
        else:
            report.file_type, report.version = reader.root.tag, reader.root.version
            report.findings.append(catalogue.make(
                UNSUPPORTED_VERSION, actual=reader.root.version or "",
                xpath=f"/{reader.root.tag}/@version", line=reader.root.line,
            ))
    except OSError as error:  # missing file, a directory, unreadable: say so, as a finding
        report.fatal = {"code": "input.unreadable", "message": f"{error.strerror or error}."}
    return report


class RecordChecker:
    """The three stages over one file, record by record: `check` each, then `finish`.

    Set up from `reader` once its root has been seen (after its first record); the push
    service uses it to check each activity before storing it.
    """

    def __init__(self, reader: Reader[Any], today: date) -> None:
        root = reader.root
        assert root is not None
        self._reader = reader
        version = reader.version if reader.version in artefacts.VERSIONS else artefacts.LATEST
        self.schema = SchemaStage.for_root(root)
        self.codelists = CodelistRules.load(version)
        self.rules = Ruleset.load(version)
        self.unique = UniqueIdentifiers() if root.tag == ACTIVITIES else None
        self.today = today

    def check(self, record: ReadRecord[Any], *, counted: bool = False) -> list[Finding]:
        """Every finding of `record` (read with `keep_element`): reading and the stages.

        `counted` says that `count` has already been given the record's identifier.
        """
        element, identifier = record.element, record.identifier
        assert element is not None
        found = list(record.findings)
        found += self.schema.check(element, position=record.position, activity=identifier)
        found += map(as_official, self.codelists.check(
            element, activity=identifier, position=record.position
        ))
        found += map(as_official, self.rules.check(
            element, today=self.today, activity=identifier, position=record.position
        ))
        if not counted:
            found += self.count(identifier, record.line)
        return found

    def count(self, identifier: str | None, line: int | None) -> list[Finding]:
        """Note a record's identifier: the finding if the file has already had it."""
        repeated = None
        if self.unique is not None:
            repeated = self.unique.see(identifier, line)
        return [] if repeated is None else [repeated]

    def label(self, identifier: str | None) -> str:
        """The record's name in the official report: its identifier, ``noIdentifier`` if it
        has none, and ``(2)``, ``(3)``… after a repeated one."""
        name = identifier or "noIdentifier"
        times = 1 if self.unique is None else self.unique.times(identifier)
        return name if times <= 1 else f"{name}({times})"

    def finish(self) -> list[Finding]:
        """Findings about the file's root, once every record has been checked."""
        stream = self._reader.stream
        return self.schema.finish(
            extras=stream.extras, record_count=stream.record_count, stray_text=stream.stray_text
        )


def _run(
    reader: Reader[Any], report: ValidationReport, today: date, progress: Progress | None
) -> None:
    stages: RecordChecker | None = None
    for record in reader:
        if stages is None:
            stages = _start(reader, report, today)
        found = stages.check(record)
        report.record_count += 1
        if found:  # only records with findings are reported
            report.add(RecordReport(
                identifier=record.identifier,
                title=_title(record.model),
                position=record.position,
                line=record.line,
                findings=found,
                label=stages.label(record.identifier),
            ))
        if progress is not None:
            progress(reader.stream.bytes_read)
    if stages is None:
        stages = _start(reader, report, today)
    report.findings += stages.finish()
    report.findings += reader.file_findings


def _start(reader: Reader[Any], report: ValidationReport, today: date) -> RecordChecker:
    root = reader.root
    assert root is not None
    if reader.version is None:  # a file without records: the reader never looked
        reader.version = root.version if root.version in artefacts.VERSIONS else None
    report.file_type = root.tag
    report.version = root.version
    report.read_as = reader.version if reader.version in artefacts.VERSIONS else "2.03"
    stages = RecordChecker(reader, today)
    if reader.stream.root_element is not None:
        report.findings += stages.codelists.check_root(reader.stream.root_element)
    if reader.legacy:
        report.findings.append(_version_1_unsupported(root.version or "1.x"))
    return stages


# The official rule of input that cannot be read at all, where one exists.
_FATAL_RULES = {
    "input.not-xml": NOT_XML, "input.empty": NOT_XML, "input.not-iati": NOT_IATI,
}


def _official_fatal(code: str) -> dict[str, str]:
    rule = _FATAL_RULES.get(code)
    return {} if rule is None else {"rule": rule}


def _version_1_unsupported(version: str) -> Finding:
    severity, category, message = official_rule("0.6.1")
    return Finding(
        code="0.6.1", severity=severity, stage=Stage.READ, category=category,
        message=message.replace("{me:iati-version(@version)}", version),
        xpath="/iati-activities/@version", actual=version,
    )


def official_rule(rule_id: str) -> tuple[Severity, str, str]:
    """(severity, category, message) of an official validator rule id."""
    return _official_rules()[rule_id]


def as_official(finding: Finding) -> Finding:
    """`finding` with the severity and category the validator's master list gives its id.

    The ruleset and codelist files carry their own, sometimes older, severities (3.7.1 is an
    error in `standard.json`, a warning in `data-quality-rules.csv`); the master list wins.
    """
    official = _official_rules().get(finding.code)
    if official is None:
        return finding
    severity, category, _ = official
    if (severity, category) == (finding.severity, finding.category):
        return finding
    return replace(finding, severity=severity, category=category)


@cache
def _official_rules() -> dict[str, tuple[Severity, str, str]]:
    rules: dict[str, tuple[Severity, str, str]] = {}
    with artefacts.data_quality_rules_path().open(encoding="utf-8") as table:
        for row in csv.DictReader(table):
            if row["Severity"] and row["ID"] not in rules:
                rules[row["ID"]] = (Severity(row["Severity"].lower()), row["Class"], row["Message"])
    return rules


def _title(model: Any) -> str | None:
    block = getattr(model, "title", None) or getattr(model, "name", None)
    return None if block is None else block.text()


def _name(source: Source) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", "<input>")
