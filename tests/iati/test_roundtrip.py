"""Lossless round trip: every schema-valid sample reads and writes back canonically equal."""

from __future__ import annotations

import io
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
from tests.conftest import SAMPLES

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


VALID = [p for p in sorted(SAMPLES.glob("**/*.xml")) if _schema_valid(p)]


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


def test_there_are_schema_valid_samples_of_every_kind() -> None:
    names = {p.parent.name for p in VALID}
    assert {"real", "organisation", "2.01", "2.02", "2.03"} <= names
    assert len(VALID) >= 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_read_write_reproduces_the_input_canonically(path: Path) -> None:
    reader, records = _read(path)
    written = _write(reader, records)
    original = etree.parse(str(path), PARSER)
    original.getroot().set("version", "2.03")  # the writer always writes 2.03
    assert _canonical(written) == _canonical(etree.tostring(original))


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_output_passes_the_official_2_03_schema(path: Path) -> None:
    reader, records = _read(path)
    written = etree.parse(io.BytesIO(_write(reader, records)), PARSER)
    schema = _schema("2.03", _kind(written))
    assert schema.validate(written), schema.error_log.last_error


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_model_to_xml_to_model_is_identical(path: Path) -> None:
    reader, records = _read(path)
    again_reader, again = _read_bytes(_write(reader, records))
    assert again == records
    assert again_reader.file_model().extensions == reader.file_model().extensions


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_reader_builds_exactly_what_pydantic_validation_builds(path: Path) -> None:
    """The reader skips re-validation for speed; prove it builds the declared types."""
    _, records = _read(path)
    for record in records:
        assert type(record).model_validate(record.model_dump()) == record
        assert type(record).model_validate_json(record.model_dump_json()) == record


def _read_bytes(xml: bytes) -> tuple[Reader[Activity], list[Activity | Organisation]]:
    reader = read_activities(xml)
    return reader, [record.model for record in reader]
