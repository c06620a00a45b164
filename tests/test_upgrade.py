"""Tests of the IATI 1.0x → 2.03 record upgrade on real legacy files and targeted records."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from iati.artefacts import schema_path
from iati.findings import Finding, Severity
from iati.source import IatiSource
from iati.upgrade import looks_like_1x, upgrade_record
from iati.upgrade.outline import Outline, activity_outline
from tests.support.samples import SAMPLES

LEGACY = SAMPLES / "legacy-1x"
OLD_103 = SAMPLES / "invalid" / "iati-act-no-errors-old-version-1.03.xml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Upper bound of (XSD errors after) / (XSD errors before), per file. The two published 1.0x
# files drop by more than 90%. The others are pre-1.01 drafts (IATI-Schemas test data of
# 2010): what remains there is draft vocabulary IATI never published an upgrade for (kept,
# each with a finding) and required 2.03 data the records do not have (left absent).
FILES = {
    LEGACY / "dfid-cd-1.01.xml": 0.1,
    LEGACY / "sida-same_orgs_different_roles-1.00.xml": 0.01,
    LEGACY / "ocha-test-data.xml": 0.15,
    LEGACY / "worldbank-1.0.xml": 0.3,
    LEGACY / "undp-sample.xml": 0.5,
    LEGACY / "dfid-sample.xml": 0.7,
    OLD_103: 0.0,
}
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities"))))


def _writer_order(element: etree._Element, outline: Outline | None) -> None:
    """Put children in 2.03 schema order, as the model-based writer does; extensions after
    them, then unknown elements (kept in place by the reader, so they must go somewhere)."""

    def rank(child: etree._Element) -> tuple[int, int]:
        tag = str(child.tag)
        if tag.startswith("{"):
            return (1, 0)
        if outline is not None and outline.child(tag) is not None:
            return (0, outline.position(tag))
        return (2, 0)

    children = [child for child in element if isinstance(child.tag, str)]
    for child in children:
        element.remove(child)
    for child in sorted(children, key=rank):
        element.append(child)
        if outline is not None and not str(child.tag).startswith("{"):
            _writer_order(child, outline.child(str(child.tag)))


def _validated(
    record: etree._Element, *, stand_in: bool = False
) -> tuple[list[etree._LogEntry], etree._Element]:
    """XSD errors of a copy of `record`, written in schema order inside a 2.03 root.

    libxml2 gives up on an element's children at the first one out of place, so a record
    without iati-identifier hides every other error. To count like with like, `stand_in`
    gives such copies (before and after the upgrade alike) a placeholder identifier.
    """
    written = copy.deepcopy(record)
    if stand_in and written.find("iati-identifier") is None:
        etree.SubElement(written, "iati-identifier").text = "STAND-IN"
    _writer_order(written, activity_outline())
    root = etree.Element("iati-activities", version="2.03")
    root.append(written)
    schema = _schema()
    schema.validate(root)
    return list(schema.error_log), root


def _explained(error: etree._LogEntry, root: etree._Element, findings: list[Finding]) -> bool:
    """True if one of the upgrade's warnings or errors accounts for this XSD error."""
    if error.line in {f.line for f in findings if f.severity.rank >= Severity.WARNING.rank}:
        return True
    expected = _EXPECTED.search(error.message)
    if expected is None or not error.path:
        return False
    node = root.xpath(error.path)[0]
    parent = node if "Missing child" in error.message else node.getparent()
    missing = {(f.line, (f.xpath or "").rsplit("/", 1)[-1]) for f in findings
               if f.code == "upgrade.missing-required"}
    return any((parent.sourceline, name.strip()) in missing
               for name in expected.group(1).split(","))


@dataclass
class FileResult:
    before: int = 0
    after: int = 0
    unexplained: list[str] | None = None


def _upgrade_file(path: Path) -> FileResult:
    source = IatiSource(path)
    result = FileResult(unexplained=[])
    for record in source.records():
        assert source.root is not None
        result.before += len(_validated(record, stand_in=True)[0])
        findings = upgrade_record(record, from_version=source.root.version,
                                  activity=record.findtext("iati-identifier"))
        result.after += len(_validated(record, stand_in=True)[0])
        errors, root = _validated(record)
        result.unexplained += [
            f"line {error.line}: {error.message}" for error in errors
            if not _explained(error, root, findings)
        ]
    return result


@pytest.mark.parametrize("path", list(FILES), ids=lambda path: path.name)
def test_legacy_file_upgrade_leaves_only_explained_schema_errors(path: Path) -> None:
    result = _upgrade_file(path)

    assert result.after <= FILES[path] * result.before
    assert result.unexplained == []


def _record(path: Path, index: int = 0) -> tuple[etree._Element, str | None]:
    """A detached copy of record `index` of `path` (lines kept), with the file's version."""
    source = IatiSource(path)
    for position, record in enumerate(source.records()):
        if position == index:
            assert source.root is not None
            return copy.deepcopy(record), source.root.version
    raise AssertionError(f"{path.name} has no record {index}")


def _by_code(findings: list[Finding], code: str) -> list[Finding]:
    return [finding for finding in findings if finding.code == code]


def test_title_text_becomes_a_narrative_that_carries_the_language() -> None:
    record, version = _record(LEGACY / "sida-same_orgs_different_roles-1.00.xml")
    title_line = record.find("title").sourceline

    findings = upgrade_record(record, from_version=version, activity="SE-6-5204017401-189ANO-72010")

    title = record.find("title")
    assert title.text is None
    assert title.get(XML_LANG) is None
    assert [(n.text, n.get(XML_LANG)) for n in title] == [("ICRC Appeal 2010", "en")]
    narrative = [f for f in _by_code(findings, "upgrade.narrative") if f.xpath.endswith("/title")]
    assert [(f.line, f.activity) for f in narrative] == [
        (title_line, "SE-6-5204017401-189ANO-72010")
    ]


def test_participating_org_role_text_codes_become_numbers() -> None:
    record, version = _record(LEGACY / "sida-same_orgs_different_roles-1.00.xml")
    lines = [org.sourceline for org in record.iterfind("participating-org")]

    findings = upgrade_record(record, from_version=version)

    assert [org.get("role") for org in record.iterfind("participating-org")] == ["3", "1", "4", "2"]
    roles = [f for f in _by_code(findings, "upgrade.code") if f.xpath.endswith("/@role")]
    assert [(f.actual, f.line) for f in roles] == list(
        zip(["Extending", "Funding", "Implementing", "Accountable"], lines, strict=True)
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [("IF", "1"), ("C", "2"), ("D", "3"), ("E", "4"), ("IR", "5"), ("LR", "6"), ("R", "7"),
     ("QP", "8"), ("QS", "9"), ("CG", "10")],
)
def test_transaction_type_codes_become_numbers(old: str, new: str) -> None:
    record = etree.fromstring(
        f'<iati-activity><transaction>\n<transaction-type code="{old}">Label</transaction-type>'
        "\n</transaction></iati-activity>"
    )

    findings = upgrade_record(record, from_version="1.05")

    transaction_type = record.find("transaction/transaction-type")
    assert transaction_type.get("code") == new
    assert transaction_type.text is None
    code = _by_code(findings, "upgrade.code")
    assert [(f.actual, f.message, f.line) for f in code] == [
        (old, f"Code {old} was replaced by its 2.03 code {new}.", 2)
    ]
    removed = _by_code(findings, "upgrade.removed")
    assert [(f.line, f.actual) for f in removed] == [(2, "transaction-type text 'Label'")]


def test_real_disbursement_code_and_its_label() -> None:
    record, version = _record(LEGACY / "sida-same_orgs_different_roles-1.00.xml")

    upgrade_record(record, from_version=version)

    assert etree.tostring(record.find("transaction/transaction-type"), with_tail=False) == (
        b'<transaction-type code="3"/>'
    )


def test_activity_date_text_becomes_iso_date_and_type_a_number() -> None:
    record, version = _record(LEGACY / "dfid-cd-1.01.xml")
    lines = [date.sourceline for date in record.iterfind("activity-date")]

    findings = upgrade_record(record, from_version=version)

    dates = [(d.get("type"), d.get("iso-date"), d.text) for d in record.iterfind("activity-date")]
    assert dates == [("4", "2010-12-31", None), ("3", "2010-12-31", None),
                     ("2", "2004-01-01", None), ("1", "2004-01-01", None)]
    renamed = [f for f in _by_code(findings, "upgrade.renamed") if "activity-date" in f.message]
    assert [f.line for f in renamed] == lines


LOCATION_103 = b"""<iati-activity xmlns:ext="http://example.org/ext">
  <location percentage="100">
    <name xml:lang="en">Herat</name>
    <coordinates latitude="34.3419444" longitude="62.2030556" precision="2"/>
    <gazetteer-entry gazetteer-ref="GEO">1140026</gazetteer-entry>
    <location-type code="PPL">Populated place</location-type>
    <administrative country="AF" adm1="Herat">Afghanistan, Herat, Injil</administrative>
  </location>
  <ext:note>kept</ext:note>
  <total-cost currency="USD">10</total-cost>
</iati-activity>"""


def test_coordinates_become_point_pos_in_wgs84() -> None:
    record = etree.fromstring(LOCATION_103)

    findings = upgrade_record(record, from_version="1.03")

    point = record.find("location/point")
    assert point.get("srsName") == "http://www.opengis.net/def/crs/EPSG/0/4326"
    assert point.findtext("pos") == "34.3419444 62.2030556"
    assert record.find("location/coordinates") is None
    renamed = [f for f in _by_code(findings, "upgrade.renamed") if "coordinates" in f.message]
    assert [(f.line, f.xpath) for f in renamed] == [
        (4, "/iati-activities/iati-activity/location/coordinates")
    ]
    precision = [f for f in _by_code(findings, "upgrade.removed") if "precision" in f.message]
    assert [(f.line, f.actual) for f in precision] == [
        (4, "location/coordinates/@precision='2'")
    ]


def test_gazetteer_location_type_and_administrative_take_their_2_03_shape() -> None:
    record = etree.fromstring(LOCATION_103)

    findings = upgrade_record(record, from_version="1.03")

    location = record.find("location")
    assert location.get("percentage") is None
    assert location.find("location-id").attrib == {"vocabulary": "G1", "code": "1140026"}
    designation = location.find("feature-designation")
    assert designation.attrib == {"code": "PPL"}
    assert designation.text is None
    assert location.find("administrative").attrib == {"vocabulary": "A4", "code": "AF"}
    assert location.find("name/narrative").get(XML_LANG) == "en"
    removed = {(f.line, f.actual) for f in _by_code(findings, "upgrade.removed")}
    assert {(2, "location/@percentage='100'"), (7, "location/administrative/@adm1='Herat'"),
            (7, "administrative text 'Afghanistan, Herat, Injil'"),
            (6, "feature-designation text 'Populated place'")} <= removed


def test_extension_and_unknown_elements_are_kept_and_unknown_ones_reported() -> None:
    record = etree.fromstring(LOCATION_103)

    findings = upgrade_record(record, from_version="1.03")

    assert record.findtext("{http://example.org/ext}note") == "kept"
    assert record.find("total-cost").attrib == {"currency": "USD"}
    assert record.findtext("total-cost") == "10"
    unsafe = {f.line: f.xpath for f in _by_code(findings, "upgrade.kept-unknown")}
    assert unsafe[10] == "/iati-activities/iati-activity/total-cost"
    assert 9 not in unsafe  # an extension element is allowed at the end of iati-activity


def test_required_elements_are_reported_but_never_invented() -> None:
    record, version = _record(LEGACY / "ocha-test-data.xml")

    findings = upgrade_record(record, from_version=version)

    assert record.find("activity-status") is None
    assert record.find("iati-identifier") is None
    missing = {
        f.xpath for f in _by_code(findings, "upgrade.missing-required")
        if f.line == record.sourceline
    }
    assert {"/iati-activities/iati-activity/iati-identifier",
            "/iati-activities/iati-activity/activity-status"} <= missing
    type_missing = [f for f in findings if f.xpath.endswith("reporting-org/@type")]
    assert [f.code for f in type_missing] == ["upgrade.missing-required"]


def test_activity_website_becomes_a_web_page_document_link() -> None:
    record, version = _record(LEGACY / "worldbank-1.0.xml")

    findings = upgrade_record(record, from_version=version)

    link = record.find("document-link")
    assert link.get("url", "").endswith("Projectid=P084404")
    assert link.find("category").get("code") == "A12"
    assert link.get("format") is None  # not derivable: reported, not invented
    assert any(f.xpath.endswith("activity-website/@format") for f in findings)


def test_other_identifier_is_rebuilt_with_owner_org() -> None:
    record, version = _record(LEGACY / "dfid-cd-1.01.xml")

    findings = upgrade_record(record, from_version=version)

    assert etree.tostring(record.find("other-identifier"), with_tail=False) == (
        b'<other-identifier ref="105838" type="A1"><owner-org ref="GB-1">'
        b"<narrative>DFID</narrative></owner-org></other-identifier>"
    )
    derived = [f for f in findings if f.code == "upgrade.derived"]
    assert derived[0].xpath.endswith("other-identifier/@type")
    assert "A1" in derived[0].message


def test_per_language_titles_merge_into_one_title() -> None:
    record = etree.fromstring(
        b'<iati-activity><title xml:lang="en">Water</title>\n<title xml:lang="fr">Eau</title>'
        b"</iati-activity>"
    )

    findings = upgrade_record(record, from_version="1.04")

    assert [(n.text, n.get(XML_LANG)) for n in record.iterfind("title/narrative")] == [
        ("Water", "en"), ("Eau", "fr")
    ]
    merged = [f for f in _by_code(findings, "upgrade.renamed") if f.line == 2]
    assert [f.actual for f in merged] == ["/iati-activities/iati-activity/title[2]"]


def test_version_attribute_moves_to_the_root() -> None:
    record, version = _record(LEGACY / "sida-same_orgs_different_roles-1.00.xml")

    findings = upgrade_record(record, from_version=version)

    assert record.get("version") is None
    moved = [f for f in findings if f.xpath.endswith("iati-activity/@version")]
    assert [(f.code, f.actual, f.line) for f in moved] == [
        ("upgrade.renamed", "iati-activity/@version='1.00'", record.sourceline)
    ]


def test_a_2_x_shaped_record_is_left_as_it_is() -> None:
    record, version = _record(OLD_103)
    before = etree.tostring(record)

    findings = upgrade_record(record, from_version=version)

    assert etree.tostring(record) == before
    assert findings == []


def _records(path: Path) -> Iterator[etree._Element]:
    yield from IatiSource(path).records()


@pytest.mark.parametrize("name", ["ocha-test-data.xml", "dfid-sample.xml", "undp-sample.xml"])
def test_version_less_1_x_records_are_recognised(name: str) -> None:
    assert all(looks_like_1x(record) for record in _records(LEGACY / name))


@pytest.mark.parametrize(
    "path", [OLD_103, SAMPLES / "real" / "usaid-bo.xml"], ids=lambda path: path.name
)
def test_2_x_records_are_not_taken_for_1_x(path: Path) -> None:
    assert not any(looks_like_1x(record) for record in _records(path))


def test_structure_alone_tells_1_x_from_2_x_in_a_mixed_download() -> None:
    # d-portal writes each activity's own version on it; hide it and judge the structure.
    judged = []
    for record in _records(SAMPLES / "real" / "dportal-download-mixed-activities.xml"):
        declared = record.attrib.pop("version")
        judged.append((declared[0], looks_like_1x(record)))

    assert {(major, is_1x) for major, is_1x in judged} == {("1", True), ("2", False)}


def test_every_finding_points_at_an_original_line() -> None:
    record, version = _record(LEGACY / "dfid-cd-1.01.xml", index=3)
    first, last = record.sourceline, max(e.sourceline for e in record.iter())

    findings = upgrade_record(record, from_version=version)

    assert findings
    assert all(first <= f.line <= last for f in findings)


def test_only_activities_can_be_upgraded() -> None:
    with pytest.raises(ValueError, match="iati-activity"):
        upgrade_record(etree.fromstring(b"<iati-organisation/>"), from_version="1.03")
