"""Stage (a), streamed XSD validation, gives lxml's whole-file verdict, messages and lines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from iati import artefacts
from iati.errors import IatiInputError
from iati.findings import CATALOGUE, Finding, Stage
from iati.source import IatiSource, RootInfo
from iati.validate.schema import SchemaStage, load_schema
from tests.support.samples import SAMPLES, SHARED

ALL_SAMPLES = sorted(SAMPLES.glob("**/*.xml"))
INVALID = SAMPLES / "invalid"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)

Source = Path | bytes


def stream(source: Source) -> list[Finding]:
    """Every schema finding for `source`, the way iati-ec makes them: one record at a time."""
    reader = IatiSource(source)
    stage: SchemaStage | None = None
    found: list[Finding] = []
    for position, record in enumerate(reader.records(), start=1):
        if stage is None:
            assert reader.root is not None
            stage = SchemaStage.for_root(reader.root)
        found += stage.check(record, position=position, activity=f"activity-{position}")
    if stage is None:
        assert reader.root is not None
        stage = SchemaStage.for_root(reader.root)
    return found + stage.finish(
        extras=reader.extras, record_count=reader.record_count, stray_text=reader.stray_text
    )


def whole_file(source: Source) -> tuple[bool, Counter[tuple[int, str]]]:
    """lxml's verdict and (line, message) errors validating the whole tree at once."""
    text = source.read_bytes() if isinstance(source, Path) else source
    root = etree.fromstring(text, PARSER)
    version = root.get("version")
    known = version if version in artefacts.VERSIONS else artefacts.LATEST
    schema = load_schema(known, "activities" if root.tag == "iati-activities" else "organisations")
    valid = schema.validate(root)
    return valid, Counter((error.line, error.message) for error in schema.error_log)


def as_lines(findings: list[Finding]) -> Counter[tuple[int | None, str]]:
    return Counter((finding.line, finding.message) for finding in findings)


def assert_same_as_lxml(source: Source) -> None:
    valid, expected = whole_file(source)
    found = stream(source)
    assert (not found) == valid
    assert as_lines(found) == expected


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=lambda path: str(path.relative_to(SAMPLES)))
def test_every_readable_sample_gets_lxmls_whole_file_verdict_and_errors(path: Path) -> None:
    try:
        found = stream(path)
    except IatiInputError as error:
        pytest.skip(f"IatiSource rejects it ({error.code}); no schema stage runs")
    valid, expected = whole_file(path)
    assert (not found) == valid
    # Exact multiset: lxml reports root errors once per file, and so does the stage.
    assert as_lines(found) == expected


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("01-empty-activity", 7,
         "Element 'iati-activity': Missing child element(s). Expected is ( iati-identifier )."),
        ("17-bad-hierarchy", 5,
         "Element 'iati-activity', attribute 'hierarchy': 'string' is not a valid value of the "
         "atomic type 'xs:int'."),
        ("18-missing-iati-activities-version", 3,
         "Element 'iati-activities': The attribute 'version' is required but missing."),
        ("20-two-reporting-orgs", 9,
         "Element 'reporting-org': This element is not expected. Expected is ( title )."),
        ("budget-12-non-decimal-value", 22,
         "Element 'value': 'eryr' is not a valid value of the atomic type 'xs:decimal'."),
    ],
)
def test_iati_schemas_should_fail_files_yield_their_error(
    name: str, line: int, message: str
) -> None:
    findings = stream(INVALID / f"schema-should-fail-{name}.xml")
    assert (line, message) in as_lines(findings)


def test_a_finding_says_what_where_and_which_activity() -> None:
    [finding] = stream(INVALID / "schema-should-fail-budget-12-non-decimal-value.xml")
    assert (finding.code, finding.category) == ("0.3.1", "schema")  # the official rule
    # The catalogue decides the severity (the official validator makes XSD errors critical).
    assert finding.severity is CATALOGUE["0.3.1"].severity
    assert finding.is_error
    assert finding.stage is Stage.SCHEMA
    assert finding.actual == finding.message
    assert finding.xpath == "/iati-activities/iati-activity[1]/budget/value"
    assert finding.activity == "activity-1"


def test_xpath_and_line_point_into_the_original_file() -> None:
    findings = stream(SAMPLES / "real" / "dportal-canada-idrc-denmark-p91.xml")
    first = findings[0]
    assert (first.line, first.xpath) == (320, "/iati-activities/iati-activity[3]/sector[2]")
    assert first.activity == "activity-3"
    source_line = (SAMPLES / "real" / "dportal-canada-idrc-denmark-p91.xml").read_text(
        encoding="utf-8"
    ).splitlines()[319]
    assert "<sector" in source_line


def test_root_errors_are_reported_once_per_file_by_finish() -> None:
    reader = IatiSource(SAMPLES / "legacy-1x" / "ocha-test-data.xml")
    records = reader.records()
    first = next(records)
    assert reader.root is not None
    stage = SchemaStage.for_root(reader.root)
    per_record = stage.check(first, position=1)
    for position, record in enumerate(records, start=2):
        per_record += stage.check(record, position=position)
    assert reader.record_count == 287
    root_findings = stage.finish(extras=reader.extras, record_count=reader.record_count)
    assert [(f.line, f.xpath, f.activity) for f in root_findings] == [(2, "/iati-activities", None)]
    assert root_findings[0].message.endswith("The attribute 'version' is required but missing.")
    assert all(f.xpath != "/iati-activities" for f in per_record)


@pytest.mark.parametrize(
    ("tag", "version", "schema_version", "kind"),
    [
        ("iati-activities", "2.01", "2.01", "activities"),
        ("iati-activities", "2.02", "2.02", "activities"),
        ("iati-activities", "2.03", "2.03", "activities"),
        ("iati-activities", "xx", "2.03", "activities"),
        ("iati-activities", None, "2.03", "activities"),
        ("iati-activities", "1.03", "2.03", "activities"),
        ("iati-organisations", "2.02", "2.02", "organisations"),
        ("iati-organisations", "", "2.03", "organisations"),
    ],
)
def test_the_files_own_version_is_used_and_2_03_otherwise(
    tag: str, version: str | None, schema_version: str, kind: str
) -> None:
    root = RootInfo(tag=tag, version=version, attributes={}, namespaces={}, line=1)
    stage = SchemaStage.for_root(root)
    assert (stage.version, stage.kind) == (schema_version, kind)


# Root children for synthetic files: R is an empty record (invalid, so skipped records show),
# x:E an element of another namespace, d:E one in a default namespace, foo an unqualified one,
# x:BAD an other-namespace element with an invalid xml:lang inside it.
CHILDREN = {
    "R": "<iati-activity/>",
    "x:E": "<x:e/>",
    "d:E": '<e xmlns="urn:d"/>',
    "foo": "<foo/>",
    "x:BAD": '<x:e>\n  <x:f xml:lang="not a language"/>\n</x:e>',
}
GOOD_ROOT = 'version="2.03"'
BAD_ROOT = 'generated-datetime="yesterday"'


def document(children: str, root: str = GOOD_ROOT) -> bytes:
    """A file with these root children; PAD is 70,000 blank lines, past libxml2's 65,535."""
    body = "\n".join(
        "\n" * 70_000 if child == "PAD" else CHILDREN[child] for child in children.split()
    )
    return (
        f'<?xml version="1.0"?>\n<iati-activities {root} xmlns:x="urn:x">\n{body}\n'
        "</iati-activities>\n"
    ).encode()


@pytest.mark.parametrize("root", [GOOD_ROOT, BAD_ROOT])
@pytest.mark.parametrize(
    "children",
    [
        "", "R", "R R R", "R x:E", "R R x:E x:E", "R foo", "R R foo R", "x:E", "foo",
        "x:E R R", "foo R", "R x:E R", "R R x:E R R x:E", "R x:E foo R", "R foo x:E R",
        "R d:E d:E", "d:E R", "R x:BAD", "x:BAD R R", "R x:BAD R x:BAD", "R R x:BAD x:BAD R",
    ],
)
def test_root_children_get_lxmls_verdict(children: str, root: str) -> None:
    assert_same_as_lxml(document(children, root))


@pytest.mark.parametrize(
    "children", ["PAD R R", "R x:BAD PAD R R", "R x:E PAD R R", "R R x:E PAD R"]
)
def test_lines_beyond_65535_are_the_original_lines(children: str) -> None:
    # libxml2 keeps element lines in 16 bits; copies must not lose the larger ones.
    text = document(children)
    assert_same_as_lxml(text)
    assert max(line for line, _ in whole_file(text)[1]) > 70_000


def test_root_extras_beyond_65535() -> None:
    assert_same_as_lxml(document("R PAD x:BAD R"))


def test_text_directly_in_the_root() -> None:
    assert_same_as_lxml(document("R R").replace(b"<iati-activity/>\n<", b"<iati-activity/>x\n<"))


def test_lines_beyond_65535_in_a_real_file(tmp_path: Path) -> None:
    lines = (SAMPLES / "real" / "usaid-mx.xml").read_bytes().split(b"\n")
    broken = max(number for number, line in enumerate(lines) if b"<value" in line)
    lines[broken] = lines[broken].split(b">")[0] + b">not a number</value>"
    path = tmp_path / "usaid-mx-broken.xml"
    path.write_bytes(b"\n".join(lines))
    [finding] = stream(path)
    assert finding.line == broken + 1 > 65_535
    assert_same_as_lxml(path)


def test_threads_do_not_mix_their_errors() -> None:
    paths = [SAMPLES / "real" / name for name in (
        "cabei-bcie.xml", "dportal-iadb-p3.xml", "dportal-sweden-sida-p45.xml", "usaid-bo.xml",
    )] * 3
    alone = [stream(path) for path in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(stream, paths))
    assert together == alone


PEAK_RSS = textwrap.dedent("""
    import resource, sys
    from iati.source import IatiSource
    from iati.validate.schema import SchemaStage
    reader, stage = IatiSource(sys.argv[1]), None
    for position, record in enumerate(reader.records(), start=1):
        if sys.argv[2] == "check":
            stage = stage or SchemaStage.for_root(reader.root)
            stage.check(record, position=position)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("IATI_EC_SLOW") != "1", reason="set IATI_EC_SLOW=1")
def test_memory_stays_flat_however_large_the_file(tmp_path: Path) -> None:
    def peak_kib(path: Path, mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, str(path), mode],
            check=True, capture_output=True, text=True, cwd=Path(__file__).parents[2],
        )
        return int(run.stdout)

    corpus = {}
    for size in (5, 20):
        corpus[size] = tmp_path / f"corpus-{size}.xml"
        subprocess.run(
            [sys.executable, str(SHARED / "bench" / "make_corpus.py"),
             "--size", str(size), "--output", str(corpus[size])],
            check=True, capture_output=True,
        )
    small, large = peak_kib(corpus[5], "check"), peak_kib(corpus[20], "check")
    assert large - small < 16 * 1024
    assert large - peak_kib(corpus[20], "read") < 16 * 1024
