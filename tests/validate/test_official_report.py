"""Reports in the official validator's shape validate against its report schema."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from iati.validate import validate
from iati.validate.pipeline import official_rule
from tests.support.samples import SAMPLES, SHARED

REPORT_SCHEMA = SHARED / "iati" / "rulesets" / "validator" / "validationReport.schema.json"
FILES = sorted(SAMPLES.glob("**/*.xml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_official_report_matches_the_validators_report_schema(path: Path) -> None:
    if not REPORT_SCHEMA.exists():
        pytest.skip("validator report schema not available")
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    report = validate(path, today=date(2026, 11, 27)).as_official()
    jsonschema.validate(report, schema)


def test_severities_and_categories_follow_the_validators_master_list() -> None:
    # standard.json puts 3.7.2 in category financial; the master list says geo — and the
    # official validator reports the master list's.
    report = validate(SAMPLES / "real" / "cabei-bcie.xml", today=date(2026, 11, 27))
    found = [f for f in report.all_findings() if f.code == "3.7.2"]
    assert found
    severity, category, _ = official_rule("3.7.2")
    assert {(f.severity, f.category) for f in found} == {(severity, category)}
    assert category == "geo"
