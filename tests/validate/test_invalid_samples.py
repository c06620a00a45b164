"""Each file of the reference `invalid/` folder yields the finding it was collected for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from iati.validate import ValidationReport, validate
from tests.support.samples import sample

TODAY = date(2026, 11, 27)


def report_of(name: str) -> ValidationReport:
    return validate(sample(f"invalid/{name}"), today=TODAY)


@pytest.mark.parametrize(
    ("name", "code", "line"),
    [
        ("broken-xml.xml", "input.not-xml", 4),
        ("not-xml.xml", "input.not-xml", 1),
        ("xml-but-not-iati.xml", "input.not-iati", 1),
    ],
)
def test_input_that_is_not_iati_xml_is_unreadable_with_a_coded_reason(
    name: str, code: str, line: int
) -> None:
    report = report_of(name)
    assert not report.readable
    assert report.fatal is not None
    assert (report.fatal["code"], report.fatal["line"]) == (code, line)


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("iati-act-schema-errors.xml", 18,
         "Element 'activity-date', attribute 'iso-date': '' is not a valid value of the "
         "atomic type 'xs:date'."),
        ("iati-org-schema-errors.xml", 2,
         "Element 'iati-organisations', attribute 'generated-datetime': '2018-11-07' is not a "
         "valid value of the atomic type 'xs:dateTime'."),
        ("schema-should-fail-01-empty-activity.xml", 7,
         "Element 'iati-activity': Missing child element(s). Expected is ( iati-identifier )."),
        ("schema-should-fail-17-bad-hierarchy.xml", 5,
         "Element 'iati-activity', attribute 'hierarchy': 'string' is not a valid value of the "
         "atomic type 'xs:int'."),
        ("schema-should-fail-20-two-reporting-orgs.xml", 9,
         "Element 'reporting-org': This element is not expected. Expected is ( title )."),
        ("schema-should-fail-budget-12-non-decimal-value.xml", 22,
         "Element 'value': 'eryr' is not a valid value of the atomic type 'xs:decimal'."),
    ],
)
def test_schema_failures_are_critical_with_lxmls_message_at_the_right_line(
    name: str, line: int, message: str
) -> None:
    """The `schema-should-fail` files declare version "xx"; read as 2.03, they show the
    schema error they were written for."""
    xml = sample(f"invalid/{name}").read_bytes().replace(b'version="xx"', b'version="2.03"')
    report = validate(xml, today=TODAY)
    assert not report.valid
    schema = [(f.line, f.message) for f in report.all_findings() if f.code == "0.3.1"]
    assert (line, message) in schema


@pytest.mark.parametrize(
    ("name", "version", "line"),
    [
        ("schema-should-fail-01-empty-activity.xml", "xx", 6),
        ("schema-should-fail-18-missing-iati-activities-version.xml", None, 3),
        ("dportal-frankenstein.xml", "TEXT", 2),
    ],
)
def test_an_unsupported_version_is_the_one_critical_finding_as_the_official_validator_says(
    name: str, version: str | None, line: int
) -> None:
    """Rules are chosen by version: with none to choose, nothing else is checked (the
    Frankenstein file's broken XML further down is never reached)."""
    report = report_of(name)
    assert report.readable
    assert not report.valid
    [unsupported] = report.findings
    assert (unsupported.code, unsupported.severity, unsupported.line) == ("0.6.1", "critical", line)
    assert unsupported.actual == (version or "")
    assert "set @version" in unsupported.message
    assert report.records == []


def test_repeated_activity_identifiers_break_rule_1_1_2() -> None:
    report = report_of("iati-dup-activity-ids.xml")
    repeated = [f for f in report.all_findings() if f.code == "1.1.2"]
    assert len(repeated) == 1
    assert repeated[0].activity == report.records[1].identifier


def test_version_1_is_no_longer_supported_but_is_upgraded_and_checked() -> None:
    report = report_of("iati-act-no-errors-old-version-1.03.xml")
    [unsupported] = [f for f in report.findings if f.code == "0.6.1"]
    assert unsupported.severity == "critical"
    assert "1.03" in unsupported.message
    assert report.read_as == "2.03"
    assert not any(f.code == "0.3.1" for f in report.all_findings())


def test_utf16_and_cr_line_endings_are_read_as_valid_files() -> None:
    utf16 = report_of("encoding-valid-UTF-16LE.xml")
    assert utf16.valid
    assert utf16.record_count == 4
    carriage_returns = report_of("iati-act-line-endings-cr.xml")
    assert carriage_returns.valid
    assert {f.line for f in carriage_returns.all_findings()} - {None} <= set(range(1, 60))


def test_a_missing_file_or_a_directory_is_unreadable_not_an_exception(tmp_path: Path) -> None:
    for source in (tmp_path / "nothing.xml", tmp_path):
        report = validate(source, today=TODAY)
        assert report.fatal is not None
        assert report.fatal["code"] == "input.unreadable"
