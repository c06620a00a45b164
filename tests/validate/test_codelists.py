"""Stage (b): codes checked against the official validator's codelist rules, on real files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from iati import artefacts
from iati.codelists import load_codelist
from iati.findings import Finding, Severity, Stage
from iati.source import IatiSource
from iati.validate.codelists import PATH_CORRECTIONS, CodelistRules
from tests.support.samples import SAMPLES

OFFICIAL = SAMPLES / "official"
ACTIVITY_203 = OFFICIAL / "2.03" / "activity-standard-example-annotated.xml"
ORGANISATION_203 = OFFICIAL / "2.03" / "organisation-standard-example-annotated.xml"
# IATI's own 2.03 example breaks two codelist rules: CRSChannelCode has no "000000" and
# Region has no "616" (DAC region codes are 619, 679, …). js-validator-api reports both too.
EXAMPLE_ERRORS = {("9.40.1", "000000"), ("9.86.1", "616")}

Mutation = Callable[[etree._Element], None]


def _activity(path: Path = ACTIVITY_203) -> etree._Element:
    record = etree.parse(str(path)).getroot().find("iati-activity")
    assert record is not None
    return record


def _codes(findings: list[Finding]) -> set[tuple[str, str | None]]:
    return {(finding.code, finding.actual) for finding in findings}


def _set(xpath: str, attribute: str, code: str) -> Mutation:
    def mutate(record: etree._Element) -> None:
        element = record if xpath == "." else record.find(xpath)
        assert element is not None
        element.set(attribute, code)
    return mutate


def test_official_example_has_only_its_two_known_errors() -> None:
    record = _activity()
    rules = CodelistRules.load("2.03")
    assert rules.check_root(record.getroottree().getroot()) == []
    findings = rules.check(record, activity="AA-AAA-123456789-ABC123")
    assert _codes(findings) == EXAMPLE_ERRORS
    # Both are genuine: the codes are missing from the vendored codelists themselves.
    assert "000000" not in load_codelist("CRSChannelCode")
    assert "616" not in load_codelist("Region")


def test_official_organisation_example_is_clean() -> None:
    root = etree.parse(str(ORGANISATION_203)).getroot()
    record = root.find("iati-organisation")
    assert record is not None
    rules = CodelistRules.load("2.03")
    assert rules.check_root(root) == []
    assert rules.check(record) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set("activity-status", "code", "99"), ("9.5.1", "99")),
        (_set(".", "default-currency", "XXX"), ("9.3.1", "XXX")),
        (_set("sector[@vocabulary='2']", "code", "99999"), ("9.77.1", "99999")),
        (_set("transaction/transaction-type", "code", "0"), ("9.93.1", "0")),
        (_set("participating-org", "role", "Funding"), ("9.41.1", "Funding")),
        (_set("sector[@vocabulary='2']", "vocabulary", "X"), ("9.78.1", "X")),
        (_set("title/narrative[@{http://www.w3.org/XML/1998/namespace}lang='fr']",
              "{http://www.w3.org/XML/1998/namespace}lang", "fre"), ("9.95.1", "fre")),
    ],
)
def test_a_bad_code_yields_the_official_rule_id(
    mutate: Mutation, expected: tuple[str, str]
) -> None:
    record = _activity()
    mutate(record)
    findings = CodelistRules.load("2.03").check(record, activity="ID-1")
    assert _codes(findings) - EXAMPLE_ERRORS == {expected}


def test_a_language_code_in_capitals_is_the_same_language() -> None:
    """The official Validator accepts xml:lang="ES"; a language tag's case does not matter
    (RFC 5646). Other codelists stay case-sensitive: "usd" is no currency."""
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    record = _activity()
    _set("title/narrative[@" + lang + "='fr']", lang, "FR")(record)
    rules = CodelistRules.load("2.03")
    assert _codes(rules.check(record, activity="ID-1")) - EXAMPLE_ERRORS == set()
    _set("title/narrative[@" + lang + "='FR']", lang, "XX")(record)
    assert _codes(rules.check(record, activity="ID-1")) - EXAMPLE_ERRORS == {("9.95.1", "XX")}
    _set(".", "default-currency", "usd")(record)
    assert ("9.3.1", "usd") in _codes(rules.check(record, activity="ID-1"))


def test_dac_sector_code_is_checked_against_sector_with_vocabulary_1_or_none() -> None:
    record = _activity()
    first, second, other = record.findall("sector")
    first.set("vocabulary", "1")
    first.set("code", "99999")
    del second.attrib["vocabulary"]  # absent means the default, 1 (OECD DAC)
    second.set("code", "25")
    other.set("code", "99999")  # vocabulary 99 (the reporter's own) has no codelist
    findings = [f for f in CodelistRules.load("2.03").check(record, activity="ID-1")
                if f.code == "9.76.1"]
    assert [(f.actual, f.xpath, f.line) for f in findings] == [
        ("99999", "/iati-activities/iati-activity[1]/sector[1]/@code", first.sourceline),
        ("25", "/iati-activities/iati-activity[1]/sector[2]/@code", second.sourceline),
    ]
    assert findings[1].message == (
        'The OECD DAC sector is invalid. "25" is not a valid value for attribute @code, '
        "in element <sector> and linked @vocabulary = 1 (codelist Sector)."
    )
    assert all(f.severity is Severity.ERROR and f.stage is Stage.CODELIST for f in findings)
    assert {(f.category, f.activity) for f in findings} == {("classifications", "ID-1")}


def test_text_content_is_checked_where_a_rule_targets_text() -> None:
    record = _activity()
    channel = record.find("crs-add/channel-code")
    assert channel is not None
    channel.text = "99999999"
    findings = [f for f in CodelistRules.load("2.03").check(record) if f.code == "9.16.1"]
    assert [(f.actual, f.xpath) for f in findings] == [
        ("99999999", "/iati-activities/iati-activity[1]/crs-add[1]/channel-code[1]/text()")
    ]


def test_bad_version_on_the_root_yields_9_1_1_and_9_97_1() -> None:
    activities = _activity().getroottree().getroot()
    activities.set("version", "xx")
    [finding] = CodelistRules.load("2.03").check_root(activities)
    assert (finding.code, finding.actual) == ("9.1.1", "xx")
    assert finding.xpath == "/iati-activities/@version"
    assert finding.line == activities.sourceline
    organisations = etree.parse(str(ORGANISATION_203)).getroot()
    organisations.set("version", "xx")
    # The rule data misspells this path "/organisations"; its source means the org root.
    assert _codes(CodelistRules.load("2.03").check_root(organisations)) == {("9.97.1", "xx")}


def test_a_parent_linked_vocabulary_selects_the_codelist_in_2_02() -> None:
    record = _activity(OFFICIAL / "2.02" / "activity-standard-example-annotated.xml")
    items = record.find("country-budget-items")
    item = record.find("country-budget-items/budget-item")
    assert items is not None
    assert item is not None
    item.set("code", "9.9.9")
    rules = CodelistRules.load("2.02")
    items.set("vocabulary", "2")  # a vocabulary without a codelist in the rule data
    assert "9.14.1" not in {finding.code for finding in rules.check(record)}
    items.set("vocabulary", "1")
    [finding] = [f for f in rules.check(record) if f.code == "9.14.1"]
    assert finding.actual == "9.9.9"
    assert "linked ../@vocabulary = 1" in finding.message


def test_streamed_records_get_their_position_in_the_file(tmp_path: Path) -> None:
    text = ACTIVITY_203.read_text(encoding="utf-8")
    start, end = text.index("<iati-activity "), text.index("</iati-activity>") + 16
    bad = text[start:end].replace('<activity-status code="2"', '<activity-status code="99"')
    path = tmp_path / "three-activities.xml"
    path.write_text(text[:start] + text[start:end] * 2 + bad + text[end:], encoding="utf-8")
    rules, source = CodelistRules.load("2.03"), IatiSource(path)
    found = [f for record in source.records()
             for f in rules.check(record, position=source.record_count) if f.code == "9.5.1"]
    assert [f.xpath for f in found] == [
        "/iati-activities/iati-activity[3]/activity-status[1]/@code"
    ]


def test_every_rule_of_the_json_is_compiled() -> None:
    for version in artefacts.VERSIONS:
        document = json.loads(artefacts.codelist_rules_path(version).read_text(encoding="utf-8"))
        expected = {
            (PATH_CORRECTIONS.get(path, path), attribute, rule["id"])
            for path, attributes in document.items() for attribute, body in attributes.items()
            for rule in (body["conditions"]["mapping"].values() if "conditions" in body else [body])
        }
        compiled = set()
        for check in CodelistRules.load(version).checks():
            rules = check.condition.rules.values() if check.condition else [check.rule]
            compiled |= {(check.path, check.attribute, rule.id) for rule in rules if rule}
        assert compiled == expected


def test_rules_are_cached_per_version_and_unknown_versions_refused() -> None:
    assert CodelistRules.load("2.03") is CodelistRules.load("2.03")
    assert CodelistRules.load("2.02") is not CodelistRules.load("2.03")
    with pytest.raises(ValueError, match=r"1\.05"):
        CodelistRules.load("1.05")


REAL_FILES = sorted((SAMPLES / "real").glob("*.xml")) + sorted(
    (SAMPLES / "organisation").glob("*.xml")
)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda path: path.name)
def test_real_files_run_through_the_stage(path: Path) -> None:
    source = IatiSource(path)
    findings: list[Finding] = []
    for record in source.records():
        assert source.root is not None
        version = source.root.version if source.root.version in artefacts.VERSIONS else "2.03"
        rules = CodelistRules.load(version)
        if source.record_count == 1:
            findings += rules.check_root(record.getparent())  # type: ignore[arg-type]
        findings += rules.check(record, activity="x", position=source.record_count)
    assert source.record_count > 0
    known = {rule.id for check in rules.checks()
             for rule in (check.condition.rules.values() if check.condition else [check.rule])
             if rule}
    assert all(f.code in known and f.stage is Stage.CODELIST for f in findings)
    assert all(f.xpath and f.xpath.startswith("/iati-") and isinstance(f.line, int)
               for f in findings)


def test_a_clean_real_file_yields_nothing() -> None:
    source = IatiSource(SAMPLES / "real" / "usaid-mx.xml")
    rules = CodelistRules.load("2.03")
    assert [f for record in source.records() for f in rules.check(record)] == []
    assert source.record_count == 289
