"""Lossless round trip: every schema-valid sample reads and writes back canonically equal.

Each sample is read once for its four tests (`parsed`); which samples are schema-valid is
listed in `tests.support.samples.SCHEMA_VALID` and checked against lxml in one test, rather
than worked out while the tests are collected."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.etree.ElementTree import canonicalize

import pytest
from lxml import etree

from iati.artefacts import schema_path
from iati.elements.activity import Activity
from iati.elements.organisation import Organisation
from iati.reader import Reader, read_activities
from iati.source import ORGANISATIONS
from iati.writer import write_activities, write_organisations
from tests.support.samples import SAMPLES, SCHEMA_VALID, sample

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@cache
def _schema(version: str, kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_path(version, kind)), PARSER))  # type: ignore[arg-type]


def _kind(tree: etree._ElementTree) -> str:
    return "organisations" if tree.getroot().tag == ORGANISATIONS else "activities"


def _schema_valid(path: Path) -> bool:
    try:
        tree = etree.parse(str(path), PARSER)
    except etree.XMLSyntaxError:
        return False
    version = tree.getroot().get("version")
    if version not in ("2.01", "2.02", "2.03") or tree.getroot().tag not in (
        "iati-activities", ORGANISATIONS,
    ):
        return False
    return bool(_schema(version, _kind(tree)).validate(tree))


@dataclass(frozen=True)
class Parsed:
    """A sample read once for all the round-trip tests of it."""

    path: Path
    reader: Reader[Activity]
    records: list[Activity | Organisation]


@pytest.fixture(scope="module", params=SCHEMA_VALID)
def parsed(request: pytest.FixtureRequest) -> Parsed:
    """Each schema-valid sample, read once: the tests of one sample run one after another."""
    path = sample(request.param)
    reader, records = _read(path)
    return Parsed(path, reader, records)


def _read(path: Path) -> tuple[Reader[Activity], list[Activity | Organisation]]:
    reader = read_activities(path)
    return reader, [record.model for record in reader]


def _write(reader: Reader[Activity], records: list[Activity | Organisation]) -> bytes:
    out = io.BytesIO()
    file = reader.file_model()
    if reader.root is not None and reader.root.tag == ORGANISATIONS:
        write_organisations(records, out, file=file)  # type: ignore[arg-type]
    else:
        write_activities(records, out, file=file)  # type: ignore[arg-type]
    return out.getvalue()


def _canonical(xml: bytes) -> str:
    """C14N 2.0 with whitespace-only text ignored (attribute order is irrelevant in C14N).

    Only text that is all white space is dropped; any other text is compared exactly,
    leading and trailing spaces included.
    """
    tree = etree.fromstring(xml, PARSER)
    for element in tree.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return canonicalize(etree.tostring(tree, encoding="unicode"))


def test_the_round_trip_takes_every_schema_valid_sample_of_every_kind() -> None:
    every = sorted(SAMPLES.glob("**/*.xml"))
    assert every
    valid = [str(p.relative_to(SAMPLES)) for p in every if _schema_valid(p)]
    assert valid == sorted(SCHEMA_VALID)
    names = {Path(p).parent.name for p in SCHEMA_VALID}
    assert {"real", "organisation", "2.01", "2.02", "2.03"} <= names
    assert len(SCHEMA_VALID) >= 20


def test_read_write_reproduces_the_input_canonically(parsed: Parsed) -> None:
    written = _write(parsed.reader, parsed.records)
    original = etree.parse(str(parsed.path), PARSER)
    original.getroot().set("version", "2.03")  # the writer always writes 2.03
    assert _canonical(written) == _canonical(etree.tostring(original))


def test_output_passes_the_official_2_03_schema(parsed: Parsed) -> None:
    written = etree.parse(io.BytesIO(_write(parsed.reader, parsed.records)), PARSER)
    schema = _schema("2.03", _kind(written))
    assert schema.validate(written), schema.error_log.last_error


def test_model_to_xml_to_model_is_identical(parsed: Parsed) -> None:
    again_reader, again = _read_bytes(_write(parsed.reader, parsed.records))
    assert again == parsed.records
    assert again_reader.file_model().extensions == parsed.reader.file_model().extensions


def test_reader_builds_exactly_what_pydantic_validation_builds(parsed: Parsed) -> None:
    """The reader skips re-validation for speed; prove it builds the declared types."""
    for record in parsed.records:
        assert type(record).model_validate(record.model_dump()) == record
        assert type(record).model_validate_json(record.model_dump_json()) == record


def _read_bytes(xml: bytes) -> tuple[Reader[Activity], list[Activity | Organisation]]:
    reader = read_activities(xml)
    return reader, [record.model for record in reader]
