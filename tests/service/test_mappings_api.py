"""The ministry overrides crosswalk rows over HTTP: checked, recorded, applied to new views."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine

from mappings.crosswalks import file_crosswalk
from mappings.engine import mapping_version
from mappings.sectors import investment_subsectors
from mappings.tables import Classification, table
from service.models import KeyScope
from service.services.budget.views import remap
from tests.support.publishing import Api, add_publisher, new_key, push
from tests.support.samples import CAF_LOANS

CAF = "XM-DAC-46008"
SECURITY = "15210"  # security system management and reform
KEY_PATH = f"/api/v1/mappings/crosswalks/sector-investment-subsector/keys/1/{SECURITY}"
ACTIVITY = f"""<iati-activities version="2.03"><iati-activity default-currency="USD" xml:lang="es">
  <iati-identifier>{CAF}-SEC-1</iati-identifier>
  <reporting-org ref="{CAF}" type="40"><narrative>CAF</narrative></reporting-org>
  <title><narrative xml:lang="es">Seguridad integral</narrative></title>
  <description><narrative xml:lang="es">Reforma del sector de seguridad</narrative></description>
  <participating-org role="1" ref="{CAF}" type="40"><narrative>CAF</narrative></participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2024-01-01"/>
  <recipient-country code="EC"/>
  <sector vocabulary="1" code="{SECURITY}"/>
  <default-finance-type code="110"/>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
    <value value-date="2024-03-01">1000.00</value></transaction>
</iati-activity></iati-activities>""".encode()



@pytest.fixture
def keys(store: Engine) -> dict[str, str]:
    add_publisher(store, CAF, name="CAF")
    return {
        "admin": new_key(store, CAF, KeyScope.admin),
        "publish": new_key(store, CAF, KeyScope.publish),
        "read": new_key(store, CAF, KeyScope.read),
    }


@pytest.fixture
def api(store: Engine) -> Api:
    return Api(store)


def _another_subsector() -> str:
    """A subsector other than the file's target for the security sector."""
    current = {row.target for row in file_crosswalk("sector-investment-subsector")
               .lookup("1", SECURITY)}
    return next(row.code for row in table(Classification.investment_subsector)
                if row.level == "subsector" and row.code not in current)


def _override(target: str) -> dict[str, Any]:
    return {"rows": [{"target": target, "status": "verified", "source": "Acuerdo 123 (test)"}],
            "note": "decided in the sector table of March"}


def _subsectors(view: dict[str, Any]) -> set[str | None]:
    return {f["code"] for f in view["figures"] if f["classification"] == "investment_subsector"}


def test_an_override_is_recorded_applied_to_new_views_and_the_earlier_view_kept(
    api: Api, keys: dict[str, str], store: Engine
) -> None:
    pushed = api.request("POST", "/api/v1/activities", key=keys["publish"], content=ACTIVITY)
    assert pushed.json()["counts"]["created"] == 1
    view_url = f"/api/v1/activities/{CAF}-SEC-1/budget-view"
    before = api.request("GET", view_url, key=keys["read"]).json()
    expected = {r.code for r in investment_subsectors("1", SECURITY, on=date(2024, 3, 1))}
    assert _subsectors(before) == expected
    first_version = api.request("GET", "/api/v1/mappings", key=keys["read"]).json()
    assert first_version["mapping_version"] == mapping_version()

    target = _another_subsector()
    decided = api.request("PUT", KEY_PATH, key=keys["admin"], json=_override(target))
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert [row["target"] for row in body["rows"]] == [target]
    assert {row["origin"] for row in body["rows"]} == {"override"}
    [decision] = body["history"]
    assert decision["note"] == "decided in the sector table of March"
    assert decision["superseded_at"] is None
    assert decision["organisation_id"] > 0
    assert decision["api_key_id"] is not None
    assert body["mapping_version"] != first_version["mapping_version"]

    assert remap(store).computed == 1
    after = api.request("GET", view_url, key=keys["read"]).json()
    assert _subsectors(after) == {target}
    assert after["mapping_version"] == body["mapping_version"] == after["current_mapping_version"]
    earlier = api.request("GET", view_url, key=keys["read"],
                          params={"mapping_version": before["mapping_version"]}).json()
    assert _subsectors(earlier) == expected

    reverted = api.request("DELETE", KEY_PATH, key=keys["admin"], params={"note": "undo"})
    assert reverted.status_code == 200
    assert {row["origin"] for row in reverted.json()["rows"]} == {"file"}
    assert [d["superseded_at"] is None for d in reverted.json()["history"]] == [False, True]
    assert reverted.json()["mapping_version"] == first_version["mapping_version"]


def test_the_crosswalk_lists_its_rows_and_where_each_comes_from(
    api: Api, keys: dict[str, str]
) -> None:
    api.request("PUT", KEY_PATH, key=keys["admin"], json=_override(_another_subsector()))
    walk = api.request("GET", "/api/v1/mappings/crosswalks/sector-investment-subsector",
                       key=keys["read"]).json()
    assert walk["key_columns"] == ["sector_vocabulary", "sector_code"]
    origins = {tuple(row["key"]): row["origin"] for row in walk["rows"]}
    assert origins[("1", SECURITY)] == "override"
    assert set(origins.values()) == {"file", "override"}
    assert len(walk["rows"]) >= len(file_crosswalk("sector-investment-subsector"))


@pytest.mark.parametrize(("path", "body", "status"), [
    (KEY_PATH, {"rows": [{"target": "Z9999", "status": "verified", "source": "x"}]}, 422),
    (KEY_PATH, {"rows": [{"target": "F0401", "status": "proposed"}]}, 422),
    (KEY_PATH, {"rows": [{"target": "F0401", "status": "published"}]}, 422),
    (KEY_PATH, {"rows": [{"target": "F0401", "status": "proposed", "rationale": "a",
                          "share": 50},
                         {"target": "F0403", "status": "proposed", "rationale": "b",
                          "share": 40}]}, 422),
    (KEY_PATH, {"rows": [{"status": "unmapped"}]}, 422),
    (KEY_PATH, {"rows": []}, 422),
    ("/api/v1/mappings/crosswalks/sector-investment-subsector/keys/15210",
     {"rows": [{"status": "unmapped", "rationale": "x"}]}, 422),
    ("/api/v1/mappings/crosswalks/no-such-thing/keys/1",
     {"rows": [{"status": "unmapped", "rationale": "x"}]}, 404),
])
def test_a_bad_override_is_refused_with_a_problem_and_changes_nothing(
    api: Api, keys: dict[str, str], path: str, body: dict[str, Any], status: int
) -> None:
    answer = api.request("PUT", path, key=keys["admin"], json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    summary = api.request("GET", "/api/v1/mappings", key=keys["read"]).json()
    assert summary["overridden_keys"] == 0
    assert summary["mapping_version"] == mapping_version()


def test_a_share_is_taken_as_a_number_or_as_the_decimal_text_the_answers_give(
    api: Api, keys: dict[str, str]
) -> None:
    """As the OpenAPI document states: a number above 0 and at most 100, or its decimal
    text; text in any other form (which pydantic alone would read) is refused."""
    row = {"target": _another_subsector(), "status": "verified", "source": "Acuerdo 123"}
    for share in (100, "100.00"):
        answer = api.request("PUT", KEY_PATH, key=keys["admin"],
                             json={"rows": [{**row, "share": share}]})
        assert answer.status_code == 200, answer.text
    for share in (" 100", "1e2", "0", 0, "100.01"):
        answer = api.request("PUT", KEY_PATH, key=keys["admin"],
                             json={"rows": [{**row, "share": share}]})
        assert answer.status_code == 422, share
        assert answer.json()["errors"][0]["location"] == "body/rows/0/share"


def test_only_an_admin_key_decides(api: Api, keys: dict[str, str]) -> None:
    body = _override(_another_subsector())
    assert api.request("PUT", KEY_PATH, json=body).status_code == 401
    for scope in ("read", "publish"):
        assert api.request("PUT", KEY_PATH, key=keys[scope], json=body).status_code == 403
    assert api.request("DELETE", KEY_PATH, key=keys["read"]).status_code == 403


HEALTH = "/api/v1/mappings/crosswalks/publisher-sector/keys/XM-DAC-46008/99/8"


def _health_loan() -> str:
    """The identifier of CAF's one loan under its own sector code 8, "Salud"."""
    tree = etree.parse(str(CAF_LOANS))
    [loan] = [a for a in tree.getroot().iterfind("iati-activity")
              if a.find("sector[@vocabulary='99'][@code='8']") is not None]
    return str(loan.findtext("iati-identifier")).strip()


def test_a_lenders_own_sector_code_maps_after_one_override_for_that_lender_only(
    api: Api, keys: dict[str, str], store: Engine, tmp_path: Path
) -> None:
    """CAF publishes its own sector codes (vocabulary 99: "8 Salud"); the ministry maps its
    8 to basic health care (12220), remaps, and CAF's figures move; another lender's own
    code 8 is not CAF's and stays as it was."""
    other = "XM-DAC-99999"
    copy = variant_of_caf(tmp_path / "other.xml", other)
    pushed = api.request("POST", "/api/v1/activities", key=keys["publish"],
                         content=CAF_LOANS.read_bytes())
    assert pushed.json()["counts"]["created"] == 27
    assert remap(store).computed == 0  # views were made on push
    identifier = _health_loan()
    view_url = f"/api/v1/activities/{identifier}/budget-view"
    before = api.request("GET", view_url, key=keys["read"]).json()
    sectors = {f["code"] for f in before["figures"] if f["classification"] == "sector"}
    assert sectors == {"121"}  # the file's proposed row: Health, General
    subsectors = _subsectors(before)
    assert None not in subsectors

    refused = api.request(  # the DAC crosswalk is never read for a publisher's own code
        "PUT", "/api/v1/mappings/crosswalks/sector-investment-subsector/keys/99/8",
        key=keys["admin"], json=_override(_another_subsector()))
    assert refused.status_code == 422
    assert "publisher-sector" in refused.json()["detail"]

    decided = api.request("PUT", HEALTH, key=keys["admin"], json={
        "rows": [{"target": "12220", "status": "verified", "source": "ministry review"}],
        "note": "CAF's Salud loans are basic health care"})
    assert decided.status_code == 200, decided.text
    assert remap(store).computed >= 1
    after = api.request("GET", view_url, key=keys["read"]).json()
    assert {f["code"] for f in after["figures"] if f["classification"] == "sector"} == {"12220"}
    assert _subsectors(after) == {r.code for r in investment_subsectors(
        "1", "12220", on=date(2024, 1, 1))}
    rules = {f["rule"] for f in after["figures"] if f["classification"] == "investment_subsector"}
    assert all("publisher-sector XM-DAC-46008/99/8 → 12220 (verified)" in r for r in rules)

    lender = add_publisher(store, other, name="Another lender")
    assert push(store, lender, copy).counts.created == 27
    theirs = api.request("GET", f"/api/v1/activities/{identifier.replace('XM-DAC-46008', other)}"
                         "/budget-view",
                         key=keys["read"]).json()
    unmapped = [f for f in theirs["figures"] if f["classification"] == "investment_subsector"]
    assert {f["code"] for f in unmapped} == {None}
    assert "publisher-sector XM-DAC-99999/99/8" in unmapped[0]["rule"]


def variant_of_caf(target: Path, ref: str) -> Path:
    """CAF's loans as another lender would publish them: its ref, and identifiers under its
    own prefix (CAF's prefix is CAF's alone)."""
    tree = etree.parse(str(CAF_LOANS))
    for activity in tree.getroot().iterfind("iati-activity"):
        element = activity.find("iati-identifier")
        assert element is not None
        element.text = (element.text or "").strip().replace("XM-DAC-46008", ref, 1)
        activity.find("reporting-org").set("ref", ref)  # type: ignore[union-attr]
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target
