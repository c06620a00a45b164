"""Validation reports for `iati-ec validate`: a table for people, streamed JSON for machines.

Both stream: records' findings are taken as the validator finds them, so a report on a
file of any size needs flat memory (the table keeps only the worst findings it shows).
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from iati.findings import Finding, Severity
from iati.validate import RecordReport, ValidationReport, validate
from iati.validate.report import official_record

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.INFO: "dim",
}
Progress = Callable[[int], None] | None


class WorstFindings:
    """The `limit` worst findings seen (most severe first, then earliest line)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._heap: list[tuple[int, int, int, Finding]] = []
        self._order = itertools.count()

    def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            # The heap keeps the largest keys: severity, then the earliest line.
            key = (finding.severity.rank, -(finding.line or 0), -next(self._order), finding)
            if len(self._heap) < self.limit:
                heapq.heappush(self._heap, key)
            elif key > self._heap[0]:
                heapq.heapreplace(self._heap, key)

    def ordered(self) -> list[Finding]:
        return [entry[3] for entry in sorted(self._heap, reverse=True)]


def validate_for_people(
    path: Path, *, today: date, limit: int, console: Console, progress: Progress
) -> ValidationReport:
    """Validate `path` and print its verdict, counts and worst `limit` findings."""
    worst = WorstFindings(limit)
    report = validate(
        path, today=today, progress=progress,
        on_record=lambda record: worst.add(record.findings),
    )
    worst.add(report.findings)
    print_report(console, report, worst.ordered(), report.summary_total())
    return report


def validate_as_json(
    path: Path, *, today: date, official: bool, out: IO[str], progress: Progress,
    then: Callable[[ValidationReport], dict[str, Any]] | None = None,
) -> ValidationReport:
    """Validate `path`, writing its JSON report to `out` while the records stream past;
    `then` gives keys to add to the report once it is done."""
    key = "errors" if official else "records"
    out.write(f'{{"{key}": [')
    count = itertools.count()

    def write(item: dict[str, Any]) -> None:
        out.write(("\n" if next(count) == 0 else ",\n") + json.dumps(item, ensure_ascii=False))

    def sink(record: RecordReport) -> None:
        item = official_record(record) if official else record.as_dict()
        if item is not None:
            write(item)

    report = validate(path, today=today, progress=progress, on_record=sink)
    document = report.as_official() if official else report.as_dict()
    if then is not None:
        document.update(then(report))
    for item in document.pop(key):  # the file-level group (official shape); kept records
        write(item)
    out.write("\n], " + json.dumps(document, ensure_ascii=False)[1:])
    return report


def print_report(
    console: Console, report: ValidationReport, worst: list[Finding], total: int
) -> None:
    """Print `report`'s verdict and counts, then the `worst` findings of its `total`."""
    if report.fatal is not None:
        line = f" (line {report.fatal['line']})" if report.fatal.get("line") else ""
        console.print(
            f"[bold red]UNREADABLE[/] {report.file}{line}: {report.fatal['code']}: "
            f"{report.fatal['message']}",
            soft_wrap=True,
        )
        return
    summary = report.summary()
    verdict = "[bold green]VALID[/]" if report.valid else "[bold red]INVALID[/]"
    console.print(
        f"{verdict} {report.file}  IATI {report.version or '?'} (read as {report.read_as}), "
        f"{report.record_count} record(s): {summary['critical']} critical, "
        f"{summary['error']} errors, {summary['warning']} warnings, {summary['info']} notes",
        soft_wrap=True,
    )
    if not worst:
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    for column in ("severity", "code", "line", "activity", "message"):
        table.add_column(column, overflow="fold")
    for finding in worst:
        table.add_row(
            f"[{_STYLE[finding.severity]}]{finding.severity}[/]", finding.code,
            str(finding.line or ""), finding.activity or "", finding.message,
        )
    console.print(table)
    if total > len(worst):
        console.print(
            f"… and {total - len(worst)} more; use --limit or --json to see all of them."
        )
