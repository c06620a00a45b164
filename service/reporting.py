"""Validation reports printed for people: a summary line and a table of findings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from iati.findings import Severity
from iati.validate import ValidationReport

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.INFO: "dim",
}


def print_report(console: Console, report: ValidationReport, *, limit: int) -> None:
    """Print `report`: verdict, counts, then up to `limit` findings, worst first."""
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
    findings = sorted(
        report.all_findings(), key=lambda f: (-f.severity.rank, f.line or 0, f.code)
    )
    if not findings or limit <= 0:
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    for column in ("severity", "code", "line", "activity", "message"):
        table.add_column(column, overflow="fold")
    for finding in findings[:limit]:
        table.add_row(
            f"[{_STYLE[finding.severity]}]{finding.severity}[/]", finding.code,
            str(finding.line or ""), finding.activity or "", finding.message,
        )
    console.print(table)
    if len(findings) > limit:
        console.print(
            f"… and {len(findings) - limit} more; use --limit or --json to see all of them."
        )
