"""What a push decides about an activity, as findings shaped like the validator's.

The push policy, stated here and nowhere else in code: a push accepts what the official
IATI Validator accepts. An activity is refused when, and only when,

1. the file cannot be read (not XML, not IATI, a version other than 2.01–2.03 or 1.0x):
   the whole push is refused with a coded error, and nothing is stored;
2. it carries a critical finding: it fails the XSD (rule ``0.3.1``), so other tools could
   not read what would be stored;
3. its identifier is missing, malformed (control or invisible format characters, or
   longer than `IDENTIFIER_LIMIT` bytes), or already met earlier in the same file (rule
   ``1.1.2``: only the first can be the activity; identifiers are compared in Unicode NFC,
   so another spelling of one met earlier is refused too);
4. it is not the pusher's: its reporting-org is not one of the publisher's identifiers, or
   its identifier is another organisation's (`service.services.push.ownership` says whose);
5. it is older than the stored version (``stale``: not applied, the stored one kept).

Every other finding (codelist and ruleset errors and warnings, iati-ec's own reading
findings) is stored with the activity and shown to its publisher. ``?mode=atomic`` refuses
the whole file when any activity is refused.

The validator's findings (`iati.findings.Finding`) describe the file; these describe what
the service did with it, so they carry the stage ``push``. Both are stored as JSON
(`Finding.as_dict()`), the form in which push records and activities keep findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from iati.findings import DUPLICATE_IDENTIFIER, Finding, Severity
from service.identifiers import IDENTIFIER_LIMIT, invisible, within_limit

PUSH_STAGE = "push"


class PushCode(StrEnum):
    """The finding codes of the push service."""

    not_your_activity = "push.not-your-activity"
    identifier_of_another_organisation = "push.identifier-of-another-organisation"
    held_by_another_organisation = "push.held-by-another-organisation"
    taken_over = "push.taken-over"
    identifier_repeated = "push.identifier-repeated"
    atomic_abort = "push.atomic-abort"
    stale = "push.stale"
    no_identifier = "push.no-identifier"
    malformed_identifier = "push.malformed-identifier"
    identifier_mismatch = "push.identifier-mismatch"
    not_one_activity = "push.not-one-activity"


_SEVERITY = {
    PushCode.not_your_activity: Severity.ERROR,
    PushCode.identifier_of_another_organisation: Severity.ERROR,
    PushCode.held_by_another_organisation: Severity.ERROR,
    PushCode.taken_over: Severity.INFO,
    PushCode.identifier_repeated: Severity.ERROR,
    PushCode.atomic_abort: Severity.ERROR,
    PushCode.stale: Severity.WARNING,
    PushCode.no_identifier: Severity.ERROR,
    PushCode.malformed_identifier: Severity.ERROR,
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
    """Whether `finding` keeps its activity out of the store (points 2 and 3 above)."""
    return finding.severity is Severity.CRITICAL or finding.code == DUPLICATE_IDENTIFIER


def identifier_refusal(identifier: str | None) -> dict[str, Any] | None:
    """The refusal of an activity whose identifier is missing or malformed (point 3)."""
    if not identifier:
        return push_finding(
            PushCode.no_identifier,
            "The activity has no iati-identifier: give it the one it is known by.",
        )
    if not within_limit(identifier) or invisible(identifier):
        return push_finding(
            PushCode.malformed_identifier,
            f"The iati-identifier is longer than {IDENTIFIER_LIMIT} bytes in UTF-8 or holds "
            "control or invisible formatting characters (a zero-width space, a "
            "right-to-left override): publish the activity's real identifier.",
            actual=identifier[:100],
        )
    return None


def repeated_identifier(identifier: str, earlier: str) -> dict[str, Any]:
    """The refusal of an activity whose identifier is another spelling of one met earlier
    in the same file (point 3)."""
    return push_finding(
        PushCode.identifier_repeated,
        f"An activity earlier in this file has the identifier {earlier}, which is the same "
        "once both are written in Unicode NFC: only the first can be the activity. Spell "
        "the identifier one way.",
        activity=identifier, actual=identifier,
    )


def reported(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """The findings worth keeping with an activity or an outcome: warnings and worse."""
    return [f.as_dict() for f in findings if f.severity.rank >= Severity.WARNING.rank]
