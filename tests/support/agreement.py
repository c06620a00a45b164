"""iati-ec's findings beside the official IATI Validator's, as (record, rule id) pairs.

`../shared/iati/validator-reports/` holds the official validator's report on every sample
(js-validator-api 2.4.3, run offline with its clock on 2026-11-27). Both sides are read as
sets of pairs: the record's name in the report (its identifier, ``noIdentifier``, ``X(2)``
for a repeat, ``file``) and the rule id. Set aside on both sides:

- the rules that need the IATI Registry's list of publishers, which the official run did
  not have (1.14.8, 1.18.8, 1.3.13 and every x.x.13);
- IATI 1.x files, which the official validator does not check (it answers 0.6.1).

`python -m tests.support.agreement` prints the figures per file and per rule
(docs/validation.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from iati.findings import is_official
from iati.validate import validate
from tests.support.samples import SAMPLES, SHARED

REPORTS = SHARED / "iati" / "validator-reports"
TODAY = date(2026, 11, 27)  # the official run's clock
_REGISTRY_RULES = re.compile(r"1\.14\.8|1\.18\.8|\d+\.\d+\.13")
_SET_ASIDE_FOLDERS = ("legacy-1x",)

Pair = tuple[str, str]


@dataclass(frozen=True)
class Compared:
    """One sample's pairs on both sides, and each side's verdict."""

    name: str
    official: frozenset[Pair]
    ours: frozenset[Pair]
    ours_json: frozenset[Pair]
    official_valid: bool
    ours_valid: bool

    @property
    def agreed(self) -> frozenset[Pair]:
        return self.official & self.ours


@dataclass
class Tally:
    """Pairs agreed, missed (official only) and extra (ours only)."""

    agreed: int = 0
    missed: int = 0
    extra: int = 0

    @property
    def recall(self) -> float:
        return self.agreed / (self.agreed + self.missed) if self.agreed + self.missed else 1.0

    @property
    def precision(self) -> float:
        return self.agreed / (self.agreed + self.extra) if self.agreed + self.extra else 1.0

    @property
    def pairs(self) -> int:
        return self.agreed + self.missed + self.extra

    def add(self, compared: Compared) -> None:
        self.agreed += len(compared.agreed)
        self.missed += len(compared.official - compared.ours)
        self.extra += len(compared.ours - compared.official)


@dataclass
class Agreement:
    """The comparison over every sample: overall, per file and per rule."""

    files: list[Compared]
    overall: Tally = field(default_factory=Tally)
    per_rule: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def __post_init__(self) -> None:
        for compared in self.files:
            self.overall.add(compared)
            for _record, rule in compared.agreed:
                self.per_rule[rule].agreed += 1
            for _record, rule in compared.official - compared.ours:
                self.per_rule[rule].missed += 1
            for _record, rule in compared.ours - compared.official:
                self.per_rule[rule].extra += 1


def compared_samples() -> Agreement:
    """Every sample that has an official report, compared (1.x files set aside)."""
    return Agreement([compare(path) for path in _samples()])


def compare(path: Path) -> Compared:
    report = validate(path, today=TODAY)
    official = json.loads(_report_path(path).read_text(encoding="utf-8"))
    ours = report.as_official()
    return Compared(
        name=str(path.relative_to(SAMPLES)),
        official=frozenset(official_pairs(official)),
        ours=frozenset(official_pairs(ours)),
        ours_json=frozenset(json_pairs(report.as_dict())),
        official_valid=official["valid"],
        ours_valid=ours["valid"],
    )


def official_pairs(report: dict[str, Any]) -> Iterator[Pair]:
    """The (record, rule id) pairs of a report in the official shape."""
    for group in report.get("errors", []):
        for category in group["errors"]:
            for finding in category["errors"]:
                if not _REGISTRY_RULES.fullmatch(finding["id"]):
                    yield group["identifier"], finding["id"]


def json_pairs(report: dict[str, Any]) -> Iterator[Pair]:
    """The same pairs read from iati-ec's own JSON report (official rule ids only)."""
    fatal = report.get("fatal")
    if fatal is not None and "rule" in fatal:
        yield "file", fatal["rule"]
    yield from _rule_pairs("file", report["findings"])
    for record in report["records"]:
        name = record.get("label") or record["identifier"] or "noIdentifier"
        for pair in _rule_pairs(name, record["findings"]):
            yield ("file", pair[1]) if pair[1] == "1.1.2" else pair


def _rule_pairs(name: str, findings: Iterable[dict[str, Any]]) -> Iterator[Pair]:
    for finding in findings:
        code = finding["code"]
        if is_official(code) and not _REGISTRY_RULES.fullmatch(code):
            yield name, code


def _samples() -> list[Path]:
    return [
        path for path in sorted(SAMPLES.rglob("*.xml"))
        if _report_path(path).exists()
        and path.relative_to(SAMPLES).parts[0] not in _SET_ASIDE_FOLDERS
    ]


def _report_path(path: Path) -> Path:
    return REPORTS / (str(path.relative_to(SAMPLES)).replace("/", "__") + ".json")


def _markdown(agreement: Agreement) -> str:
    lines = [
        "| file | official pairs | agreed | missed | extra | verdict |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for compared in agreement.files:
        tally = Tally()
        tally.add(compared)
        same = "same" if compared.official_valid == compared.ours_valid else "DIFFERENT"
        lines.append(
            f"| {compared.name} | {len(compared.official)} | {tally.agreed} | {tally.missed} "
            f"| {tally.extra} | {'valid' if compared.official_valid else 'invalid'}, {same} |"
        )
    overall = agreement.overall
    lines += [
        "",
        f"Overall: {overall.agreed} agreed, {overall.missed} missed, {overall.extra} extra; "
        f"recall {overall.recall:.2%}, precision {overall.precision:.2%}.",
        "",
        "| rule | pairs | agreed | missed | extra | recall | precision |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    ranked = sorted(agreement.per_rule.items(), key=lambda item: (-item[1].pairs, item[0]))
    for rule, tally in ranked:
        if tally.pairs >= 20 or tally.missed or tally.extra:
            lines.append(
                f"| {rule} | {tally.pairs} | {tally.agreed} | {tally.missed} | {tally.extra} "
                f"| {tally.recall:.1%} | {tally.precision:.1%} |"
            )
    left = Counter(tally.pairs < 20 and not tally.missed and not tally.extra
                   for tally in agreement.per_rule.values())[True]
    lines.append(f"\n{left} other rules, each with fewer than 20 pairs, agree on every pair.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(_markdown(compared_samples()))
