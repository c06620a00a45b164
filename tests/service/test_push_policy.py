"""The push accepts what the official IATI Validator accepts (the policy stated in
`service.services.push.findings`), on every real sample it has a report for.

The policy does not depend on the database, so these pushes run on SQLite only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine

from service.db import create_db_engine
from service.models import KeyScope, Outcome
from service.services.push import PushPublic, UnreadableFileError
from tests.support.agreement import REPORTS
from tests.support.publishing import (
    PARSER,
    Api,
    add_publisher,
    new_key,
    push,
    set_first_transaction,
    set_identifier,
    variant,
)
from tests.support.samples import SAMPLES, sample


def _official(name: str) -> dict[str, object]:
    path = REPORTS / (name.replace("/", "__") + ".json")
    if not path.exists():
        pytest.skip(f"no official report for {name}")
    report: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return report


def _real(valid: bool) -> list[str]:
    names = []
    for path in sorted((SAMPLES / "real").glob("*.xml")):
        name = f"real/{path.name}"
        report = REPORTS / (name.replace("/", "__") + ".json")
        if report.exists() and json.loads(report.read_text(encoding="utf-8"))["valid"] is valid:
            names.append(name)
    return names


@pytest.fixture
def engine_of_sqlite(sqlite_database: str) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_database)
    yield engine
    engine.dispose()


def _push_as_its_publishers(engine: Engine, path: Path) -> PushPublic:
    refs = {
        org.get("ref", "").strip()
        for org in etree.parse(str(path), PARSER).getroot().iterfind("iati-activity/reporting-org")
    }
    publisher = add_publisher(engine, *sorted(ref for ref in refs if ref), name=path.stem)
    return push(engine, publisher, path)


@pytest.mark.parametrize("name", _real(valid=True))
def test_a_file_the_official_validator_calls_valid_is_accepted_whole(
    engine_of_sqlite: Engine, name: str
) -> None:
    path = sample(name)
    pushed = _push_as_its_publishers(engine_of_sqlite, path)
    refused = [a for a in pushed.activities if a.outcome is Outcome.rejected]
    assert refused == []
    total = len(etree.parse(str(path), PARSER).getroot().findall("iati-activity"))
    # every activity stored, but for an identifier already met in the file (rule 1.1.2)
    assert pushed.counts.created == len({a.iati_identifier for a in pushed.activities}) > 0
    assert len(pushed.activities) == total
    official_findings = _official(name)["summary"]
    assert isinstance(official_findings, dict)
    if official_findings["error"] + official_findings["warning"]:
        assert any(a.findings for a in pushed.activities)  # findings kept with them


@pytest.mark.parametrize("name", _real(valid=False))
def test_a_file_the_official_validator_calls_invalid_loses_only_its_critical_activities(
    engine_of_sqlite: Engine, name: str
) -> None:
    path = sample(name)
    official = _official(name)
    critical = {
        group["identifier"]
        for group in official["errors"]  # type: ignore[attr-defined]
        for category in group["errors"] for finding in category["errors"]
        if finding["severity"] == "critical"
    }
    if "file" in critical:
        with pytest.raises(UnreadableFileError) as refused:
            _push_as_its_publishers(engine_of_sqlite, path)
        assert refused.value.code == "input.unsupported-version"
        return
    pushed = _push_as_its_publishers(engine_of_sqlite, path)
    refused = {a.iati_identifier for a in pushed.activities if a.outcome is Outcome.rejected}
    assert refused == critical
    for activity in pushed.activities:
        if activity.outcome is Outcome.rejected:
            assert {f.code for f in activity.findings} >= {"0.3.1"}
    assert pushed.counts.created == len(pushed.activities) - len(refused)


def test_codelist_errors_are_stored_with_the_activity_not_refused(
    engine_of_sqlite: Engine, tmp_path: Path
) -> None:
    """An unknown activity status (a codelist error) was a refusal; the official Validator
    reports it as an error in a valid file, and the push keeps the activity with it."""

    def unknown_status(activity: etree._Element) -> None:
        status = activity.find("activity-status")
        assert status is not None
        status.set("code", "9")

    path = variant("real/usaid-ec.xml", tmp_path / "status.xml", keep=2, a1=unknown_status)
    pushed = _push_as_its_publishers(engine_of_sqlite, path)
    assert pushed.counts.created == 2
    first = pushed.activities[0]
    codelist = {(f.code, f.severity) for f in first.findings if f.stage == "codelist"}
    assert codelist
    assert {severity for _, severity in codelist} == {"error"}
    # stored with the activity, and shown to its publisher
    api = Api(engine_of_sqlite)
    key = new_key(engine_of_sqlite, "US-GOV-1", KeyScope.publish)
    quality = api.request("GET", "/api/v1/publishers/US-GOV-1/quality", key=key).json()
    shown = {(f["code"], f["severity"]) for f in quality["findings"]}
    assert codelist <= shown


@pytest.mark.parametrize(
    ("identifier", "code"),
    [("", "push.no-identifier"), ("US-GOV-1-" + "9" * 600, "push.malformed-identifier"),
     ("US-GOV-1-A\tB", "push.malformed-identifier"),
     ("US-GOV-1-A\u200bB", "push.malformed-identifier"),  # a zero-width space
     ("US-GOV-1-A\u202eB", "push.malformed-identifier"),  # a right-to-left override
     ("US-GOV-1-" + "É" * 300, "push.malformed-identifier")],  # 600 bytes in UTF-8
)
def test_a_missing_or_malformed_identifier_is_refused_with_what_to_do(
    engine_of_sqlite: Engine, tmp_path: Path, identifier: str, code: str
) -> None:
    path = variant("real/usaid-ec.xml", tmp_path / "id.xml", keep=2, a1=set_identifier(identifier))
    pushed = _push_as_its_publishers(engine_of_sqlite, path)
    first, second = pushed.activities
    assert first.outcome is Outcome.rejected
    assert code in {f.code for f in first.findings}
    assert second.outcome is Outcome.created


@pytest.mark.parametrize("amount", [
    "1000.12345678901234567890123456789",  # 29 decimals: a valid xs:decimal
    "-123456789012345678901234567890.5",  # 30 digits: too large to convert, kept
])
def test_any_valid_decimal_is_stored_exactly_never_a_server_error(
    engine_of_sqlite: Engine, tmp_path: Path, amount: str
) -> None:
    path = variant("real/usaid-ec.xml", tmp_path / "decimal.xml", keep=2,
                   a1=set_first_transaction(amount, None))
    pushed = _push_as_its_publishers(engine_of_sqlite, path)
    assert pushed.counts.created == 2
    api = Api(engine_of_sqlite)
    key = new_key(engine_of_sqlite, "US-GOV-1", KeyScope.read)
    identifier = pushed.activities[0].iati_identifier
    view = api.request("GET", f"/api/v1/activities/{identifier}/budget-view", key=key)
    assert view.status_code == 200
    stored = api.request("GET", f"/api/v1/activities/{identifier}", key=key,
                         params={"format": "xml"})
    assert amount in stored.text
