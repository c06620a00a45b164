"""Reading: hardened against hostile input, coded errors, and the documented non-exact cases."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from iati.elements.activity import Activity
from iati.errors import IatiInputError
from iati.reader import read_activities, read_activity
from iati.writer import to_bytes
from tests.support.samples import sample

ACTIVITY = b"""<iati-activities version="2.03"><iati-activity>
<iati-identifier>XM-DAC-46008-1</iati-identifier>
<reporting-org ref="XM-DAC-46008" type="40"><narrative>CAF</narrative></reporting-org>
<title><narrative xml:lang="es">Agua</narrative><narrative xml:lang="en">Water</narrative></title>
%s
</iati-activity></iati-activities>"""


def activity(body: bytes = b"") -> bytes:
    return ACTIVITY.replace(b"%s", body)


def read_all(xml: bytes) -> list[Activity]:
    return [record.model for record in read_activities(xml)]


def error_code(xml: bytes, **options: object) -> str:
    with pytest.raises(IatiInputError) as caught:
        list(read_activities(xml, **options))
    return caught.value.code


# -- hostile and non-IATI input ---------------------------------------------------------


def test_a_doctype_is_refused_before_any_entity_is_expanded() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
    <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
    <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
    <iati-activities version="2.03"><iati-activity><iati-identifier>&lol3;</iati-identifier>
    </iati-activity></iati-activities>"""
    assert error_code(laughs) == "input.dtd-forbidden"


def test_an_external_entity_is_never_fetched_or_read() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
    <iati-activities version="2.03"><iati-activity><iati-identifier>&secret;</iati-identifier>
    </iati-activity></iati-activities>"""
    assert error_code(xxe) == "input.dtd-forbidden"


def test_excessive_depth_is_refused_within_the_safety_limits() -> None:
    deep = b"<iati-activities version='2.03'><iati-activity>" + b"<a>" * 5000 + b"</a>" * 5000
    assert error_code(deep + b"</iati-activity></iati-activities>") == "input.too-large"


def test_a_record_as_the_root_is_not_an_iati_file() -> None:
    assert error_code(b"<iati-activity><iati-identifier>x</iati-identifier></iati-activity>") == (
        "input.not-iati"
    )


def test_records_nested_in_records_or_extensions_are_not_read_as_records() -> None:
    xml = b"""<iati-activities version="2.03"><iati-activity>
    <iati-identifier>outer</iati-identifier>
    <iati-activity><iati-identifier>inner</iati-identifier></iati-activity></iati-activity>
    <x:archive xmlns:x="http://example.org/x"><iati-activity/></x:archive></iati-activities>"""
    reader = read_activities(xml)
    [record] = list(reader)
    assert record.identifier == "outer"
    assert [f.code for f in record.findings] == ["read.unexpected-element"]
    assert b"<iati-identifier>inner</iati-identifier>" in to_bytes([record.model])
    assert [extra.position for extra in reader.stream.extras] == [1]


def test_input_over_the_byte_limit_is_refused() -> None:
    big = activity(b"<description><narrative>" + b"x" * 100_000 + b"</narrative></description>")
    assert error_code(big, max_bytes=50_000) == "input.too-large"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("invalid/not-xml.xml", "input.not-xml"),
        ("invalid/broken-xml.xml", "input.not-xml"),
        ("invalid/xml-but-not-iati.xml", "input.not-iati"),
        ("invalid/dportal-frankenstein.xml", "input.not-xml"),
    ],
)
def test_files_that_are_not_iati_xml_get_coded_errors(name: str, code: str) -> None:
    # Frankenstein also has version="TEXT"; assume the latest to reach its broken XML.
    assert error_code(sample(name).read_bytes(), unknown_version="assume-latest") == code


def test_an_unknown_version_is_an_error_unless_asked_to_assume_the_latest() -> None:
    xml = sample("invalid/schema-should-fail-17-bad-hierarchy.xml").read_bytes()
    assert error_code(xml) == "input.unsupported-version"
    reader = read_activities(xml, unknown_version="assume-latest")
    assert len(list(reader)) == 1
    assert [f.code for f in reader.file_findings] == ["read.unsupported-version"]


def test_utf16_files_are_read_correctly() -> None:
    path = sample("invalid/encoding-valid-UTF-16LE.xml")
    assert path.read_bytes()[:2] == b"\xff\xfe"
    models = [record.model for record in read_activities(path)]
    assert len(models) == 4
    assert models[0].title is not None
    assert str(models[0].title.text()).startswith("䶌乨伶侗倗傈儈剉唙謜谋")


def test_empty_input_says_so() -> None:
    assert error_code(b"") == "input.empty"


# -- the documented non-exact cases ------------------------------------------------------


def test_text_around_a_comment_is_kept_whole() -> None:
    xml = ACTIVITY.replace(b"<iati-identifier>XM", b"<iati-identifier><!-- x -->XM")
    xml = xml.replace(b">Water<", b">Wa<!-- note -->ter<").replace(b"%s", b"")
    [record] = list(read_activities(xml))
    assert record.identifier == "XM-DAC-46008-1"
    assert record.model.title is not None
    assert record.model.title.text("en") == "Water"
    assert record.findings == []


def test_values_must_be_in_the_xsd_lexical_space() -> None:
    xml = activity(b"""<activity-date type="1" iso-date="2020-W01-1"/>
    <sector code="111" percentage="\xd9\xa1\xd9\xa2"/>""")
    [record] = list(read_activities(xml))
    assert record.model.activity_dates[0].iso_date is None
    assert record.model.sectors[0].percentage is None
    assert [f.code for f in record.findings] == ["read.invalid-value", "read.invalid-value"]


def test_comments_inside_records_are_not_kept() -> None:
    model = read_activity(activity(b"<!-- internal note --><activity-status code='2'/>"))
    assert b"internal note" not in to_bytes([model])
    assert model.activity_status is not None


def test_invalid_values_are_left_out_with_a_finding() -> None:
    xml = activity(b"""<budget><period-start iso-date=""/><period-end iso-date="2012-12-31"/>
    <value currency="USD" value-date="2012-01-01">1e3</value></budget>""")
    [record] = list(read_activities(xml))
    budget = record.model.budgets[0]
    assert budget.period_start.iso_date is None
    assert budget.value.amount is None
    codes = [(f.code, f.actual, f.line) for f in record.findings]
    assert ("read.invalid-value", "", 5) in codes
    assert ("read.invalid-value", "1e3", 6) in codes
    assert any(f.xpath == "/iati-activities/iati-activity[1]/budget[1]/period-start[1]/@iso-date"
               for f in record.findings)


def test_decimal_spelling_with_plus_or_leading_zeros_is_normalised() -> None:
    xml = activity(b'<sector code="111" percentage="+050.50"/>')
    model = read_activity(xml)
    assert model.sectors[0].percentage == Decimal("50.50")
    assert b'percentage="50.50"' in to_bytes([model])


def test_unknown_elements_and_repeats_are_kept_in_place_with_findings() -> None:
    xml = activity(b"""<activity-status code="2"/><activity-status code="3"/>
    <mystery>x</mystery><ext:note xmlns:ext="http://example.org/ext">kept</ext:note>""")
    [record] = list(read_activities(xml))
    written = to_bytes([record.model])
    assert written.count(b"activity-status") == 2
    assert b"<mystery>x</mystery>" in written
    assert b'<ext:note xmlns:ext="http://example.org/ext">kept</ext:note>' in written
    codes = sorted(f.code for f in record.findings)
    assert codes == ["read.repeated-element", "read.unexpected-element"]


def test_text_where_the_standard_allows_none_is_reported() -> None:
    xml = activity(b"<activity-status code='2'>Implementation</activity-status>")
    [record] = list(read_activities(xml))
    assert [(f.code, f.actual) for f in record.findings] == [
        ("read.unexpected-text", "Implementation")
    ]


def test_text_directly_in_the_root_is_reported() -> None:
    reader = read_activities(activity(b"").replace(b"</iati-activity>", b"</iati-activity>stray"))
    list(reader)
    reader.file_model()
    assert [(f.code, f.actual) for f in reader.file_findings] == [("read.unexpected-text", "stray")]


def test_narratives_keep_every_language() -> None:
    model = read_activity(activity())
    assert model.title is not None
    assert [(n.lang, n.text) for n in model.title.narratives] == [("es", "Agua"), ("en", "Water")]
    assert model.title.text("en") == "Water"


def test_a_stream_is_read_one_record_at_a_time() -> None:
    stream = io.BytesIO(sample("real/usaid-bo.xml").read_bytes())
    reader = read_activities(stream)
    first = next(iter(reader))
    assert first.position == 1
    assert reader.stream.bytes_read < len(stream.getvalue())


def test_held_records_stay_whole_until_released_and_extras_are_kept_once() -> None:
    xml = b"""<iati-activities version="2.03">
    <iati-activity><iati-identifier>a</iati-identifier></iati-activity>
    <x:note xmlns:x="http://example.org/x">between</x:note>
    <iati-activity><iati-identifier>b</iati-identifier></iati-activity>
    <iati-activity><iati-identifier>c</iati-identifier></iati-activity>
    </iati-activities>"""
    reader = read_activities(xml)
    reader.stream.hold = True
    held = []
    for position, element in reader.elements():
        held.append(element)
        if position == 3:
            # Each record of the window is still whole, and can be read now.
            assert [reader.read(e, i).identifier for i, e in enumerate(held, 1)] == [
                "a", "b", "c",
            ]
            reader.stream.release_held()
            # The record just yielded goes with the next release (its tail is unread).
            assert [len(e) for e in held] == [0, 0, 1]
    reader.stream.release_held()
    assert [len(e) for e in held] == [0, 0, 0]
    assert [(extra.position, extra.element.text) for extra in reader.stream.extras] == [
        (1, "between")
    ]


# -- IATI 1.x is upgraded on reading -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "records", "most_xsd_errors"),
    [
        ("invalid/iati-act-no-errors-old-version-1.03.xml", 1, 0),
        ("legacy-1x/sida-same_orgs_different_roles-1.00.xml", 54, 4),
        ("legacy-1x/dfid-cd-1.01.xml", 205, 1),
        ("legacy-1x/worldbank-1.0.xml", 16, 16),
    ],
)
def test_1x_files_are_upgraded_to_2_03_with_every_step_reported(
    name: str, records: int, most_xsd_errors: int
) -> None:
    from lxml import etree

    from iati.artefacts import schema_path
    from iati.writer import write_activities

    reader = read_activities(sample(name))
    read = list(reader)
    assert reader.legacy
    assert [f.code for f in reader.file_findings] == ["upgrade.version"]
    out = io.BytesIO()
    write_activities([record.model for record in read], out, file=reader.file_model())
    schema = etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities"))))
    schema.validate(etree.fromstring(out.getvalue()))
    assert len(read) == records
    assert len(schema.error_log) <= most_xsd_errors
    if most_xsd_errors:
        assert any(f.code.startswith("upgrade.") for r in read for f in r.findings)


# -- value elements are shared ----------------------------------------------------------


def test_identical_value_elements_are_read_once_and_frozen() -> None:
    from pydantic import ValidationError

    first, second = [record.model for record in read_activities(sample("real/usaid-bo.xml"))][:2]
    assert first.reporting_org is not None
    assert second.reporting_org is not None
    assert first.reporting_org.narratives[0] is second.reporting_org.narratives[0]
    with pytest.raises(ValidationError):
        first.reporting_org.narratives[0].text = "changed"  # type: ignore[misc]


def test_a_bad_value_element_is_reported_every_time_it_occurs() -> None:
    bad = b'<activity-date type="1" iso-date="2020-13-45"/>'
    xml = activity(bad * 2)
    [record] = list(read_activities(xml))
    assert [f.line for f in record.findings if f.code == "read.invalid-value"] == [5, 5]
    again = next(iter(read_activities(xml)))
    assert len([f for f in again.findings if f.code == "read.invalid-value"]) == 2


def test_repeated_dates_and_amounts_keep_their_spelling_and_bad_ones_are_reported_each_time(
) -> None:
    """Converters remember what a text gave (a file repeats its dates and amounts); two
    spellings of one date stay two, and a bad text is reported wherever it occurs."""
    transaction = (b'<transaction><transaction-type code="3"/>'
                   b'<transaction-date iso-date="2012-01-01%s"/>'
                   b'<value currency="USD" value-date="2012-01-01%s">%s</value></transaction>')
    body = (transaction % (b"", b"", b"1000.50") + transaction % (b"Z", b"Z", b"1000.50")
            + transaction % (b"", b"", b"1e3") + transaction % (b"", b"", b"1e3"))
    [record] = list(read_activities(activity(body)))
    first, second, third, _ = record.model.transactions
    assert first.value.amount == second.value.amount == Decimal("1000.50")
    assert first.value.value_date == second.value.value_date
    written = to_bytes([record.model])
    assert b'value-date="2012-01-01"' in written
    assert b'value-date="2012-01-01Z"' in written
    assert b'iso-date="2012-01-01Z"' in written
    assert third.value.amount is None
    assert [f.actual for f in record.findings if f.code == "read.invalid-value"] == ["1e3"] * 2


def test_a_value_element_with_hundreds_of_attributes_is_refused_too() -> None:
    extra = " ".join(f'x:a{number}="v"' for number in range(100_000))
    xml = (f'<iati-activities version="2.03" xmlns:x="http://example.org/x"><iati-activity>'
           f'<iati-identifier>XM-1-A</iati-identifier><title><narrative {extra}>A</narrative>'
           f'</title></iati-activity></iati-activities>').encode()
    assert error_code(xml) == "input.too-many-attributes"


def test_an_element_with_hundreds_of_attributes_is_refused_not_read_for_minutes() -> None:
    """100,000 attributes on one element took 39 s of CPU to read; past 256 (no IATI
    element uses a dozen) the file is refused with a coded reason and the line."""

    def activity(count: int) -> bytes:
        extra = " ".join(f'x:a{number}="v"' for number in range(count))
        return (f'<iati-activities version="2.03" xmlns:x="http://example.org/x">\n'
                f'<iati-activity {extra}><iati-identifier>XM-1-A</iati-identifier>'
                f'</iati-activity></iati-activities>').encode()

    [kept] = [record.model for record in read_activities(activity(200))]
    assert kept.identifier == "XM-1-A"
    assert error_code(activity(100_000)) == "input.too-many-attributes"
    with pytest.raises(IatiInputError) as refused:
        list(read_activities(activity(257)))
    assert refused.value.line == 2
    assert "257 attributes" in refused.value.message
