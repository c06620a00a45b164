"""The public dashboard in a real browser: every page loads without console errors and
passes axe-core's WCAG 2.1 A/AA rules, filters change the results, downloads are valid
files, the language switch works and is remembered, the Spanish pages say everything in
Spanish (codes with their names, and why each figure is not settled), one entity is one
entry whatever its spelling, a regional lender counts for Ecuador's share only and other
countries' activities are not shown; a screenshot of each page is saved."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from playwright.sync_api import Browser, Page

from iati.artefacts import schema_path
from tests.support.samples import CAF_LOANS, sample
from tests.support.shares import (
    MEASURES,
    REPAYMENTS,
    activities,
    ecuador_money,
    for_ecuador,
    identifier,
)
from tests.support.spreadsheets import spreadsheet_number, spreadsheet_rows, without_bom

# One worker runs every browser test, so the dashboard is loaded and served once.
pytestmark = pytest.mark.xdist_group("dashboard")
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
ESMERALDAS = "08"
NETHERLANDS_LOAN = "NL-1-PPR-24706"  # loan terms and status, not for Ecuador
WORLD_BANK_LOAN = "44000-P122640"  # repayments of a loan to El Salvador
REGIONAL_LOAN = "XI-IATI-IADB-EJEMPLO-PRESTAMO-REGIONAL"  # Ecuador 30 %: terms, status
IDB_LOAN = "XI-IATI-IADB-EC-L1269"  # the IDB's loan to Ecuador, with interest paid
PANAMA_LOAN = "XI-IATI-IADB-PN-L1163"  # the IDB's loan to Panama
IDB, IDRC = "XI-IATI-IADB", "XM-DAC-301-2"
REGIONAL_PAGE = sample("real/dportal-iadb-p3.xml")
CAF_LOAN = "XM-DAC-46008-cfa012677"  # CAF's loan to the Ministry of Economy and Finance
MINISTRY = "EC-RUC-1760000900001"  # its RUC, as the entities catalogue gives it
HAITI_PROVIDED = "EC-RUC-1760000820001-CSS-HT-2010-ARTIBONITE"  # Ecuador's, to Haiti


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def _visit(page: Page, url: str) -> list[str]:
    """Open `url`; the console errors and uncaught exceptions it caused."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    answer = page.goto(url)
    assert answer is not None
    assert answer.status == 200, url
    return errors


def _axe(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE)
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
    )
    return list(found)


def _an_activity(dashboard: str) -> str:
    rows = csv.DictReader(io.StringIO(without_bom(httpx.get(
        f"{dashboard}/descargas/actividades.csv", params={"province": ESMERALDAS}).text)))
    return next(rows)["iati_identifier"]


def _pages(dashboard: str) -> dict[str, str]:
    return {
        "overview": "/", "activities": "/actividades",
        "activity": f"/actividades/{_an_activity(dashboard)}",
        "loan": f"/actividades/{CAF_LOAN}",
        "organisations": "/organizaciones", "organisation": "/organizaciones/US-GOV-1",
        "ministry": f"/organizaciones/{MINISTRY}",
        "quality": "/calidad", "publisher": "/calidad/US-GOV-1",
        "coordination": "/coordinacion", "results": "/resultados",
        "debt": "/deuda", "loan-debt": f"/deuda/{REGIONAL_LOAN}",
        "provided": "/cooperacion-ofrecida", "security": "/seguridad",
        "agreements": "/convenios", "agreement": "/convenios/1",
    }


@pytest.mark.parametrize("name", ["overview", "activities", "activity", "loan",
                                  "organisations", "organisation", "ministry", "quality",
                                  "publisher", "coordination", "results", "debt", "loan-debt",
                                  "provided", "security", "agreements", "agreement"])
def test_each_page_loads_cleanly_and_passes_axe(
    page: Page, dashboard: str, artefacts: Path, name: str
) -> None:
    errors = _visit(page, dashboard + _pages(dashboard)[name])
    assert page.locator("main h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("header nav a").count() >= 6
    assert "Datos actualizados" in page.locator(".freshness").inner_text()
    page.screenshot(path=str(artefacts / f"{name}.png"), full_page=True)
    assert errors == []
    assert _axe(page) == []


def test_the_overview_shows_money_by_year_donor_and_province(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + "/")
    assert page.locator("#by-year").is_visible()
    donors = page.locator("section[aria-labelledby=by_donor] tbody th").all_inner_texts()
    assert "USAID" in donors
    provinces = page.locator("section[aria-labelledby=by_province] tbody th").all_inner_texts()
    assert "Esmeraldas" in provinces
    provinces_map = page.locator("section[aria-labelledby=by_province] svg.map")
    assert provinces_map.locator("path[data-province]").count() == 24
    esmeraldas = provinces_map.locator(f"path[data-province='{ESMERALDAS}']")
    assert esmeraldas.get_attribute("fill") != "#f4f4f4"
    assert "Esmeraldas" in (esmeraldas.locator("title").text_content() or "")
    chart = page.locator("section[aria-labelledby=by_donor] svg[role=img]")
    assert chart.get_attribute("aria-labelledby") == "by_donor-title"
    page.select_option("#measure", "commitment")
    _submit(page)
    assert "measure=commitment" in page.url
    assert "Compromisos" in page.locator("#by_donor").inner_text()


def _panel_csv(page: Page, panel: str) -> list[dict[str, str]]:
    with page.expect_download() as waiting:
        page.locator(f"section[aria-labelledby={panel}] a", has_text="Descargar CSV").click()
    text = Path(waiting.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(without_bom(text))))


def _submit(page: Page) -> None:
    """Send the page's filter form and wait for the page it leads to."""
    with page.expect_navigation():
        page.click("form.filters button")


def _money(rows: list[dict[str, str]]) -> Decimal:
    return sum((Decimal(row["amount_usd"]) for row in rows), Decimal(0))


def test_a_journalist_finds_who_funds_what_in_a_province_and_through_whom(
    page: Page, dashboard: str
) -> None:
    """The path of the dashboard's purpose: in Spanish, from the overview's own form, the
    money in one province and sector in one year, its donors, implementing partners and
    plan objectives, each downloadable, and each the same money."""
    errors = _visit(page, dashboard + "/")
    partners = page.locator("section[aria-labelledby=by_partner] tbody th").all_inner_texts()
    assert len(partners) > 1  # USAID's implementers
    assert _money(_panel_csv(page, "by_partner")) == _money(_panel_csv(page, "by_donor")) > 0
    page.select_option("#province", ESMERALDAS)
    page.fill("#sector", "122")
    _submit(page)
    assert f"province={ESMERALDAS}" in page.url
    assert "sector=122" in page.url
    page.select_option("#year", "2024")
    _submit(page)
    assert "year=2024" in page.url
    donors = page.locator("section[aria-labelledby=by_donor] tbody th").all_inner_texts()
    assert donors == ["AECID"]
    assert page.locator("section[aria-labelledby=by_partner] tbody th").all_inner_texts() == [
        "Ministerio de Salud Pública"]
    assert page.locator("section[aria-labelledby=by_objective] tbody th").count() >= 1
    by_donor, by_partner, by_objective = (
        _panel_csv(page, panel) for panel in ("by_donor", "by_partner", "by_objective"))
    assert [row["reporting_org"] for row in by_donor] == ["ES-DAC-2"]
    assert _money(by_donor) == _money(by_partner) == _money(by_objective) > 0
    assert errors == []


def test_loans_and_grants_are_shown_apart_and_a_lender_is_no_donor(
    page: Page, dashboard: str
) -> None:
    """The IDB's loan and AECID's grant each in a column of its own, in the tables, the
    stacked bars and the download; the total column says it adds every instrument."""
    errors = _visit(page, dashboard + "/")
    donors = page.locator("section[aria-labelledby=by_donor]")
    headers = donors.locator("thead th").all_inner_texts()
    assert headers == ["Cooperante", "No reembolsable (donación)", "Reembolsable (préstamo)",
                       "Otros o sin dato", "Total (todas las modalidades)", "Actividades"]
    cells = {row.locator("th").inner_text(): row.locator("td").all_inner_texts()
             for row in donors.locator("tbody tr").all()}
    grant, loan, other, total = (_shown(cell) for cell in cells["BID"][:4])
    assert (grant, loan, other) == (Decimal(0), total, Decimal(0))
    assert loan > 0
    lent = loan
    grant, loan, other, total = (_shown(cell) for cell in cells["AECID"][:4])
    assert (grant, loan, other) == (total, Decimal(0), Decimal(0))
    assert grant > 0
    assert donors.locator("svg rect.part-1").count() >= 1  # the loan's part of a bar
    assert "apilados" in (donors.locator("svg title").first.text_content() or "")
    by_instrument: dict[str, Decimal] = {}
    for row in _panel_csv(page, "by_donor"):
        if row["reporting_org"] == "XI-IATI-IADB":
            by_instrument[row["instrument"]] = Decimal(row["amount_usd"])
    assert by_instrument == {"loan": lent}
    years = page.locator("section[aria-labelledby=by-year] tbody td").all_inner_texts()
    assert "Reembolsable (préstamo)" in years
    assert "No reembolsable (donación)" in years
    assert errors == []


def _shown(cell: str) -> Decimal:
    """An amount as the Spanish pages write it (US$ 1.234.567,89) as a number."""
    digits = re.sub(r"[^\d,.-]", "", cell)
    return Decimal(digits.replace(".", "").replace(",", ".") or "0")


def test_filters_change_the_list_and_match_the_download(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + "/actividades")
    everything = page.locator("#activity-list tbody tr").count()
    page.select_option("#province", ESMERALDAS)
    _submit(page)
    rows = page.locator("#activity-list tbody tr")
    assert 0 < rows.count() < everything
    shown = {text.split("\n")[-1].strip() for text in
             rows.locator("td:first-child").all_inner_texts()}
    with page.expect_download() as waiting:
        page.click("text=Descargar CSV")
    download = Path(waiting.value.path())
    listed = list(csv.DictReader(io.StringIO(without_bom(download.read_text(encoding="utf-8")))))
    assert {row["iati_identifier"] for row in listed} == shown
    page.fill("#q", "zzzznothing")
    _submit(page)
    assert "Ninguna actividad" in page.locator("main").inner_text()


def test_the_xml_download_is_a_valid_iati_file(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + f"/actividades?province={ESMERALDAS}")
    with page.expect_download() as waiting:
        page.click("text=Descargar IATI XML")
    document = etree.parse(str(waiting.value.path()))
    schema = etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities"))))
    assert schema.validate(document), schema.error_log
    assert len(document.getroot().findall("iati-activity")) >= 1


def test_the_language_switch_is_remembered(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + "/")
    assert page.locator("header nav").inner_text().startswith("Resumen")
    page.click("header a.lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Overview" in page.locator("header nav").inner_text()
    assert "US$" in page.locator("#by_donor").locator("..").inner_text()
    page.click("header nav >> text=Activities")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text() == "Activities"
    page.click("header a.lang")
    assert page.locator("html").get_attribute("lang") == "es"


def test_the_keyboard_reaches_the_skip_link_first(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + "/actividades")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#content"
    assert page.locator("a.skip").is_visible()


def test_net_and_gross_are_both_shown_on_request(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + "/")
    assert "neto" in page.locator("#by-year").locator("..").inner_text().lower()
    page.select_option("#basis", "gross")
    _submit(page)
    assert "basis=gross" in page.url
    assert "bruto" in page.locator("#by-year").locator("..").inner_text().lower()
    assert "basis=gross" in page.locator("section[aria-labelledby=by_donor] code").inner_text()


def test_the_activity_page_shows_links_results_and_the_budget_view(
    page: Page, dashboard: str
) -> None:
    _visit(page, dashboard + _pages(dashboard)["activity"])
    main = page.locator("main").inner_text()
    for heading in ("Trazabilidad", "Resultados", "Vista presupuestaria del Ecuador",
                    "Versiones"):
        assert heading in main
    assert page.locator("#budget-view tbody tr").count() > 0
    assert "ESMERALDAS" in page.locator("#budget-view").inner_text().upper()


def test_results_group_by_plan_objective_and_donor(page: Page, dashboard: str) -> None:
    _visit(page, dashboard + "/resultados")
    assert page.locator("#result-summary tbody tr").count() >= 1
    page.select_option("#group_by", "reporting_org")
    _submit(page)
    summary = page.locator("#result-summary").inner_text()
    assert "XM-DAC-46008" in summary  # CAF's loans to Ecuador report results
    assert "44000" not in summary  # the World Bank's, in El Salvador, are not Ecuador's


def test_targets_without_actuals_have_no_progress_report_and_means_say_what_they_leave_out(
    page: Page, dashboard: str,
) -> None:
    """CAF's loans to Ecuador publish targets and no actual yet: counted as indicators
    without a progress report, not measured nor off target, and so shown on each loan."""
    caf = etree.parse(str(CAF_LOANS)).getroot()
    unreported = [indicator for indicator in caf.iter("indicator")
                  if indicator.xpath("period/target/@value")
                  and not indicator.xpath("period/actual/@value")]
    assert unreported
    _visit(page, dashboard + "/resultados?group_by=reporting_org")
    row = page.locator("#result-summary tbody tr", has_text="XM-DAC-46008")
    # activities, indicators, periods, measurable, left out, mean, median, on track, unreported
    cells = row.locator("td").all_inner_texts()
    assert (cells[3], cells[4], cells[7]) == ("0", "0", "0")
    assert cells[8] == str(len(unreported))
    assert "la mediana los incluye" in page.locator("main").inner_text()
    _visit(page, dashboard + "/actividades/XM-DAC-46008-cfa012067")  # two indicators
    progress = page.locator("#results tbody td:nth-child(6)").all_inner_texts()
    assert progress == ["Sin reporte de avance"] * 2


def test_placeholders_national_overlaps_and_decisions_are_labelled(
    page: Page, dashboard: str,
) -> None:
    """USAID's "nan" and XM-DAC-63000 (given to unrelated firms) are marked among an
    activity's participants; USAID's activities of unknown province meet other donors at
    national level, labelled so; the ministry's decisions have their section."""
    _visit(page, dashboard + "/actividades/US-GOV-1-72051824FA00001")  # KISTH, XM-DAC-63000
    assert "identificador genérico" in page.locator("#participants").inner_text()
    _visit(page, dashboard + "/actividades/US-GOV-1-72051822FA00002")  # "nan"
    assert "nombre genérico" in page.locator("#participants").inner_text()
    _visit(page, dashboard + "/coordinacion")
    national = page.locator("#overlap-list tbody tr", has_text="Nacional: provincia desconocida")
    assert national.count() >= 1
    assert "Mismo sector, a nivel nacional" in national.first.inner_text()
    assert "provincia desconocida" in national.first.locator("td").last.inner_text()
    decisions = page.locator("section[aria-labelledby=decisions]")
    assert "Aún no hay decisiones." in decisions.inner_text()


def test_the_debt_pages_show_ecuadors_loans_terms_status_and_repayments(
    page: Page, dashboard: str, artefacts: Path
) -> None:
    """From the debt page to the loans for Ecuador: the IDB's real interest on its loan to
    Ecuador, 30 % of the repayments and balance of its loan to Ecuador and Peru (the loan's
    own page shows its terms, status and repayments as published); the World Bank's and
    the Netherlands' loans to other countries are not there; the Spanish spreadsheet
    download has the page's figures."""
    errors = _visit(page, dashboard + "/deuda")
    lenders = page.locator("#debt-by-lender tbody th").all_inner_texts()
    assert set(lenders) == {"BID"}
    items = page.locator("#debt-by-item tbody th").all_inner_texts()
    assert any(text.startswith("560301") for text in items)
    assert any(text.startswith("960301") for text in items)
    shown = [_shown(cell) for cell in page.locator(
        "#debt-by-lender tbody td:nth-child(5)").all_inner_texts()]
    with page.expect_download() as waiting:
        page.locator("a[href*='deuda.csv?format=csv-es']").first.click()
    rows = spreadsheet_rows(Path(waiting.value.path()).read_bytes(), "es")
    assert [spreadsheet_number(row["Servicio de la deuda (USD)"], "es") for row in rows] == shown
    repaid = ecuador_money(activities(_idb_files(), None), REPAYMENTS)
    assert sum(shown, Decimal(0)) == repaid[IDB, "repaid"]
    balances = page.locator("#debt-balances").inner_text()
    assert "450.000,00" in balances  # 30 % of the 1,500,000 outstanding
    assert "Países Bajos" not in balances
    loans = page.locator("#debt-loans").inner_text()
    for elsewhere in (NETHERLANDS_LOAN, WORLD_BANK_LOAN, PANAMA_LOAN):
        assert elsewhere not in loans
        assert httpx.get(f"{dashboard}/deuda/{elsewhere}").status_code == 404

    page.click(f"#debt-loans a[href='/deuda/{REGIONAL_LOAN}']")
    terms = page.locator("#loan-terms").inner_text()
    assert "4,00" in terms
    assert "Cuotas iguales de principal" in terms
    assert "Trimestral" in terms
    assert "31 dic 2035" in terms
    status = page.locator("#loan-status").inner_text()
    assert "2024" in status
    assert "1.500.000,00" in status
    text = page.locator("#repayment-list").inner_text()
    assert "960301" in text
    assert "560301" in text
    assert "-1.020.000,00" in text
    page.screenshot(path=str(artefacts / "loan-repayments.png"), full_page=True)
    _visit(page, dashboard + f"/deuda/{IDB_LOAN}")
    assert "262.081,00" in page.locator("#repayment-list").inner_text()
    _visit(page, dashboard + f"/deuda/{REGIONAL_LOAN}?lang=en")
    assert "Equal Principal Payments" in page.locator("#loan-terms").inner_text()
    assert "Loan status at the end of 2024" in page.locator("main").inner_text()
    assert errors == []


def _idb_files() -> list[Path]:
    """The files of the IDB's and IDRC's activities on the dashboard."""
    examples = Path(__file__).resolve().parents[1] / "fixtures" / "examples"
    return [REGIONAL_PAGE, examples / "road-loan-development-bank.xml",
            examples / "regional-loan-terms-status.xml"]


def _organisation_money(page: Page, heading: str) -> Decimal:
    return _shown(page.locator(f"#partner-money tr:has(th:text-is('{heading}')) td").first
                  .inner_text())


def test_the_security_page_puts_usaids_security_money_beside_its_development(
    page: Page, dashboard: str,
) -> None:
    """USAID's disbursements in the security lens's DAC sectors, worked by hand from its
    file (see tests/service/test_security_lens.py): 12,201,348.00 of 244,705,012.00, of
    which 2,458,546.00 in 2013; provinces only where the budget view allows, the mixed
    activities apart; keyword proposals listed, not counted."""
    errors = _visit(page, dashboard + "/seguridad?reporting_org=US-GOV-1")
    [usaid] = page.locator("#security-by-donor tbody tr").all()
    cells = [_shown(cell) for cell in usaid.locator("td").all_inner_texts()]
    assert cells[:3] == [Decimal("12201348.00"), Decimal("232503664.00"),
                         Decimal("244705012.00")]
    assert cells[3] == Decimal("4.99")  # "4,99 %"
    years = {row.locator("th").inner_text(): _shown(row.locator("td").first.inner_text())
             for row in page.locator("#security-by-year tbody tr").all()}
    assert years["2013"] == Decimal("2458546.00")
    assert sum(years.values(), Decimal(0)) == Decimal("12201348.00")
    instruments = page.locator("#security-by-instrument tbody th").all_inner_texts()
    assert instruments == ["No reembolsable (donación)"]
    assert "por sector y por provincia por separado" in page.locator("#province-rule").inner_text()
    mixed = page.locator("#province-mixed").inner_text()
    assert "Actividades mixtas" in mixed
    objectives = page.locator("#security-by-objective tfoot td.num").inner_text()
    assert _shown(objectives) == Decimal("12201348.00")
    proposals = page.locator("#security-proposals").inner_text()
    assert "US-GOV-1-AID-OAA-A-15-00048" in proposals
    assert "narcotráfico" in proposals
    assert errors == []


def test_ecuadors_own_cooperation_is_shown_apart_from_what_it_receives(
    page: Page, dashboard: str
) -> None:
    """The ministry's own south-south cooperation (Haiti, El Salvador) has its page, with
    its own totals by recipient country, year, sector and modality; the overview and the
    activity list, which show the cooperation Ecuador receives, do not count it."""
    _visit(page, dashboard + "/")
    overview = page.locator("main").inner_text()
    assert "Haití" not in overview
    assert "15.000.000,00" not in overview
    _visit(page, dashboard + "/actividades?q=Artibonite")
    assert HAITI_PROVIDED not in page.locator("main").inner_text()
    page.click("header nav a[href='/cooperacion-ofrecida']")
    assert page.locator("main h1").inner_text() == (
        "Cooperación Sur-Sur y triangular ofrecida por Ecuador")
    countries = page.locator("#provided-by-recipient_country tbody th").all_inner_texts()
    assert countries == ["Haití"]
    assert "US$ 15.000.000,00" in page.locator("#provided-by-recipient_country").inner_text()
    assert page.locator("#provided-by-year tbody th").all_inner_texts() == ["2011"]
    assert page.locator("#provided-by-modality tbody th").all_inner_texts() == ["Sur-Sur"]
    listed = page.locator("#provided-list tbody th").all_inner_texts()
    assert len(listed) == 3
    assert any("Socio Bosque" in row for row in listed)
    summary = page.locator("#provided-summary").inner_text()
    assert "Sur-Sur\t3" in summary
    assert "Triangular\t0" in summary


def test_a_regional_lender_counts_for_ecuadors_share_only(page: Page, dashboard: str) -> None:
    """The IDB's page of activities everywhere and IDRC's grant to Ecuador and two regions:
    the overview and the organisations' pages show the sum of Ecuador's shares worked out
    from the XML, to the cent — the IDB's loans to Ecuador, 30 % of its loan to Ecuador and
    Peru, 40 % of IDRC's grant — never the lender's portfolio; the IDB's loans to other
    countries and its regional operations are on no list and have no page."""
    expected = ecuador_money(activities(_idb_files(), None), MEASURES)
    errors = _visit(page, dashboard + "/")
    donors = {row.locator("th").inner_text(): _shown(row.locator("td").nth(3).inner_text())
              for row in page.locator("section[aria-labelledby=by_donor] tbody tr").all()}
    assert donors["BID"] == expected[IDB, "disbursement"]
    _visit(page, dashboard + f"/organizaciones/{IDB}")
    assert _organisation_money(page, "Desembolsado") == expected[IDB, "disbursement"]
    _visit(page, dashboard + f"/organizaciones/{IDRC}")
    assert _organisation_money(page, "Gastos") == expected[IDRC, "expenditure"]
    _visit(page, dashboard + f"/actividades?reporting_org={IDB}")
    listed = set(page.locator("#activity-list td:first-child code").all_inner_texts())
    assert listed == {identifier(a) for a in activities(_idb_files(), None)
                      if for_ecuador(a) and a.xpath("string(reporting-org/@ref)") == IDB}
    assert PANAMA_LOAN not in listed
    with page.expect_download() as waiting:
        page.click("text=Descargar CSV")
    downloaded = {row["iati_identifier"] for row in csv.DictReader(io.StringIO(without_bom(
        Path(waiting.value.path()).read_text(encoding="utf-8"))))}
    assert downloaded == listed
    for elsewhere in (PANAMA_LOAN, "XI-IATI-IADB-RG-L1143"):  # Panama; America, a region
        answer = httpx.get(f"{dashboard}/actividades/{elsewhere}")
        assert answer.status_code == 404
        assert "no nombra al Ecuador" in answer.text
    assert errors == []


# What a ministry official found in English on the Spanish pages, and more of its kind:
# codelist and status words, the view's classification keys, DAC sector names, and the
# validator's and the mapping engine's sentences.
ENGLISH = (
    "Actual start", "Actual end", "Planned", "income_item", "investment_subsector",
    "plan_objective", "disbursement_channel", "proposed", "unmapped", "not applicable",
    "Not applicable", "off-budget", "Emergency Response", "Health, General", "Basic Health",
    "Government & Civil Society", "Banking & Financial", "Transport & Storage",
    "Water Supply", "Administrative Costs", "Implementing", "Funding", "Outgoing",
    "Commitment", "Disbursement", "crosswalk", "entities catalogue", "name in the",
    "no location published", "receiver unknown", "should also be used", "must start with",
    "is not a valid value", "Budget Period", "warning", "pending", "sectors-countries",
)


def _spanish_text(page: Page) -> str:
    """The page's own words: without what publishers wrote (marked `.published`, or in
    another language), identifiers and API paths (`code`), and the charts, which repeat
    the tables."""
    return str(page.evaluate(
        "() => { const copy = document.body.cloneNode(true);"
        " copy.querySelectorAll('.published, code, svg, [lang]:not([lang=es])')"
        ".forEach(n => n.remove()); return copy.innerText; }"
    ))


def test_the_spanish_pages_say_everything_in_spanish(page: Page, dashboard: str) -> None:
    """Every page, with a real lender's and a real bilateral donor's files loaded: no
    English word of the list, publishers' own texts aside."""
    pages = _pages(dashboard)
    more = ["/calidad/XM-DAC-46008", "/resultados?group_by=sector",
            "/actividades/US-GOV-1-518-13-MIT-LAC", "/organizaciones?q=ministerio"]
    found: dict[str, list[str]] = {}
    for url in [*pages.values(), *more]:
        _visit(page, dashboard + url)
        assert page.locator("html").get_attribute("lang") == "es"
        text = _spanish_text(page)
        if hits := [word for word in ENGLISH if word in text]:
            found[url] = hits
    assert found == {}


def test_codes_carry_their_names_and_unsettled_figures_say_why(
    page: Page, dashboard: str,
) -> None:
    _visit(page, dashboard + f"/actividades/{CAF_LOAN}")
    view = page.locator("#budget-view")
    codes = view.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert "360301 — De Organismos Multilaterales" in codes
    assert "202 — Préstamos Externos" in codes
    assert any(code.startswith("151 — Gobierno y sociedad civil, general") for code in codes)
    assert "1 — Administración pública" in page.locator("#sectors").inner_text()
    settled = ("Verificado", "Publicado por el cooperante")
    for row in view.locator("tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        status, why = cells[6], cells[7]
        assert status in (*settled, "Propuesto", "Sin asignar", "No aplica")
        assert (why == "—") == (status in settled), cells
    _visit(page, dashboard + "/actividades/XM-DAC-46008-cfa011196")
    assert "8 — Salud" in page.locator("#sectors").inner_text()
    _visit(page, dashboard + "/calidad/XM-DAC-46008")
    assert "102.1.1 — Cuando se usa un vocabulario de sectores que no es el del CAD" in (
        page.locator("main").inner_text())
    _visit(page, dashboard + f"/actividades/{CAF_LOAN}?lang=en")
    assert "202 — External loans" in page.locator("#budget-view").inner_text()


def test_one_ministry_under_four_spellings_is_one_entry(page: Page, dashboard: str) -> None:
    """CAF's, and the European Union's three spellings of the Ministry of Economy and
    Finance: one entry, under the catalogue's official name, the spellings as variants;
    one implementing partner on the overview."""
    _visit(page, dashboard + "/organizaciones?q=ministerio de econom")
    names = page.locator("#organisation-list tbody td:first-child a").all_inner_texts()
    assert names == ["Ministerio de Economía y Finanzas"]
    _visit(page, dashboard + "/")  # the European Union's three spellings: one partner
    partners = page.locator("section[aria-labelledby=by_partner] tbody th")
    assert [name for name in partners.all_inner_texts() if "Economía y Finanzas" in name] == [
        "Ministerio de Economía y Finanzas"]
    with page.expect_navigation():
        partners.locator("a", has_text="Ministerio de Economía y Finanzas").click()
    assert page.locator("main h1").inner_text() == "Ministerio de Economía y Finanzas"
    _visit(page, dashboard + f"/organizaciones/{MINISTRY}")
    assert page.locator("main h1").inner_text() == "Ministerio de Economía y Finanzas"
    variants = set(page.locator("#variants li").all_inner_texts())
    assert variants == {"MINISTERIO DE ECONOMíA Y FINANZAS", "MINISTERIO DE ECONOMIA Y FINANZAS",
                        "Ministerio de Economía y Finanzas del Ecuador (MEF)"}
    facts = page.locator("#organisation-facts").inner_text()
    assert "1760000900001" in facts
    assert "Presupuesto General del Estado" in facts
    _visit(page, dashboard + f"/actividades/{CAF_LOAN}")
    shown = page.locator("#participants tbody td:first-child").inner_text()
    assert shown.startswith("Ministerio de Economía y Finanzas")
    assert "MINISTERIO DE ECONOMíA Y FINANZAS" in shown  # as published, beside it


def test_an_agreement_shows_its_activities_money_and_the_progress_of_its_targets(
    page: Page, dashboard: str,
) -> None:
    """The made-up agreement on real activities (tests/fixtures/agreements): listed on the
    results page, its USAID activities' money from the XML (111,280.00 and 92,484.00
    committed, all to Ecuador), the World Bank's 10991 trained of its 12000 (91.6 %) and
    CAF's target without an actual."""
    _visit(page, dashboard + "/resultados")
    listed = page.locator("#agreements tbody tr", has_text="CONV-2024-USAID-BM-001")
    assert listed.locator("td").all_inner_texts()[-2:] == ["4 / 5", "2"]
    listed.locator("a").click()
    page.wait_for_load_state()
    assert page.locator("main h1").inner_text() == "Convenio marco de salud, agua y resiliencia"
    rows = {row.locator("th").inner_text(): row.locator("td").all_inner_texts()
            for row in page.locator("#agreement-activities tbody tr").all()}
    assert rows["US-GOV-1-518-13-MIT-LAC"][1:3] == ["Publicada", "US$ 111.280,00"]
    assert rows["US-GOV-1-518-14-DCHA-LAC"][1:3] == ["Publicada", "US$ 92.484,00"]
    assert rows["US-GOV-1-518-EJEMPLO-2026"] == ["—", "Aún no publicada", "—", "—", "—"]
    committed = sum(_dollars(cells[2]) for cells in rows.values() if cells[2] != "—")
    assert _dollars(page.locator("#agreement-activities tfoot td").first.inner_text()) == (
        committed)
    metrics = page.locator("table.metric tbody tr").all()
    trained, built = (row.locator("td").all_inner_texts() for row in metrics)
    assert (trained[1], trained[2], trained[3]) == ("12.000,00", "10991", "91,6")
    assert built[2] == "—"
    assert built[4].startswith("Sin reporte de avance")
    objectives = page.locator("#agreement-objectives li").all_inner_texts()
    assert [text.split(" ", 1)[0] for text in objectives] == ["PND-2024-2025/1",
                                                              "PND-2024-2025/7"]


def _dollars(cell: str) -> Decimal:
    """US dollars as the Spanish pages write them: "US$ 1.234,50"."""
    return Decimal(cell.removeprefix("US$ ").replace(".", "").replace(",", "."))
