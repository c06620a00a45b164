"""The public pages count Ecuador's share, on SQLite and PostgreSQL, with real files where
Ecuador is one recipient among several or none (the IDB's and IDRC's d-portal pages), or
is named on the transactions only (USAID's): every total the pages and their downloads
show equals the sum of Ecuador's shares worked out here from the XML, to the cent; the
activities not for Ecuador are not on the pages, and the API's filters still reach them;
implementing partners are grouped by registry entry."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree, html

from tests.support.loads import DONORS, Loaded, regional_paths
from tests.support.publishing import USAID_EC, every_page
from tests.support.samples import EXAMPLES, PARSER, sample
from tests.support.shares import (
    MEASURES,
    REPAYMENTS,
    activities,
    ecuador_money,
    for_ecuador,
    identifier,
)
from tests.support.spreadsheets import without_bom

IDB, IDRC = "XI-IATI-IADB", "XM-DAC-301-2"
MINISTRY = "EC-RUC-1760000900001"  # Ecuador's Ministry of Economy and Finance
# Stored, and not for Ecuador: a regional operation of the IDB (region 498, America), an
# IDRC grant to South America (region 489) naming no country, the IDB's loan to Panama,
# and an IDRC grant to countries of South Asia.
NOT_FOR_ECUADOR = ("XI-IATI-IADB-RG-L1143", "XM-DAC-301-2-109450-006",
                   "XI-IATI-IADB-PN-L1163", "XM-DAC-301-2-109454-001")
IDRC_AT_40 = "XM-DAC-301-2-109450-002"  # Ecuador 40 %, beside two regions
REGIONAL_LOAN = "XI-IATI-IADB-EJEMPLO-PRESTAMO-REGIONAL"  # Ecuador 30 %, Peru 70 %


def _files() -> list[Path]:
    """Every file of the load, as pushed."""
    return [sample(USAID_EC), *(EXAMPLES / file for file in DONORS), *regional_paths()]


def _money(stored: set[str], kinds: dict[str, str]) -> dict[tuple[str, str], Decimal]:
    """Ecuador's shares of the stored activities' money, worked out from the XML."""
    return ecuador_money(activities(_files(), stored), kinds)


def _stored(regional: Loaded) -> set[str]:
    rows = every_page(regional.api, regional.read, fields="iati_identifier", limit=1000)
    return {row["iati_identifier"] for row in rows}


def _page(regional: Loaded, path: str, **params: Any) -> html.HtmlElement:
    answer = regional.api.request("GET", path, params=params)
    assert answer.status_code == 200, (path, answer.status_code)
    return html.fromstring(answer.text)


def _csv(regional: Loaded, path: str, **params: Any) -> list[dict[str, str]]:
    answer = regional.api.request("GET", path, params=params)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(without_bom(answer.text))))


def _dollars(cell: str) -> Decimal:
    """An amount as the Spanish pages write it (US$ 1.234.567,89)."""
    return Decimal(re.sub(r"[^\d,-]", "", cell).replace(",", ".") or "0")


def test_every_total_is_the_sum_of_ecuadors_shares_worked_out_from_the_xml(
    regional: Loaded,
) -> None:
    """The IDB's loans to Ecuador count whole and its loans elsewhere not at all, IDRC's
    grant to Ecuador and two regions counts 40 %, its grants to several countries their
    Ecuador percentage, USAID's transactions for Ecuador whole: in the download of the
    aggregates, the overview's panel by donor and the organisations' money."""
    stored = _stored(regional)
    expected = _money(stored, MEASURES)
    assert expected[IDRC, "expenditure"]
    assert expected[IDB, "disbursement"]
    rows = _csv(regional, "/descargas/agregados.csv", group_by=["reporting_org", "measure"],
                measure=list(MEASURES.values()), basis="gross")
    assert {(row["reporting_org"], row["measure"]): Decimal(row["amount_usd"])
            for row in rows} == expected

    overview = _page(regional, "/", basis="gross", measure="disbursement")
    shown = {row.xpath("string(th/a/@href)").rsplit("/", 1)[-1]: _dollars(
        row.xpath("string(td[4])")) for row in overview.xpath(
            "//section[@aria-labelledby='by_donor']//tbody/tr")}
    assert shown == {ref: amount for (ref, measure), amount in expected.items()
                     if measure == "disbursement"}

    for ref, heading, measure in ((IDB, "Desembolsado", "disbursement"),
                                  (IDRC, "Gastos", "expenditure")):
        page = _page(regional, f"/organizaciones/{ref}")
        money = page.xpath(f"string(//table[@id='partner-money']//tr[th='{heading}']/td[1])")
        assert _dollars(money) == expected[ref, measure], ref
        key = "disbursed" if measure == "disbursement" else "expenditure"
        whole, mine = (regional.api.request(
            "GET", f"/api/v1/organisations/{ref}", key=regional.read,
            params={"ecuador": scope}).json()[key] for scope in ("false", "true"))
        assert Decimal(mine["usd"]) == expected[ref, measure]
        assert Decimal(whole["usd"]) > Decimal(mine["usd"])  # its portfolio elsewhere


def test_a_loan_to_several_countries_is_repaid_in_ecuadors_part(regional: Loaded) -> None:
    """The debt page and its download: the IDB's interest on its loans to Ecuador, not on
    its loans elsewhere, and 30 % of each repayment and balance of its loan to Ecuador at
    30 % and Peru; the API still adds up the whole without `ecuador`."""
    stored = _stored(regional)
    repaid = _money(stored, REPAYMENTS)
    rows = _csv(regional, "/descargas/deuda.csv", group_by="lender")
    assert {row["lender"]: Decimal(row["total_usd"]) for row in rows} == {
        ref: amount for (ref, _), amount in repaid.items()}
    real = {f"{IDB}-EC-L1269", f"{IDB}-EC-L1270"}  # interest on the IDB's loans to Ecuador
    assert _money(real, REPAYMENTS) == {
        (IDB, "repaid"): Decimal("583670.00")}
    assert _money({REGIONAL_LOAN}, REPAYMENTS) == {
        (IDB, "repaid"): Decimal("370370.37") + Decimal("100000.00") - Decimal("306000.00")}
    whole = regional.api.request("GET", "/api/v1/debt", key=regional.read,
                                 params={"reporting_org": IDB}).json()
    assert Decimal(whole["service_total_usd"]) > repaid[IDB, "repaid"]
    page = _page(regional, "/deuda")
    assert _dollars(page.xpath("string(//table[@id='debt-by-lender']/tfoot//td[4])")) == sum(
        repaid.values())
    outstanding = page.xpath("string(//table[@id='debt-balances']//tr[td='2024']/td[2])")
    assert _dollars(outstanding) == Decimal("450000.00")  # 30 % of 1,500,000
    [balance] = [b for b in whole["balances"] if b["year"] == 2024]
    assert Decimal(balance["principal_outstanding_usd"]) == Decimal("1500000.00")
    listed = {href.removeprefix("/deuda/")
              for href in page.xpath("//table[@id='debt-loans']//a/@href")}
    assert {f"{IDB}-EC-L1269", f"{IDB}-EC-L1270", REGIONAL_LOAN} <= listed
    assert all(loan.startswith(f"{IDB}-EC-") for loan in listed - {REGIONAL_LOAN}
               if loan.startswith(IDB))
    assert [loan["iati_identifier"] for loan in whole["loans"]
            if not loan["iati_identifier"].startswith(f"{IDB}-EC-")]  # its loans elsewhere


def test_activities_not_for_ecuador_are_not_on_the_pages(regional: Loaded) -> None:
    """A regional operation naming only a region (even South America), another country's
    loan and a grant to other countries: on no list, page or download of the dashboard;
    reachable through the API's filters, which keep their meaning."""
    api, key = regional.api, regional.read
    stored = _stored(regional)
    assert set(NOT_FOR_ECUADOR) <= stored
    ecuador = {identifier(a) for a in activities(_files(), stored) if for_ecuador(a)}
    assert IDRC_AT_40 in ecuador
    listed = {row["iati_identifier"] for row in _csv(regional, "/descargas/actividades.csv")}
    assert listed == ecuador
    document = api.request("GET", "/descargas/actividades.xml").content
    assert {(a.findtext("iati-identifier") or "").strip() for a in etree.fromstring(
        document, PARSER).iterfind("iati-activity")} == ecuador
    idb = _page(regional, "/actividades", reporting_org=IDB)
    assert {text.strip() for text in idb.xpath("//table[@id='activity-list']//code/text()")
            if text.strip() != IDB} == {i for i in ecuador if i.startswith(IDB)}
    for elsewhere in NOT_FOR_ECUADOR:
        for page in (f"/actividades/{elsewhere}", f"/deuda/{elsewhere}"):
            answer = api.request("GET", page)
            assert answer.status_code == 404, page
            assert "no nombra al Ecuador" in answer.text
        for page in ("/", "/coordinacion", "/resultados", "/deuda", "/calidad",
                     "/organizaciones"):
            assert elsewhere not in api.request("GET", page).text, (elsewhere, page)
    region = every_page(api, key, recipient_region="498", fields="iati_identifier")
    assert "XI-IATI-IADB-RG-L1143" in {row["iati_identifier"] for row in region}
    panama = every_page(api, key, recipient_country="PA", fields="iati_identifier")
    assert "XI-IATI-IADB-PN-L1163" in {row["iati_identifier"] for row in panama}
    everything = every_page(api, key, fields="iati_identifier")
    assert len(everything) > len(every_page(api, key, ecuador="true", fields="iati_identifier"))

    quality = _page(regional, "/calidad")
    counts = {row.xpath("string(td[1]/a/@href)").rsplit("/", 1)[-1]: int(row.xpath(
        "string(td[2])").replace(".", "")) for row in quality.xpath("//table[@id='quality']//tr")
        if row.xpath("td")}
    assert counts[IDB] == sum(1 for i in ecuador if i.startswith(IDB))


def test_a_ministry_spelt_four_ways_is_one_implementing_partner(regional: Loaded) -> None:
    """CAF's and the European Union's four spellings of the Ministry of Economy and
    Finance: one row of the overview's panel by implementing partner, under its official
    name, and one group of the aggregates by registry entry; Panama's ministry of the
    same name (the IDB's loan to Panama) is not Ecuador's, nor on the pages."""
    api, key = regional.api, regional.read
    entry = api.request("GET", f"/api/v1/organisations/{MINISTRY}", key=key).json()
    ministry = entry["organisation"]["id"]
    asked = {"group_by": "participating_entry", "measure": ["commitment", "disbursement"]}
    by_entry = api.request("GET", "/api/v1/aggregates", key=key, params=asked).json()
    [group] = [row for row in by_entry["rows"] if row["group"]["participating_entry"] == ministry]
    assert group["activities"] == 4  # CAF's loan and the European Union's three grants
    by_org = api.request("GET", "/api/v1/aggregates", key=key,
                         params={**asked, "group_by": "participating_org"}).json()
    assert by_org["total_usd"] == by_entry["total_usd"]
    assert len(by_org["rows"]) > len(by_entry["rows"])  # the spellings apart
    asked["measure"] = ["disbursement"]
    disbursed = {row["group"]["participating_entry"]: Decimal(row["amount_usd"])
                 for row in api.request("GET", "/api/v1/aggregates", key=key,
                                        params=asked).json()["rows"]}
    overview = _page(regional, "/")  # disbursements, by default
    partners = overview.xpath("//section[@aria-labelledby='by_partner']//tbody/tr/th")
    named = [th for th in partners if "Economía y Finanzas" in th.text_content()]
    assert [th.text_content() for th in named] == ["Ministerio de Economía y Finanzas"]
    assert named[0].xpath("string(a/@href)") == f"/organizaciones/{ministry}"
    assert _dollars(named[0].xpath("string(../td[4])")) == disbursed[ministry]
    rows = _csv(regional, "/descargas/agregados.csv", **asked)
    assert {row["participating_entry_name"] for row in rows
            if row["participating_entry"] == str(ministry)} == {
        "Ministerio de Economía y Finanzas"}
    listed = _page(regional, "/organizaciones", q="ministerio de economia")
    assert [a.text_content() for a in listed.xpath("//table[@id='organisation-list']//td[1]/a")
            ] == ["Ministerio de Economía y Finanzas"]
    found = api.request("GET", "/api/v1/organisations", key=key,
                        params={"q": "ministerio de economia"}).json()["organisations"]
    [panama] = [o for o in found if o["id"] != ministry]  # the IDB's loan to Panama names it
    answer = api.request("GET", f"/organizaciones/{panama['id']}")
    assert answer.status_code == 404
    assert "no reporta ninguna actividad para el Ecuador" in answer.text


def test_a_regional_activity_counts_its_ecuador_percentage(regional: Loaded) -> None:
    """IDRC's grant with Ecuador at 40 % beside two regions: its budget view keeps 40 %,
    and its amounts count 40 %, to the cent; the organisation's page counts the same."""
    view = regional.api.request("GET", "/api/v1/activity/budget-view", key=regional.read,
                                params={"iati_identifier": IDRC_AT_40}).json()
    assert Decimal(view["ecuador_share"]) == 40
    counted: dict[str, Decimal] = defaultdict(Decimal)
    for figure in view["figures"]:
        if figure["classification"] == "fuente" and figure["location"].startswith("transaction"):
            counted[figure["measure"]] += Decimal(figure["amount_usd"])
    expected = _money({IDRC_AT_40}, MEASURES)
    assert expected
    assert dict(counted) == {measure: amount for (_, measure), amount in expected.items()}
