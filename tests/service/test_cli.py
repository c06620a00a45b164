"""The `iati-ec` command line on real sample files, run in the test's process
(`tests.support.cli`); `test_serve` and `test_push_crash` start real processes."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from iati.artefacts import schema_path
from tests.support.cli import Ran, iati_ec
from tests.support.samples import sample


def run(*args: str | Path) -> Ran:
    return iati_ec(*args)


def test_a_valid_file_exits_0_and_says_valid() -> None:
    done = run("validate", sample("real/usaid-bo.xml"), "--today", "2026-11-27")
    assert done.returncode == 0, done.stderr
    assert "VALID" in done.stdout
    assert "63 record(s)" in done.stdout


def test_a_schema_invalid_file_exits_1_with_the_xsd_message() -> None:
    done = run("validate", sample("invalid/iati-act-schema-errors.xml"))
    assert done.returncode == 1
    assert "INVALID" in done.stdout
    assert "0.3.1" in done.stdout
    assert "'iso-date'" in done.stdout


def test_unreadable_input_exits_2_whatever_else_is_valid() -> None:
    done = run("validate", sample("real/usaid-bo.xml"), sample("invalid/not-xml.xml"))
    assert done.returncode == 2
    assert "input.not-xml" in done.stdout


def test_json_report_carries_findings_with_location_and_value() -> None:
    done = run("validate", "--json", sample("invalid/iati-act-schema-errors.xml"))
    assert done.returncode == 1
    [report] = json.loads(done.stdout)
    assert report["valid"] is False
    assert report["summary"]["critical"] == 1
    [record] = report["records"]
    schema = [f for f in record["findings"] if f["code"] == "0.3.1"]
    assert schema[0]["line"] == 18
    assert schema[0]["xpath"].startswith("/iati-activities/iati-activity[1]/activity-date")


def test_official_report_shape_names_rule_ids_by_category() -> None:
    done = run("validate", "--official", sample("invalid/iati-dup-activity-ids.xml"))
    [report] = json.loads(done.stdout)
    assert set(report) >= {"valid", "fileType", "iatiVersion", "summary", "errors"}
    ids = {
        error["id"]
        for group in report["errors"] for category in group["errors"]
        for error in category["errors"]
    }
    assert "1.1.2" in ids


def test_convert_upgrades_2_01_to_schema_valid_2_03(tmp_path: Path) -> None:
    out = tmp_path / "spain.xml"
    done = run("convert", sample("real/spain-maec-indonesia.xml"), "-o", out)
    assert done.returncode == 0, done.stderr
    written = etree.parse(str(out))
    assert written.getroot().get("version") == "2.03"
    schema = etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities"))))
    assert schema.validate(written), schema.error_log.last_error
    assert len(written.getroot()) == 83


def test_convert_to_json_gives_the_internal_model() -> None:
    done = run("convert", sample("real/acfspain-co.xml"), "--to", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    [activity] = document["activities"]
    assert activity["iati_identifier"]["text"] == "ES-CIF-G81164105-COF5AE"
    assert document["file"]["version"] == "2.02"


def test_convert_refuses_non_iati_input_with_a_code_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    done = run("convert", sample("invalid/xml-but-not-iati.xml"), "-o", out)
    assert done.returncode == 2
    assert "input.not-iati" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_convert_keeps_root_level_extensions_after_the_last_activity(tmp_path: Path) -> None:
    source = sample("real/worldbank-sv.xml").read_bytes()
    with_trailer = source.replace(
        b"</iati-activities>",
        b'<ext:trailer xmlns:ext="http://example.org/ext">kept</ext:trailer></iati-activities>',
    )
    path = tmp_path / "trailer.xml"
    path.write_bytes(with_trailer)
    done = run("convert", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(
        '<ext:trailer xmlns:ext="http://example.org/ext">kept</ext:trailer>\n</iati-activities>'
    )


def test_convert_to_stdout_never_closes_the_document_when_the_input_breaks(
    tmp_path: Path,
) -> None:
    source = sample("real/worldbank-sv.xml").read_bytes()
    path = tmp_path / "broken.xml"
    path.write_bytes(source.replace(b"</iati-activities>", b"<oops></iati-activities>"))
    done = run("convert", path)
    assert done.returncode == 2
    assert "<iati-activity" in done.stdout
    assert "</iati-activities>" not in done.stdout


def test_a_bad_today_is_a_usage_error_not_a_traceback() -> None:
    done = run("validate", sample("real/usaid-bo.xml"), "--today", "2025-13-01")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_streamed_json_report_equals_the_report_kept_in_memory() -> None:
    from datetime import date

    from iati.validate import validate

    path = sample("real/cabei-bcie.xml")
    done = run("validate", "--json", "--today", "2026-11-27", path)
    [streamed] = json.loads(done.stdout)
    kept = json.loads(json.dumps(validate(path, today=date(2026, 11, 27)).as_dict()))
    assert streamed == kept
    assert len(streamed["records"]) == 87
