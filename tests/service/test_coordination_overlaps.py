"""Overlap alerts over HTTP, on SQLite and PostgreSQL: the real USAID Ecuador file and the
worked examples, plus a second donor's activity in Esmeraldas, or Spain's real activities
in Ecuador.

The second donor's activity is derived in the test from the worked example
health-grant-esmeraldas.xml with lxml: UNICEF (XM-DAC-41122) funds child vaccination in
the same place and year, half health (12250, DAC category 122) and half food assistance
(74020), implemented by the World Food Programme (XM-DAC-41140), which implements USAID's
real 2023–2026 activity US-GOV-1-720BHA23IO00116 in the same category 740. Spain's are AECID's
five real activities for Ecuador (the demo's extract of a d-portal download, see
service/demo/SOURCES.md), which publish no location.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine

from service.models import KeyScope
from service.services.coordination.features import kept_facts
from service.services.coordination.overlaps import (
    OverlapAlert,
    OverlapKind,
    Partnered,
    SectorLevel,
    overlaps,
    partners,
)
from service.services.following import Kept
from service.services.query import ActivityFilter
from tests.support.loads import DONORS
from tests.support.publishing import PARSER, USAID, Api, add_publisher, new_key
from tests.support.samples import CAF_LOANS, EXAMPLES
from tests.support.spreadsheets import without_bom

UNICEF = "XM-DAC-41122"
WFP = "XM-DAC-41140"
VACCINES = f"{UNICEF}-VACUNAS-ESMERALDAS"
HEALTH = "ES-DAC-2-EJEMPLO-SALUD-ESMERALDAS"
USAID_WFP = "US-GOV-1-720BHA23IO00116"
AECID = "ES-DIR3-EA0035768"
AECID_FILE = CAF_LOANS.parent / "dportal-spain-aecid-p16-ecuador.xml"


def vaccination(target: Path) -> Path:
    tree = etree.parse(str(EXAMPLES / "health-grant-esmeraldas.xml"), PARSER)
    activity = tree.getroot().find("iati-activity")
    assert activity is not None
    activity.find("iati-identifier").text = VACCINES  # type: ignore[union-attr]
    activity.find("reporting-org").set("ref", UNICEF)  # type: ignore[union-attr]
    title = activity.find("title/narrative")
    assert title is not None
    title.text = "Vacunación infantil en Esmeraldas"
    funder = activity.find("participating-org")
    assert funder is not None
    funder.set("ref", UNICEF)
    funder.find("narrative").text = "UNICEF"  # type: ignore[union-attr]
    for other in activity.findall("participating-org[@role='4']"):  # WFP implements it alone
        activity.remove(other)
    implementer = etree.Element("participating-org", role="4", ref=WFP, type="40")
    etree.SubElement(implementer, "narrative").text = "World Food Programme"
    funder.addnext(implementer)
    sector = activity.find("sector")
    assert sector is not None
    sector.set("code", "12250")
    sector.set("percentage", "50")
    sector.addnext(etree.Element("sector", vocabulary="1", code="74020", percentage="50"))
    activity.find("transaction/value").text = "200000.00"  # type: ignore[union-attr]
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


@pytest.fixture
def overlapping(loaded: tuple[Api, str, str], store: Engine, tmp_path: Path) -> tuple[Api, str]:
    api, read, _ = loaded
    # UNICEF is known already: a partner in USAID's file, linked when it was pushed.
    answer = api.request("POST", "/api/v1/activities", key=new_key(store, UNICEF, KeyScope.publish),
                         content=vaccination(tmp_path / "unicef.xml").read_bytes())
    assert answer.json()["counts"]["created"] == 1, answer.text
    return api, read


def _alerts(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.request("GET", "/api/v1/coordination/overlaps", key=key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["alerts"]  # type: ignore[no-any-return]


def _figures(
    api: Api, key: str, identifier: str, reporting_org: str, classification: str, code: str,
    years: set[int] | None = None,
) -> dict[str, Decimal]:
    """An activity's figures of one classification's code (a prefix of it) in the budget
    export, by measure, in `years` (all when none)."""
    answer = api.request("GET", "/api/v1/exports/budget.csv", key=key, params={
        "classification": classification, "reporting_org": reporting_org})
    assert answer.status_code == 200, answer.text
    found: dict[str, Decimal] = defaultdict(Decimal)
    for row in csv.DictReader(io.StringIO(without_bom(answer.text))):
        if row["iati_identifier"] == identifier and row["code"].startswith(code) and (
                years is None or int(row["year"]) in years):
            found[row["measure"]] += Decimal(row["amount_usd"])
    return dict(found)


def test_two_donors_in_one_sector_province_and_year_raise_an_alert(
    overlapping: tuple[Api, str],
) -> None:
    api, read = overlapping
    [alert] = _alerts(api, read, kind="sector-province")
    assert (alert["sector"], alert["province"], alert["years"]) == ("122", "08", [2024])
    assert alert["donors"] == sorted([DONORS["health-grant-esmeraldas.xml"], UNICEF])
    shown = {a["iati_identifier"]: a for a in alert["activities"]}
    assert set(shown) == {HEALTH, VACCINES}
    # Every figure is the budget view's: the province split whole, the sector split half.
    spanish = DONORS["health-grant-esmeraldas.xml"]
    for identifier, donor in ((HEALTH, spanish), (VACCINES, UNICEF)):
        found = shown[identifier]
        assert _decimals(found["province_usd"]) == _figures(
            api, read, identifier, donor, "province", "08")
        in_category = _figures(api, read, identifier, donor, "sector", "12220") or _figures(
            api, read, identifier, donor, "sector", "12250")
        assert _decimals(found["sector_usd"]) == in_category
    vaccines = _decimals(shown[VACCINES]["province_usd"])
    assert _decimals(shown[VACCINES]["sector_usd"]) == {m: v / 2 for m, v in vaccines.items()}
    five = _alerts(api, read, kind="sector-province", sector_level="sector")
    assert five == []  # 12220 and 12250: the same category, different sectors
    assert _alerts(api, read, kind="sector-province", year_from=2025) == []
    assert _alerts(api, read, kind="sector-province", province="17") == []
    assert len(_alerts(api, read, kind="sector-province", sector="122")) == 1


def test_where_provinces_are_unknown_donors_meet_at_national_level(
    loaded: tuple[Api, str, str], store: Engine,
) -> None:
    """Neither USAID nor AECID places its money in a province: once no alert at all, now
    they meet at national level in emergency response (720) in 2020. USAID's health
    activities of unknown province meet Spain's grant in Esmeraldas in 2024 there too."""
    api, read, _ = loaded
    add_publisher(store, AECID, name="AECID")
    answer = api.request("POST", "/api/v1/activities", key=new_key(store, AECID, KeyScope.publish),
                         content=AECID_FILE.read_bytes())
    assert answer.json()["counts"]["created"] == 5, answer.text
    alerts = {a["sector"]: a for a in _alerts(api, read, kind="sector-national")}
    emergency = alerts["720"]
    assert (emergency["province"], emergency["years"]) == (None, [2020])
    assert emergency["donors"] == [AECID, USAID]
    assert {a["reporting_org"] for a in emergency["activities"]} == {AECID, USAID}
    assert all(a["provinces"] == [None] for a in emergency["activities"])
    for activity in emergency["activities"]:  # its money in the category that year
        in_category = _figures(api, read, activity["iati_identifier"],
                               activity["reporting_org"], "sector", "720", years={2020})
        assert _decimals(activity["sector_usd"]) == {m: v for m, v in in_category.items() if v}

    health = alerts["122"]
    assert (health["years"], health["donors"]) == ([2024], sorted([DONORS[
        "health-grant-esmeraldas.xml"], USAID]))
    placed = {a["iati_identifier"]: a["provinces"] for a in health["activities"]}
    assert placed.pop(HEALTH) == ["08"]
    assert placed
    assert all(provinces == [None] for provinces in placed.values())
    # Labelled apart from the province alerts, of which there are none: no province holds
    # money of two donors.
    assert _alerts(api, read, kind="sector-province") == []
    assert all(a["kind"] == "sector-national" for a in alerts.values())
    assert _alerts(api, read, kind="sector-national", province="08") == []
    assert [a["sector"] for a in _alerts(api, read, kind="sector-national", sector="720")] == [
        "720"]
    assert _alerts(api, read, kind="sector-national", year_from=2026) == []


def _decimals(amounts: dict[str, str]) -> dict[str, Decimal]:
    return {measure: Decimal(amount) for measure, amount in amounts.items()}


def test_one_implementing_partner_of_two_donors_for_similar_purposes(
    overlapping: tuple[Api, str],
) -> None:
    api, read = overlapping
    [alert] = _alerts(api, read, kind="implementing-partner")
    assert alert["implementing_partner"] == WFP
    assert alert["donors"] == sorted([USAID, UNICEF])
    [match] = alert["matches"]
    assert {match["a"], match["b"]} == {USAID_WFP, VACCINES}
    assert match["sector_categories"] == ["740"]
    shown = {a["iati_identifier"]: a for a in alert["activities"]}
    assert set(shown) == {USAID_WFP, VACCINES}
    assert shown[USAID_WFP]["reporting_org"] == USAID
    assert Decimal(shown[VACCINES]["amounts_usd"]["disbursement"]) > 0
    assert _alerts(api, read, kind="implementing-partner", reporting_org=USAID) == []


def test_overlaps_need_a_key(overlapping: tuple[Api, str]) -> None:
    api, _ = overlapping
    answer = api.request("GET", "/api/v1/coordination/overlaps")
    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.invalid-key"


def _partner_alerts(store: Engine) -> tuple[list[OverlapAlert], Partnered, Partnered]:
    """The implementing-partner alerts, the partners kept with the facts (updated from
    those before), and the partners of the same facts worked out afresh."""
    with store.connect() as connection:
        alerts = overlaps(connection, ActivityFilter(), sector_level=SectorLevel.sector_category,
                          kind=OverlapKind.implementing_partner).alerts
        kept = kept_facts(connection)
    return alerts, partners(kept), Partnered.of(Kept(dict(kept)))


def test_the_kept_partners_follow_a_push_and_a_deletion(
    loaded: tuple[Api, str, str], store: Engine, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = loaded[0]
    updates: list[frozenset[int]] = []  # the changed activities of each kept one updated
    update = Partnered.updated

    def updated(self: Partnered, old: Any, new: Any, changed: frozenset[int]) -> Partnered:
        if self.activities:  # not `Partnered.of`, which starts from nothing
            updates.append(changed)
        return update(self, old, new, changed)

    monkeypatch.setattr(Partnered, "updated", updated)
    alerts, kept, fresh = _partner_alerts(store)
    updates.clear()  # whatever the values kept before this test's store gave
    assert alerts == []
    assert kept == fresh
    implemented = kept.activities[WFP]  # USAID's activities alone: no second donor yet

    unicef = new_key(store, UNICEF, KeyScope.publish)
    answer = api.request("POST", "/api/v1/activities", key=unicef,
                         content=vaccination(tmp_path / "unicef.xml").read_bytes())
    assert answer.json()["counts"]["created"] == 1, answer.text
    alerts, kept, fresh = _partner_alerts(store)
    assert [a.implementing_partner for a in alerts] == [WFP]
    assert [(m.a, m.b) for m in alerts[0].matches] == [(USAID_WFP, VACCINES)]
    assert [a.iati_identifier for a in alerts[0].activities] == [USAID_WFP, VACCINES]
    assert kept == fresh
    assert [len(changed) for changed in updates] == [1]  # the one pushed: not afresh
    assert len(kept.activities[WFP]) == len(implemented) + 1

    answer = api.request("DELETE", f"/api/v1/activities/{VACCINES}", key=unicef)
    assert answer.status_code == 204, answer.text
    alerts, kept, fresh = _partner_alerts(store)
    assert alerts == []
    assert kept == fresh
    assert kept.activities[WFP] == implemented
    assert WFP not in kept.matches
    assert [len(changed) for changed in updates] == [1, 1]
