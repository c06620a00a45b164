"""iati-ec agrees with the official IATI Validator, finding by finding, on every sample."""

from __future__ import annotations

import pytest

from tests.support.agreement import REPORTS, Agreement, compared_samples


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    if not REPORTS.exists():
        pytest.skip("the official validator's reports are not available")
    return compared_samples()


def test_every_sample_with_an_official_report_is_compared(agreement: Agreement) -> None:
    names = {compared.name for compared in agreement.files}
    assert len(names) >= 40
    assert {"real/cabei-bcie.xml", "invalid/encoding-valid-UTF-16LE.xml"} <= names
    assert not any(name.startswith("legacy-1x/") for name in names)  # set aside


def test_recall_and_precision_reach_98_percent_overall(agreement: Agreement) -> None:
    overall = agreement.overall
    assert overall.agreed >= 1900
    assert overall.recall >= 0.98, overall
    assert overall.precision >= 0.98, overall


def test_every_rule_with_20_pairs_or_more_agrees_at_90_percent(agreement: Agreement) -> None:
    frequent = {rule: tally for rule, tally in agreement.per_rule.items() if tally.pairs >= 20}
    assert {"0.3.1", "7.5.3", "3.7.2"} <= set(frequent)
    poor = {
        rule: tally for rule, tally in frequent.items()
        if tally.recall < 0.9 or tally.precision < 0.9
    }
    assert not poor


def test_the_verdict_is_the_official_one_on_every_file(agreement: Agreement) -> None:
    different = [c.name for c in agreement.files if c.official_valid != c.ours_valid]
    assert not different
    assert sum(not c.official_valid for c in agreement.files) >= 15  # invalid ones compared


def test_the_json_report_names_the_same_rules_as_the_official_shape(
    agreement: Agreement,
) -> None:
    for compared in agreement.files:
        assert compared.ours_json == compared.ours, compared.name


def test_schema_errors_are_0_3_1_on_their_activity_and_repeats_are_numbered(
    agreement: Agreement,
) -> None:
    files = {compared.name: compared for compared in agreement.files}
    cabei = files["real/cabei-bcie.xml"]
    schema = {record for record, rule in cabei.ours if rule == "0.3.1"}
    assert len(schema) == 87
    assert "file" not in schema
    utf16 = files["invalid/encoding-valid-UTF-16LE.xml"]
    assert {record for record, _ in utf16.ours} == {
        "noIdentifier", "noIdentifier(2)", "noIdentifier(3)", "noIdentifier(4)", "file",
    }
    assert ("file", "1.1.2") in files["invalid/iati-dup-activity-ids.xml"].ours
