"""What a push decides about an activity, as findings shaped like the validator's.

The validator's findings (`iati.findings.Finding`) describe the file; these describe what
the service did with it, so they carry the stage ``push``. Both are stored as JSON
(`Finding.as_dict()`), the form in which push records and activities keep findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from iati.findings import Finding, Severity, Stage

PUSH_STAGE = "push"
# Why the codec's findings reject an activity: failing the XSD (critical) or a codelist
# error would store something other tools cannot read. Rule 1.1.2 (an identifier twice
# in one file) is rejected too: only the first of the two can be the activity.
REJECTING_STAGES = {Stage.SCHEMA: Severity.CRITICAL, Stage.CODELIST: Severity.ERROR}
DUPLICATE_IDENTIFIER = "1.1.2"


class PushCode(StrEnum):
    """The finding codes of the push service."""

    not_your_activity = "push.not-your-activity"
    atomic_abort = "push.atomic-abort"
    stale = "push.stale"
    no_identifier = "push.no-identifier"
    identifier_mismatch = "push.identifier-mismatch"
    not_one_activity = "push.not-one-activity"


_SEVERITY = {
    PushCode.not_your_activity: Severity.ERROR,
    PushCode.atomic_abort: Severity.ERROR,
    PushCode.stale: Severity.WARNING,
    PushCode.no_identifier: Severity.ERROR,
    PushCode.identifier_mismatch: Severity.ERROR,
    PushCode.not_one_activity: Severity.ERROR,
}


def push_finding(
    code: PushCode, message: str, *, activity: str | None = None, actual: str | None = None
) -> dict[str, Any]:
    """A finding of the push service, in the stored JSON form."""
    found: dict[str, Any] = {
        "code": code.value, "severity": _SEVERITY[code].value, "message": message,
        "stage": PUSH_STAGE,
    }
    if activity is not None:
        found["activity"] = activity
    if actual is not None:
        found["actual"] = actual
    return found


def rejects(finding: Finding) -> bool:
    """Whether `finding` keeps its activity out of the store."""
    if finding.code == DUPLICATE_IDENTIFIER:
        return True
    floor = REJECTING_STAGES.get(finding.stage)
    return floor is not None and finding.severity.rank >= floor.rank


def reported(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """The findings worth keeping with an activity or an outcome: warnings and worse."""
    return [f.as_dict() for f in findings if f.severity.rank >= Severity.WARNING.rank]
