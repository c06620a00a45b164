"""The one catalogue of finding codes and the `Finding` record every stage produces.

Codes of the official IATI Validator (`data-quality-rules.csv`, codelist rules, ruleset
`ruleInfo` ids such as ``1.1.3`` or ``9.2.1``) are used as they are wherever one exists.
Findings that the official validator has no id for get a dotted code from `CATALOGUE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final


class Severity(StrEnum):
    """How bad a finding is.

    As in the official validator, only `CRITICAL` makes a file invalid (schema errors,
    an unsupported version); the push API also refuses an activity with `ERROR` findings
    of the schema and codelist stages.
    """

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.CRITICAL: 3, Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 0}


class Stage(StrEnum):
    """Where a finding was made."""

    READ = "read"
    UPGRADE = "upgrade"
    SCHEMA = "schema"
    CODELIST = "codelist"
    RULESET = "ruleset"


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about an input: stable code, severity, where, and the value seen."""

    code: str
    severity: Severity
    message: str
    stage: Stage
    xpath: str | None = None
    line: int | None = None
    activity: str | None = None
    actual: str | None = None
    category: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # What `dataclasses.asdict` gives without its deep copy: every field is a str, an
        # int, an enum member or None. A validation report serialises every finding.
        return {
            name: value for name in _FIELDS if (value := getattr(self, name)) is not None
        }

    def for_activity(self, identifier: str | None) -> Finding:
        """This finding attributed to the activity `identifier`."""
        return Finding(
            self.code, self.severity, self.message, self.stage,
            self.xpath, self.line, identifier, self.actual, self.category,
        )

    @property
    def is_error(self) -> bool:
        return self.severity.rank >= Severity.ERROR.rank

    @property
    def is_official(self) -> bool:
        """Whether the code is an official validator rule id, not one of iati-ec's own."""
        return is_official(self.code)


_FIELDS: Final = tuple(field.name for field in fields(Finding))

# The official validator's rule ids are three dotted numbers (``0.3.1``, ``9.95.1``);
# iati-ec's own codes are named (``read.invalid-value``).
_OFFICIAL_ID: Final = re.compile(r"\d+\.\d+\.\d+")


def is_official(code: str) -> bool:
    """Whether `code` is a rule id of the official IATI Validator."""
    return _OFFICIAL_ID.fullmatch(code) is not None


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A finding code of iati-ec's own: its severity, stage and message template."""

    severity: Severity
    stage: Stage
    template: str
    category: str | None = None


SCHEMA_INVALID: Final = "0.3.1"
NOT_XML: Final = "0.1.1"
NOT_IATI: Final = "0.2.1"
UNSUPPORTED_VERSION: Final = "0.6.1"
DUPLICATE_IDENTIFIER: Final = "1.1.2"  # a file-level finding in the official report

CATALOGUE: dict[str, CatalogueEntry] = {
    # Reading: the input is kept, but something about it is noteworthy.
    "read.unexpected-element": CatalogueEntry(
        Severity.ERROR, Stage.READ,
        "Element {actual} is not part of the IATI standard here; it is kept verbatim in place.",
    ),
    "read.unexpected-attribute": CatalogueEntry(
        Severity.ERROR, Stage.READ,
        "Attribute {actual} is not part of the IATI standard here; it is kept verbatim.",
    ),
    "read.repeated-element": CatalogueEntry(
        Severity.ERROR, Stage.READ,
        "Element {actual} may occur only once here; the repeat is kept verbatim in place.",
    ),
    "read.unexpected-text": CatalogueEntry(
        Severity.ERROR, Stage.READ,
        "Text {actual!r} is not allowed in this element and is not kept in the model.",
    ),
    "read.invalid-value": CatalogueEntry(
        Severity.ERROR, Stage.READ,
        "Value {actual!r} is not valid here ({expected}); it is left out of the model.",
    ),
    "read.unsupported-version": CatalogueEntry(
        Severity.CRITICAL, Stage.READ,
        "Version {actual!r} is not an IATI version iati-ec reads; the file was read as 2.03.",
    ),
    "read.missing-version": CatalogueEntry(
        Severity.ERROR, Stage.READ,
        "The root element has no @version; the file was read as 2.03.",
    ),
    # 1.x -> 2.03 upgrade steps.
    "upgrade.version": CatalogueEntry(
        Severity.INFO, Stage.UPGRADE,
        "Read as IATI {actual}; upgraded to 2.03.",
    ),
    "upgrade.renamed": CatalogueEntry(
        Severity.INFO, Stage.UPGRADE, "{actual} was renamed to {expected}.",
    ),
    "upgrade.narrative": CatalogueEntry(
        Severity.INFO, Stage.UPGRADE, "The text of {actual} was moved into a narrative.",
    ),
    "upgrade.code": CatalogueEntry(
        Severity.INFO, Stage.UPGRADE, "Code {actual} was replaced by its 2.03 code {expected}.",
    ),
    "upgrade.removed": CatalogueEntry(
        Severity.WARNING, Stage.UPGRADE,
        "{actual} has no place in IATI 2.03 and could not be upgraded safely: {expected}.",
    ),
    "upgrade.missing-required": CatalogueEntry(
        Severity.ERROR, Stage.UPGRADE,
        "{actual} is required in IATI 2.03 but the 1.x record does not provide it; "
        "it was left absent: {expected}.",
    ),
    "upgrade.kept-unknown": CatalogueEntry(
        Severity.ERROR, Stage.UPGRADE,
        "{actual} has no IATI 2.03 equivalent and no published upgrade; "
        "it is kept verbatim in place: {expected}.",
    ),
    "upgrade.derived": CatalogueEntry(
        Severity.INFO, Stage.UPGRADE, "{actual} was derived from the 1.x record as {expected}.",
    ),
    "upgrade.unsafe": CatalogueEntry(
        Severity.ERROR, Stage.UPGRADE,
        "{actual} could not be upgraded safely: {expected}.",
    ),
    # Official rules the validator decides in code, not in its rule files. Failing the
    # XSD is critical, under one id for every schema error, attributed to its activity.
    SCHEMA_INVALID: CatalogueEntry(Severity.CRITICAL, Stage.SCHEMA, "{actual}", "schema"),
    NOT_XML: CatalogueEntry(
        Severity.CRITICAL, Stage.READ, "The file is not well-formed XML: {actual}", "iati",
    ),
    NOT_IATI: CatalogueEntry(
        Severity.CRITICAL, Stage.READ, "The file is not an IATI file: {actual}", "iati",
    ),
    UNSUPPORTED_VERSION: CatalogueEntry(
        Severity.CRITICAL, Stage.READ,
        "Version {actual!r} of the IATI Standard is not supported (2.01, 2.02, 2.03 are): "
        "set @version on the root element to the version the file follows.",
        "documents",
    ),
    # Ruleset stage: rules that carry no ruleInfo id are named after their rule type.
    "ruleset.rule": CatalogueEntry(Severity.ERROR, Stage.RULESET, "{actual}"),
}


def make(
    code: str,
    *,
    actual: str | None = None,
    expected: str | None = None,
    xpath: str | None = None,
    line: int | None = None,
    activity: str | None = None,
    message: str | None = None,
) -> Finding:
    """A finding with one of iati-ec's own codes, its message filled in from the catalogue."""
    entry = CATALOGUE[code]
    text = message or entry.template.format(actual=actual, expected=expected)
    return Finding(
        code=code, severity=entry.severity, message=text, stage=entry.stage,
        xpath=xpath, line=line, activity=activity, actual=actual, category=entry.category,
    )
