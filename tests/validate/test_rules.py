"""The IATI Standard Ruleset interpreter, on the official examples and real publisher files."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from iati.artefacts import VERSIONS, ruleset_path
from iati.findings import Finding, Severity, Stage
from iati.source import IatiSource
from iati.validate.rules import RULE_TYPES, Ruleset, UniqueIdentifiers
from iati.validate.xpath import Anchors, anchors_of, required_names
from tests.support.samples import SAMPLES

SPEC = SAMPLES.parent / "rulesets" / "2.03" / "SPEC.rst"
OFFICIAL = SAMPLES / "official" / "2.03"
OFFICIAL_ACTIVITY = OFFICIAL / "activity-standard-example-annotated.xml"
OFFICIAL_ORGANISATION = OFFICIAL / "organisation-standard-example-annotated.xml"
TODAY = date(2026, 11, 27)
XML = "http://www.w3.org/XML/1998/namespace"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

Mutate = Callable[[etree._Element], object]


def record_of(path: Path) -> etree._Element:
    """The first record of `path`, still attached to its root."""
    if not path.exists():
        pytest.skip(f"reference sample {path.name} not available")
    root = etree.parse(str(path), PARSER).getroot()
    return next(child for child in root if child.tag in ("iati-activity", "iati-organisation"))


def check(record: etree._Element, ruleset: Ruleset | None = None, **options: Any) -> list[Finding]:
    ruleset = ruleset or Ruleset.load("2.03")
    return ruleset.check(record, today=options.pop("today", TODAY), activity="TEST", **options)


def codes(record: etree._Element, ruleset: Ruleset | None = None, **options: Any) -> set[str]:
    return {finding.code for finding in check(record, ruleset, **options)}


def rule_types_in(rules: dict[str, Any]) -> set[str]:
    found = set(rules)
    for rule in rules.values():
        for case in rule["cases"]:
            found |= rule_types_in(case.get("do", {}))
    return found


def one(record: etree._Element, xpath: str) -> etree._Element:
    found = record.xpath(xpath)
    assert isinstance(found, list), xpath
    assert isinstance(found[0], etree._Element), xpath
    return found[0]


# --- the rule types: every one the JSON uses and SPEC names has a checker -----------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_rule_type_of_the_ruleset_json_has_a_checker(version: str) -> None:
    document = json.loads(ruleset_path(version).read_text(encoding="utf-8"))
    used = set().union(*(rule_types_in(rules) for rules in document.values()))
    assert used - set(RULE_TYPES) == set()
    ruleset = Ruleset.load(version)
    assert {case.rule_type for case in ruleset.cases} == used


def test_every_rule_type_that_spec_names_has_a_checker() -> None:
    named = set(re.findall(r"^\*\*(\w+)\*\*/", SPEC.read_text(encoding="utf-8"), re.MULTILINE))
    assert len(named) == 18
    assert named - set(RULE_TYPES) == set()


def test_a_rule_type_spec_does_not_name_is_refused_when_loading() -> None:
    with pytest.raises(ValueError, match="no_such_rule"):
        Ruleset.from_json({"//iati-activity": {"no_such_rule": {"cases": [{}]}}}, version="x")


def test_a_case_without_the_keys_its_type_needs_is_refused_when_loading() -> None:
    with pytest.raises(ValueError, match="less"):
        Ruleset.from_json({"//iati-activity": {"date_order": {"cases": [{"more": "NOW"}]}}},
                          version="x")


def test_the_ruleset_is_compiled_once_per_version() -> None:
    assert Ruleset.load("2.03") is Ruleset.load("2.03")
    assert len(Ruleset.load("2.03").cases) == 118  # 107 cases with ruleInfo + 11 loops


@pytest.mark.parametrize("version", VERSIONS)
def test_ruleset_messages_have_no_placeholders_to_fill(version: str) -> None:
    # The validator's CSV writes "The {$identifier} should…"; the ruleset JSON never does.
    messages = [case.info.message for case in Ruleset.load(version).cases]
    assert not [message for message in messages if "{" in message or "$" in message]


# --- the official examples --------------------------------------------------------------


def test_official_activity_example_breaks_only_rules_it_breaks_on_purpose() -> None:
    findings = check(record_of(OFFICIAL_ACTIVITY))
    by_code = sorted((finding.code, finding.severity) for finding in findings)
    # The example shows every element, so it declares sectors and recipient countries at both
    # activity and transaction level (6.6.2, 3.6.2), a reference at both result and indicator
    # level (8.11.1), a vocabulary-99 policy marker with no narrative (6.13.1), and regions in
    # two vocabularies that each add up to 75% with the countries (3.4.2, once per vocabulary).
    # Its made-up identifier AA-AAA-… has no registration agency (1.14.8) and it has no
    # OECD DAC sector (102.1.1).
    assert by_code == [
        ("1.14.8", Severity.WARNING),
        ("102.1.1", Severity.WARNING),
        ("3.4.2", Severity.ERROR),
        ("3.4.2", Severity.ERROR),
        ("3.6.2", Severity.ERROR),
        ("6.13.1", Severity.ERROR),
        ("6.6.2", Severity.ERROR),
        ("8.11.1", Severity.ERROR),
    ]
    assert {finding.actual for finding in findings if finding.code == "3.4.2"} == {"75"}


def test_official_organisation_example_only_lacks_a_known_agency() -> None:
    assert codes(record_of(OFFICIAL_ORGANISATION)) == {"1.18.8"}


@pytest.mark.parametrize("version", VERSIONS)
def test_older_rulesets_run_on_their_own_official_examples(version: str) -> None:
    for kind in ("activity", "organisation"):
        path = SAMPLES / "official" / version / f"{kind}-standard-example-annotated.xml"
        findings = check(record_of(path), Ruleset.load(version))
        assert all(finding.stage is Stage.RULESET for finding in findings)
        assert {"1.14.8", "1.18.8"} & {finding.code for finding in findings}


def test_a_finding_says_where_and_what() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    identifier = one(record, "iati-identifier")
    identifier.text = " AA-AAA-123456789-ABC123"
    [finding] = [f for f in check(record) if f.code == "1.3.1"]
    assert finding == Finding(
        code="1.3.1", severity=Severity.WARNING, stage=Stage.RULESET, category="identifiers",
        message="The iati-identifier should not start or end with spaces or newlines.",
        xpath="/iati-activities/iati-activity[1]/iati-identifier[1]", line=identifier.sourceline,
        activity="TEST", actual=" AA-AAA-123456789-ABC123",
    )
    [placed] = [f for f in check(record, position=7) if f.code == "1.3.1"]
    assert placed.xpath == "/iati-activities/iati-activity[7]/iati-identifier[1]"


# --- one targeted change per rule type --------------------------------------------------


def set_attribute(xpath: str, name: str, value: str) -> Mutate:
    return lambda record: one(record, xpath).set(name, value)


def remove(xpath: str) -> Mutate:
    def mutate(record: etree._Element) -> None:
        for element in record.xpath(xpath):
            element.getparent().remove(element)
    return mutate


def add_sector(*percentages: str) -> Mutate:
    def mutate(record: etree._Element) -> None:
        for number, percentage in enumerate(percentages):
            sector = etree.SubElement(record, "sector", code=f"1115{number}", vocabulary="1")
            sector.set("percentage", percentage)
    return mutate


def repeat(xpath: str, change: Mutate = lambda element: None) -> Mutate:
    def mutate(record: etree._Element) -> None:
        original = one(record, xpath)
        twin = copy.deepcopy(original)
        change(twin)
        original.addnext(twin)
    return mutate


def spec_only(rule_type: str, case: dict[str, Any]) -> Ruleset:
    """A one-case ruleset, for the rule types SPEC names but standard.json does not use."""
    info = {"id": f"T.{rule_type}", "severity": "error", "category": "test", "message": "m"}
    rules = {rule_type: {"cases": [case | {"ruleInfo": info}]}}
    document = {"/iati-activities/iati-activity": rules}
    return Ruleset.from_json(document, version="test")


@dataclass(frozen=True)
class Breach:
    """Changing an official example with `mutate` makes it break rule `code`."""

    rule_type: str
    code: str
    mutate: Mutate
    actual: str | None = None
    ruleset: Ruleset | None = None
    example: Path = OFFICIAL_ACTIVITY


def set_text(xpath: str, text: str) -> Mutate:
    return lambda record: setattr(one(record, xpath), "text", text)


def drop_attribute(xpath: str, name: str) -> Mutate:
    return lambda record: one(record, xpath).attrib.pop(name)


BREACHES = [
    Breach("unique", "1.1.3", set_text("iati-identifier", "AA-AAA-123456789"),
           actual="AA-AAA-123456789"),
    Breach("startswith", "1.1.21", set_text("iati-identifier", "ZZ-ZZZ-1-ABC123"),
           actual="ZZ-ZZZ-1-ABC123"),
    Breach("atleast_one", "6.11.1", remove("activity-date[@type='1' or @type='2']")),
    Breach("one_or_all", "4.1.1", drop_attribute(".", f"{{{XML}}}lang")),
    Breach("one_or_all", "7.8.1", lambda record: (
        drop_attribute(".", "default-currency")(record),
        drop_attribute("budget/value", "currency")(record),
    )),
    Breach("date_now", "11.1.1",
           set_attribute(".", "last-updated-datetime", "2026-11-28T00:00:00Z"),
           actual="2026-11-28T00:00:00Z"),
    Breach("date_order", "11.1.2",
           set_attribute("activity-date[@type='3']", "iso-date", "2012-04-14"),
           actual="2012-04-15"),
    Breach("date_order", "11.2.1",  # the second transaction is checked, not only the first
           repeat("transaction", set_attribute("transaction-date", "iso-date", "2027-01-01")),
           actual="2027-01-01"),
    Breach("between_dates", "11.3.1",
           set_attribute("recipient-country-budget/budget-line/value", "value-date",
                         "2015-01-01"),
           actual="2015-01-01", example=OFFICIAL_ORGANISATION),
    Breach("regex_matches", "1.3.13", set_text("iati-identifier", "AA-AAA-123456789-ABC/1"),
           actual="AA-AAA-123456789-ABC/1"),
    Breach("no_spaces", "1.14.1", set_attribute("reporting-org", "ref", "AA-AAA-123456789\n"),
           actual="AA-AAA-123456789\n"),
    Breach("loop", "2.1.1", drop_attribute("sector[@code='112']", "percentage")),
    Breach("strict_sum", "2.1.2", add_sector("60", "50.5"), actual="110.5"),
    Breach("range", "12.3.1", set_attribute("sector[@code='111']", "percentage", "150"),
           actual="150"),
    Breach("if_then", "8.8.2", set_attribute("result/indicator/baseline", "value", "ten"),
           actual="ten"),
    Breach("no_more_than_one", "107.1.2", repeat("default-aid-type[@vocabulary='1']")),
    Breach("time_limit", "7.5.3", set_attribute("budget/period-end", "iso-date", "2015-01-02"),
           actual="2014-01-01/2015-01-02"),
    Breach("only_one_of", "T.only_one_of", repeat("capital-spend"),
           ruleset=spec_only("only_one_of", {"paths": ["capital-spend"],
                                             "excluded": ["crs-add/nothing"]})),
    Breach("dependent", "T.dependent", remove("activity-date[@type='3']"),
           actual="activity-date[@type='3']",
           ruleset=spec_only("dependent", {"paths": ["activity-date[@type='1']",
                                                     "activity-date[@type='3']"]})),
    Breach("sum", "T.sum", set_attribute("capital-spend", "percentage", "80"), actual="80",
           ruleset=spec_only("sum", {"paths": ["capital-spend/@percentage"], "sum": 88.8})),
    Breach("regex_no_matches", "T.regex_no_matches",
           set_text("iati-identifier", "AA-AAA-123456789-ABC 1"), actual="AA-AAA-123456789-ABC 1",
           ruleset=spec_only("regex_no_matches", {"paths": ["iati-identifier"], "regex": "\\s"})),
]


def test_every_rule_type_has_a_targeted_breach() -> None:
    assert {breach.rule_type for breach in BREACHES} == set(RULE_TYPES)


@pytest.mark.parametrize("breach", BREACHES, ids=lambda breach: f"{breach.rule_type}-{breach.code}")
def test_a_targeted_change_breaks_exactly_its_rule(breach: Breach) -> None:
    record = record_of(breach.example)
    assert breach.code not in codes(record, breach.ruleset)
    breach.mutate(record)
    found = [finding for finding in check(record, breach.ruleset) if finding.code == breach.code]
    assert len(found) == 1
    assert found[0].actual == breach.actual
    assert found[0].line is not None


# --- how values, dates and loops are read -------------------------------------------------


def test_percentages_add_up_with_decimals_and_the_validators_rounding() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    add_sector("33.333333", "33.333333", "33.333334")(record)
    assert "2.1.2" not in codes(record)
    thirds = record_of(OFFICIAL_ACTIVITY)
    add_sector("33.33", "33.33", "33.33")(thirds)
    assert [f.actual for f in check(thirds) if f.code == "2.1.2"] == ["99.99"]


def test_a_percentage_that_is_not_a_number_is_left_to_the_schema_stage() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    add_sector("fifty", "50")(record)
    one(record, "sector[@code='111']").set("percentage", "lots")
    assert {"2.1.2", "12.3.1"} & codes(record) == set()


def test_sum_passes_when_nothing_matches_but_strict_sum_does_not() -> None:
    case = {"paths": ["sector[@vocabulary='7']/@percentage"], "sum": 100}
    record = record_of(OFFICIAL_ACTIVITY)
    assert codes(record, spec_only("sum", case)) == set()
    assert codes(record, spec_only("strict_sum", case)) == {"T.strict_sum"}


def test_dates_with_timezones_and_times_are_compared_by_calendar_date() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    one(record, "activity-date[@type='1']").set("iso-date", "2013-01-01+00:00")
    one(record, "activity-date[@type='3']").set("iso-date", "2012-12-31Z")
    assert "11.1.2" in codes(record)
    one(record, "activity-date[@type='3']").set("iso-date", "2013-01-01T00:00:00-05:00")
    assert "11.1.2" not in codes(record)


@pytest.mark.parametrize("bad_date", ["2012-02-30", "15/04/2012", "", "2012-04"])
def test_an_unreadable_date_skips_the_rule_instead_of_failing(bad_date: str) -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    one(record, "activity-date[@type='3']").set("iso-date", bad_date)
    one(record, "budget/period-start").set("iso-date", bad_date)
    one(record, ".").set("last-updated-datetime", bad_date)
    assert {"11.1.1", "11.1.2", "7.5.3", "8.6.3"} & codes(record) == set()


def test_now_is_the_date_of_the_check_not_the_clock() -> None:
    record = record_of(OFFICIAL_ACTIVITY)  # actual start 2012-04-28, last updated 2014-09-10
    assert {"11.1.1", "11.1.4"} <= codes(record, today=date(2012, 1, 1))
    assert {"11.1.1", "11.1.4"} & codes(record, today=date(2014, 9, 10)) == set()


def test_a_loop_substitutes_only_the_keys_named_in_its_subs() -> None:
    # SPEC: `subs` lists the keys that take the loop value. The 2.1.2 loop names only
    # `paths`, so its `condition` keeps a literal '$1' and never holds: a non-DAC vocabulary
    # whose percentages miss 100 goes unreported, as it does in the official validator.
    record = record_of(OFFICIAL_ACTIVITY)
    one(record, "sector[@code='111']").set("percentage", "40")
    assert "2.1.2" not in codes(record)
    assert "2.1.2" in codes(record, spec_only("loop", {
        "foreach": "sector/@vocabulary",
        "subs": ["paths", "condition"],
        "do": {"strict_sum": {"cases": [{
            "condition": "count(sector[@vocabulary = '$1']) > 1",
            "paths": ["sector[@vocabulary = '$1']/@percentage"], "sum": 100,
            "ruleInfo": {"id": "2.1.2", "severity": "error", "message": "m"},
        }]}},
    }))


def test_a_loop_value_with_a_quote_cannot_break_the_xpath() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    for sector in record.xpath("sector[@vocabulary='2']"):
        sector.set("vocabulary", "it's")
    one(record, "sector[@code='112']").attrib.pop("percentage")
    assert "2.1.1" in codes(record)


# --- identifiers and the Registry ---------------------------------------------------------


def test_an_identifier_from_a_registration_agency_passes_the_prefix_rule() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    one(record, "reporting-org").set("ref", "XM-DAC-41114")
    one(record, "iati-identifier").text = "XM-DAC-41114-ABC123"
    assert {"1.14.8", "1.1.21"} & codes(record) == set()


def test_registered_publishers_are_exempt_from_the_identifier_rules() -> None:
    record = record_of(OFFICIAL_ACTIVITY)
    one(record, "iati-identifier").text = "AA-AAA-123456789-ABC/123"
    assert {"1.14.8", "1.3.13"} <= codes(record)
    exempt = codes(record, registered_org_ids={"AA-AAA-123456789"})
    assert {"1.14.8", "1.3.13"} & exempt == set()


def test_rule_1_1_2_reports_each_repeated_activity_identifier() -> None:
    path = SAMPLES / "invalid" / "iati-dup-activity-ids.xml"
    unique, found, lines = UniqueIdentifiers(), [], []
    for record in IatiSource(path).records():
        lines.append(record.sourceline)
        finding = unique.see(record.findtext("iati-identifier") or "", record.sourceline)
        found.extend([finding] if finding else [])
    assert [(f.code, f.severity, f.category, f.actual) for f in found] == [
        ("1.1.2", Severity.ERROR, "identifiers", "AA-AAA-123456789-ABC123"),
    ]
    assert found[0].line == lines[1]
    assert found[0].message.endswith(f"first appears at line {lines[0]}.")


def test_unique_identifiers_ignore_surrounding_spaces_and_count_missing_ones_as_one() -> None:
    """As in the official validator, activities without an identifier repeat one another."""
    unique = UniqueIdentifiers()
    assert unique.see("XM-DAC-1-A", 3) is None
    assert unique.see("", 9) is None
    missing_again = unique.see("  ", 10)
    assert missing_again is not None
    assert missing_again.line == 10
    assert unique.see(None, 12) is not None
    assert unique.times(None) == 3
    assert unique.see("XM-DAC-1-B", 11) is None
    repeat_finding = unique.see(" XM-DAC-1-A\n", 20)
    assert repeat_finding is not None
    assert repeat_finding.line == 20
    assert unique.times("XM-DAC-1-A") == 2


# --- contexts, other versions, and real files ---------------------------------------------


def test_only_the_given_record_is_checked_not_its_neighbours() -> None:
    root = etree.parse(str(SAMPLES / "invalid" / "iati-dup-activity-ids.xml"), PARSER).getroot()
    first, second = root.findall("iati-activity")
    second.find("iati-identifier").text = " spaced "  # type: ignore[union-attr]
    assert "1.3.1" not in codes(first)
    assert [f.xpath for f in check(second) if f.code == "1.3.1"] == [
        "/iati-activities/iati-activity[2]/iati-identifier[1]",
    ]


def test_camel_case_rule_names_and_cases_without_rule_info_are_understood() -> None:
    document = {"//iati-activity": {"atLeastOne": {"cases": [{"paths": ["no-such-element"]}]}}}
    [finding] = check(record_of(OFFICIAL_ACTIVITY), Ruleset.from_json(document, version="x"))
    assert (finding.code, finding.severity, finding.category) == (
        "ruleset.rule", Severity.ERROR, None,
    )
    assert "no-such-element" in finding.message


def real_files() -> list[Path]:
    return sorted([*(SAMPLES / "real").glob("*.xml"), *(SAMPLES / "organisation").glob("*.xml")])


@pytest.mark.parametrize("path", real_files(), ids=lambda path: path.name)
def test_every_real_file_is_checked_without_exceptions(path: Path) -> None:
    source = IatiSource(path)
    findings: list[Finding] = []
    for position, record in enumerate(source.records(), start=1):
        assert source.root is not None
        version = source.root.version if source.root.version in VERSIONS else "2.03"
        findings += check(record, Ruleset.load(version), position=position)
    assert source.root is not None
    assert source.record_count > 0
    for finding in findings:
        assert finding.stage is Stage.RULESET
        assert finding.line is not None
        assert (finding.xpath or "").startswith(f"/{source.root.tag}/")


# --- what the interpreter reads from an XPath to skip work --------------------------------


@pytest.mark.parametrize(("expression", "elements", "attributes"), [
    ("sector[@vocabulary = '1']/@percentage", {"sector"}, set()),
    ("count(recipient-country) > 1 and not(recipient-region)",
     {"recipient-country", "recipient-region"}, set()),
    ("not(transaction[not(recipient-country)])", {"transaction"}, set()),
    ("number(@value) = @value", set(), {"value"}),
    ("@xml:lang", set(), {f"{{{XML}}}lang"}),
    ("descendant::value | descendant::forecast", {"value", "forecast"}, set()),
    ("narrative/text()", {"narrative"}, set()),
    ("true()", set(), set()),
])
def test_anchors_are_where_an_expressions_paths_start(
    expression: str, elements: set[str], attributes: set[str]
) -> None:
    assert anchors_of(expression) == Anchors(frozenset(elements), frozenset(attributes))


@pytest.mark.parametrize("expression", [
    "../reference[1]", "text()", "string()", "*", ".", "/iati-activities", "//title",
    "parent::result", "lang('en')", "position() = 1", "ns:element", "$1",
    "count(sector[@vocabulary = $foreach]) = 1",
])
def test_an_expression_that_may_read_more_than_its_anchors_has_none(expression: str) -> None:
    assert anchors_of(expression) is None


def test_a_context_requires_the_names_of_its_steps_below_the_root() -> None:
    assert required_names(
        "/iati-activities/iati-activity/transaction/provider-org"
        " | /iati-activities/iati-activity/planned-disbursement/provider-org"
    ) == (frozenset({"iati-activity", "transaction", "provider-org"}),
          frozenset({"iati-activity", "planned-disbursement", "provider-org"}))
    assert required_names("//title") == (frozenset({"title"}),)
    assert required_names("/iati-activities/iati-activity[@x='a/b']/result[1]") == (
        frozenset({"iati-activity", "result"}),
    )
    assert required_names("/iati-activities/iati-activity/*") is None


def test_one_bad_organisation_among_good_ones_is_found_where_it_is() -> None:
    # Organisations are first tested all at once; the case then runs on each of them.
    record = record_of(OFFICIAL_ACTIVITY)
    organisations = record.findall("participating-org")
    organisations[1].set("ref", "AA-AAA/123")
    organisations[2].attrib.pop("ref")
    for narrative in organisations[2].findall("narrative"):
        organisations[2].remove(narrative)
    found = [(f.code, f.xpath) for f in check(record) if f.code in ("1.8.13", "6.10.1")]
    assert found == [
        ("1.8.13", "/iati-activities/iati-activity[1]/participating-org[2]/@ref"),
        ("6.10.1", "/iati-activities/iati-activity[1]/participating-org[3]"),
    ]


def test_a_case_with_an_expression_that_cannot_be_read_ahead_still_runs() -> None:
    ruleset = spec_only("atleast_one", {"paths": ["*[self::no-such-element]"]})
    assert codes(record_of(OFFICIAL_ACTIVITY), ruleset) == {"T.atleast_one"}
