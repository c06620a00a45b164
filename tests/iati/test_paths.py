"""Indexed paths: one spelling for every stage, right for streamed records, and selectable."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from iati.paths import RecordPaths, element_path, line_of, record_path
from iati.source import IatiSource
from tests.support.samples import sample

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
FILE = b"""<iati-activities version="2.03" xmlns:ext="http://example.org/ext">
<iati-activity>
 <iati-identifier>XM-DAC-46008-1</iati-identifier>
 <title><narrative xml:lang="es">Agua</narrative><narrative>Water</narrative></title>
 <!-- a comment -->
 <transaction><value currency="USD">1</value></transaction>
 <transaction><value currency="EUR">2</value></transaction>
 <ext:note>kept</ext:note>
 <other xmlns="http://example.org/default"/>
</iati-activity>
</iati-activities>"""


def record_of(xml: bytes) -> etree._Element:
    record = etree.fromstring(xml, PARSER).find("iati-activity")
    assert record is not None
    return record


def nodes(record: etree._Element, xpath: str) -> list[etree._Element]:
    found = record.xpath(xpath, namespaces={"ext": "http://example.org/ext"})
    assert isinstance(found, list)
    return found


def test_every_step_below_the_root_is_indexed_and_the_record_has_its_position() -> None:
    record = record_of(FILE)
    [value] = nodes(record, "transaction[2]/value")
    assert element_path(value, record, 3) == (
        "/iati-activities/iati-activity[3]/transaction[2]/value[1]"
    )
    assert element_path(record, record, 3) == "/iati-activities/iati-activity[3]"
    assert record_path("iati-activities", "iati-activity", 3) == element_path(record, record, 3)


def test_attributes_text_and_other_namespaces_have_one_spelling_each() -> None:
    record = record_of(FILE)
    paths = RecordPaths(record, 1)
    [lang] = nodes(record, "title/narrative[1]/@xml:lang")
    [currency] = nodes(record, "transaction[2]/value/@currency")
    [text] = nodes(record, "transaction[1]/value/text()")
    [note] = nodes(record, "ext:note")
    [other] = nodes(record, "*[local-name()='other']")
    [comment] = nodes(record, "comment()")
    activity = "/iati-activities/iati-activity[1]"
    assert [paths.of(node) for node in (lang, currency, text, note, other, comment)] == [
        f"{activity}/title[1]/narrative[1]/@xml:lang",
        f"{activity}/transaction[2]/value[1]/@currency",
        f"{activity}/transaction[1]/value[1]/text()",
        f"{activity}/*[local-name()='note'][1]",
        f"{activity}/*[local-name()='other'][1]",
        f"{activity}/comment()[1]",
    ]
    computed = record.xpath("string(iati-identifier)")
    assert paths.of(computed) == activity


def test_without_a_position_the_record_is_counted_in_the_tree() -> None:
    root = etree.fromstring(b"<iati-activities><iati-activity/><iati-activity/></iati-activities>")
    assert RecordPaths(root[1]).of(root[1]) == "/iati-activities/iati-activity[2]"
    assert RecordPaths(root).of(root) == "/iati-activities"


def test_every_path_in_a_real_record_selects_its_own_node() -> None:
    root = etree.parse(str(sample("real/usaid-ec.xml")), PARSER).getroot()
    for position, record in enumerate(root.iterfind("iati-activity"), start=1):
        paths = RecordPaths(record, position)
        for element in record.iter(etree.Element):
            assert root.getroottree().xpath(paths.of(element)) == [element]
        if position == 3:
            break


def test_streamed_records_are_placed_by_their_position_not_the_tree(tmp_path: Path) -> None:
    path = tmp_path / "three.xml"
    path.write_bytes(FILE.replace(b"<iati-activity>", b"<iati-activity><x/></iati-activity>"
                                  b"<iati-activity><x/></iati-activity><iati-activity>"))
    source = IatiSource(path)
    found = []
    for position, record in enumerate(source.records(), start=1):
        [value] = nodes(record, "transaction[1]/value") or [record]
        found.append((element_path(value, record, position), line_of(value)))
    assert found == [
        ("/iati-activities/iati-activity[1]", 2),
        ("/iati-activities/iati-activity[2]", 2),
        ("/iati-activities/iati-activity[3]/transaction[1]/value[1]", 6),
    ]
