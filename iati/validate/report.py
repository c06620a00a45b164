"""Validation reports: iati-ec's own JSON, and the official IATI Validator's report shape."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from iati import artefacts
from iati.findings import DUPLICATE_IDENTIFIER, Finding, Severity

# The official report names severities critical / danger (error) / warning.
_OFFICIAL_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.ERROR: "danger",
    Severity.WARNING: "warning",
}
# The categories the official report schema allows; others (e.g. "iati") are "information".
_OFFICIAL_CATEGORIES = frozenset({
    "identifiers", "organisation", "information", "participating", "geo", "classifications",
    "financial", "documents", "relations", "performance",
})


@dataclass(slots=True)
class RecordReport:
    """The findings on one activity (or organisation record) of a file."""

    identifier: str | None
    title: str | None
    position: int
    line: int | None
    findings: list[Finding] = field(default_factory=list)
    label: str | None = None  # the record's name in the official report

    def as_dict(self) -> dict[str, Any]:
        found = {
            "identifier": self.identifier,
            "title": self.title,
            "position": self.position,
            "line": self.line,
            "findings": [finding.as_dict() for finding in self.findings],
        }
        if self.label is not None and self.label != self.identifier:
            found["label"] = self.label  # noIdentifier, or a repeat's X(2)
        return found


@dataclass(slots=True)
class ValidationReport:
    """Everything the three stages found in one file.

    A file is valid when nothing critical was found (schema errors, unreadable or
    unsupported input), as in the official validator; errors and warnings are reported
    but do not make the file invalid.

    Records with findings are kept in `records`, unless a `sink` takes them as they come
    (so that a report on a file of any size needs flat memory); the counts are kept either
    way.
    """

    file: str
    file_type: str | None = None
    version: str | None = None
    read_as: str | None = None
    findings: list[Finding] = field(default_factory=list)
    records: list[RecordReport] = field(default_factory=list)  # those with findings
    record_count: int = 0
    fatal: dict[str, Any] | None = None
    sink: Callable[[RecordReport], None] | None = field(default=None, repr=False)
    _record_severities: Counter[Severity] = field(default_factory=Counter, repr=False)
    _official_severities: Counter[Severity] = field(default_factory=Counter, repr=False)
    _repeats: list[Finding] = field(default_factory=list, repr=False)  # file-level, officially

    def add(self, record: RecordReport) -> None:
        """Count `record`'s findings, and keep it (or hand it to the sink)."""
        self._record_severities.update(finding.severity for finding in record.findings)
        for finding in record.findings:
            if finding.code == DUPLICATE_IDENTIFIER:
                self._repeats.append(finding)  # the official report lists it with the file
            elif finding.is_official:
                self._official_severities[finding.severity] += 1
        if self.sink is not None:
            self.sink(record)
        else:
            self.records.append(record)

    def all_findings(self) -> list[Finding]:
        """The file's findings and those of the kept records (none are kept with a sink)."""
        found = list(self.findings)
        for record in self.records:
            found.extend(record.findings)
        return found

    def summary_total(self) -> int:
        """How many findings there are in all (kept or not)."""
        return sum(self.summary().values()) - (0 if self.fatal is None else 1)

    def summary(self) -> dict[str, int]:
        counts = Counter(finding.severity for finding in self.findings)
        counts.update(self._record_severities)
        summary = {severity.value: counts.get(severity, 0) for severity in Severity}
        if self.fatal is not None:
            summary["critical"] += 1
        return summary

    @property
    def readable(self) -> bool:
        return self.fatal is None

    @property
    def valid(self) -> bool:
        return self.readable and self.summary()["critical"] == 0

    def as_dict(self) -> dict[str, Any]:
        """iati-ec's report: every finding with code, severity, message, xpath, line, value."""
        return {
            "file": self.file,
            "valid": self.valid,
            "fileType": self.file_type,
            "iatiVersion": self.version,
            "readAs": self.read_as,
            "summary": self.summary(),
            "fatal": self.fatal,
            "findings": [finding.as_dict() for finding in self.findings],
            "records": [record.as_dict() for record in self.records if record.findings],
            "recordCount": self.record_count,
        }

    def as_official(self) -> dict[str, Any]:
        """The report in the shape of the official validator's `validationReport.schema.json`:
        its rules' findings only (iati-ec's own, such as ``read.invalid-value``, are left out).
        """
        version = self.read_as or artefacts.LATEST
        file_level = [f for f in self._file_level() if f.is_official] + self._repeats
        counts = Counter(finding.severity for finding in file_level)
        counts.update(self._official_severities)
        groups = [_official_group("file", "File level errors", file_level)]
        groups += [group for record in self.records if (group := official_record(record))]
        return {
            "valid": self.valid,
            "fileType": self.file_type or "iati-activities",
            "iatiVersion": self.version or "",
            "rulesetCommitSha": artefacts.RULESET_COMMITS.get(version, ""),
            "codelistCommitSha": artefacts.CODELIST_RULE_COMMITS.get(version, ""),
            "orgIdPrefixFileName": "",
            "apiVersion": "iati-ec",
            "summary": {key: counts[Severity(key)] for key in ("critical", "error", "warning")},
            "errors": [group for group in groups if group["errors"]],
        }

    def _file_level(self) -> list[Finding]:
        if self.fatal is None:
            return self.findings
        fatal = Finding(
            code=str(self.fatal.get("rule", self.fatal["code"])), severity=Severity.CRITICAL,
            message=str(self.fatal["message"]), stage="read",  # type: ignore[arg-type]
            line=self.fatal.get("line"),
        )
        return [fatal, *self.findings]


def official_record(record: RecordReport) -> dict[str, Any] | None:
    """One record's group of the official report (for writing reports as they stream);
    None when none of its findings is an official rule's."""
    group = _official_group(
        record.label or record.identifier or f"#{record.position}", record.title or "",
        [f for f in record.findings if f.is_official and f.code != DUPLICATE_IDENTIFIER],
    )
    return group if group["errors"] else None


def _official_group(identifier: str, title: str, findings: list[Finding]) -> dict[str, Any]:
    """The group of `findings`, one entry per rule and message with a context for each
    place, as the official validator lists the schema errors of an activity."""
    by_category: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for finding in findings:
        severity = _OFFICIAL_SEVERITY.get(finding.severity)
        if severity is None:
            continue  # informational findings (upgrade steps) have no official severity
        category = finding.category if finding.category in _OFFICIAL_CATEGORIES else "information"
        context = finding.message
        if finding.xpath is not None:
            context += f" ({finding.xpath})"
        if finding.line is not None:
            context += f" at line {finding.line}"
        entry = by_category[category].setdefault((finding.code, finding.message), {
            "id": finding.code, "severity": severity, "message": finding.message, "context": [],
        })
        entry["context"].append({"text": context})
    return {
        "identifier": identifier,
        "title": title,
        "errors": [
            {"category": category, "errors": list(entries.values())}
            for category, entries in by_category.items()
        ],
    }
