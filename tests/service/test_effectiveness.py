"""The aid-effectiveness scorecard on real files, on SQLite and PostgreSQL, against figures
worked by hand from the XML.

**The IDB in 2021** (`real/dportal-iadb-p3.xml`, reporting-org XI-IATI-IADB, in US dollars,
Ecuador at 100 %, `default-tied-status` 5 on every activity; the `regional` load):

- EC-L1269 (implementer EC-CONAFIPS, a public bank: perimeter `public-financial`) has nine
  monthly budgets in 2021, April to December: 1,320,704 + 1,313,200 + 1,302,882 +
  1,290,688 + 1,277,556 + 1,261,610 + 1,244,726 + 1,225,028 + 1,206,268 = 11,442,662.
  No disbursement in 2021 (its 2021 transaction is an interest repayment, type 5).
- EC-L1270 (implementer EC-MSP, the Ministry of Public Health: perimeter `central`) has
  nine monthly budgets in 2021: 2,892,500 + 2,820,000 + 2,747,500 + 2,675,000 + 2,595,000 +
  2,520,000 + 2,442,500 + 2,365,000 + 2,290,000 = 23,347,500, and one disbursement in
  2021: 28,437,554 on 28 February.
- EC-L1272 has neither budget nor disbursement in 2021.

So 5a = 28,437,554 / (11,442,662 + 23,347,500 = 34,790,162) = 81.74 %; 6 = 23,347,500
(central) / 34,790,162 (public) = 67.11 %; 10 = 28,437,554 untied / 28,437,554 = 100 %;
5b: both budgeted loans have budgets in 2022, 2023 and 2024 (EC-L1270's last one is April
2024), so 3 of 3 years.

**USAID in 2016** (`real/usaid-ec.xml`, every transaction's recipient-country EC, in US
dollars; the USAID load): the disbursements (type 3) dated 2016 are 37 transactions of 22
activities; the 23 of the 11 activities whose `default-tied-status` is 5 (untied) add up
to 2,524,309.00, the 14 of the 11 whose status is 4 (tied) to 827,104.00. So 10 =
2,524,309.00 / 3,351,413.00 = 75.32 %. USAID publishes no budget for 2016 that the view
keeps, so 5a and 6 cannot be computed and say so.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.web import effectiveness_phrases
from tests.support.loads import Loaded
from tests.support.samples import PARSER, sample
from tests.support.spreadsheets import spreadsheet_number, spreadsheet_rows

IADB = "XI-IATI-IADB"
USAID = "US-GOV-1"


def _scorecard(loaded: Loaded, **params: Any) -> dict[str, Any]:
    answer = loaded.api.request("GET", "/api/v1/effectiveness", key=loaded.read,
                                params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _indicators(found: dict[str, Any], donor: str | None, year: int) -> dict[str, Any]:
    [row] = [row for row in found["rows"]
             if row["reporting_org"] == donor and row["year"] == year]
    return {indicator["code"]: indicator for indicator in row["indicators"]}


def test_the_idbs_2021_scorecard_is_the_hand_worked_one(regional: Loaded) -> None:
    found = _scorecard(regional, year=2021, reporting_org=IADB, identifiers="true")
    card = _indicators(found, IADB, 2021)
    annual = card["5a"]
    assert (annual["value_percent"], annual["numerator"], annual["denominator"]) == (
        "81.74", "28437554.00", "34790162.00")
    assert annual["identifiers"] == ["XI-IATI-IADB-EC-L1269", "XI-IATI-IADB-EC-L1270"]
    assert (annual["numerator_activities"], annual["activities"], annual["missing"]) == (
        1, 2, [])
    on_budget = card["6"]
    assert (on_budget["value_percent"], on_budget["numerator"], on_budget["denominator"]) == (
        "67.11", "23347500.00", "34790162.00")
    assert card["10"]["value_percent"] == "100.00"
    assert card["10"]["identifiers"] == ["XI-IATI-IADB-EC-L1270"]
    assert (card["5b"]["value_percent"], card["5b"]["numerator"],
            card["5b"]["denominator"]) == ("100.00", "3", "3")
    assert card["5b"]["unit"] == "years"
    # IATI cannot say whether country systems are used: null with its reason, never 0.
    assert card["9b"]["value_percent"] is None
    assert card["9b"]["reason"].startswith("cannot be computed: IATI 2.03 carries no flag")
    # The IDB publishes no disbursement channel: the Treasury share cannot be computed.
    assert card["9b-treasury"]["value_percent"] is None
    assert card["9b-treasury"]["missing"] == [
        "1 activities disbursed or spent 28,437,554.00 USD to public bodies without a "
        "disbursement channel"]
    assert card["1a-indicators"]["value_percent"] == "0.00"  # no result published
    assert card["1a-indicators"]["denominator"] == "2"
    # The overall row of a filter on one donor is that donor's.
    overall = _indicators(found, None, 2021)
    assert {code: value["value_percent"] for code, value in overall.items()} == {
        code: value["value_percent"] for code, value in card.items()}
    assert annual["activities_query"] == (
        "/api/v1/effectiveness?year=2021&reporting_org=XI-IATI-IADB&indicator=5a"
        "&identifiers=true")


def _usaid_2016_by_tied_status() -> dict[str, Decimal]:
    """USAID's disbursements and expenditure dated 2016, by default tied status, read
    again from the file."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    root = etree.parse(str(sample("real/usaid-ec.xml")), PARSER).getroot()
    for activity in root.iter("iati-activity"):
        tied = activity.find("default-tied-status").get("code")
        for transaction in activity.iter("transaction"):
            kind = transaction.find("transaction-type").get("code")
            day = transaction.find("transaction-date").get("iso-date")
            if kind in ("3", "4") and day.startswith("2016"):
                sums[tied] += Decimal(transaction.find("value").text)
    return dict(sums)


@pytest.mark.reads_only
def test_usaids_untied_share_in_2016_is_weighted_by_money(loaded: Loaded) -> None:
    assert _usaid_2016_by_tied_status() == {"5": Decimal("2524309.00"),
                                           "4": Decimal("827104.00")}
    card = _indicators(_scorecard(loaded, year=2016, reporting_org=USAID), USAID, 2016)
    untied = card["10"]
    assert (untied["value_percent"], untied["numerator"], untied["denominator"]) == (
        "75.32", "2524309.00", "3351413.00")
    assert (untied["numerator_activities"], untied["activities"]) == (11, 22)
    for code in ("5a", "6"):
        assert card[code]["value_percent"] is None
        assert card[code]["numerator"] is None
        assert card[code]["reason"].startswith("cannot be computed: no budget for 2016")
    assert card["5a"]["missing"] == [
        "22 activities disbursed or spent 3,351,413.00 USD in 2016 without a budget for 2016"]


@pytest.mark.reads_only
def test_indicators_can_be_chosen_and_unknown_ones_are_refused(loaded: Loaded) -> None:
    found = _scorecard(loaded, year=2016, indicator=["10", "9b"])
    assert {tuple(i["code"] for i in row["indicators"]) for row in found["rows"]} == {
        ("9b", "10")}
    answer = loaded.api.request("GET", "/api/v1/effectiveness", key=loaded.read,
                                params={"indicator": "11"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.reads_only
@pytest.mark.parametrize(("variant", "lang"), [("csv", "en"), ("csv-es", "es")])
def test_the_scorecard_opens_in_a_spreadsheet_with_the_apis_values(
    loaded: Loaded, variant: str, lang: str,
) -> None:
    found = _scorecard(loaded, year=2016)
    answer = loaded.api.request("GET", "/api/v1/effectiveness", key=loaded.read,
                                params={"year": 2016, "format": variant})
    assert answer.status_code == 200, answer.text
    rows = spreadsheet_rows(answer.content, lang)
    value = "Valor (%)" if lang == "es" else "value_percent"
    code = "Código" if lang == "es" else "code"
    expected = [(indicator["code"], indicator["value_percent"])
                for row in found["rows"] for indicator in row["indicators"]]
    assert [(row[code], spreadsheet_number(row[value], lang)) for row in rows] == [
        (name, Decimal(percent) if percent is not None else None)
        for name, percent in expected]
    # The public download is the same scorecard: USAID's activities are all for Ecuador.
    public = loaded.api.request("GET", "/descargas/eficacia.csv",
                                params={"year": 2016, "format": variant})
    assert spreadsheet_rows(public.content, lang) == rows


@pytest.mark.reads_only
def test_the_page_explains_each_indicator_and_shows_the_scorecard(loaded: Loaded) -> None:
    page = loaded.api.request("GET", "/eficacia", params={"year": 2016})
    assert page.status_code == 200
    html = page.text
    assert "Previsibilidad anual" in html
    assert "Ayuda no ligada" in html
    assert "no calculable" in html
    assert "75,32 %" in html  # USAID's untied share, as Spanish writes it
    # Why 5a cannot be computed, and the money disbursed without a budget, in Spanish.
    assert ("no se puede calcular: ninguna de las 30 actividades con dinero en 2016 tiene "
            "presupuesto para ese año") in html
    assert ("22 actividades desembolsaron o gastaron US$ 3.351.413,00 en 2016 sin "
            "presupuesto para ese año") in html
    english = loaded.api.request("GET", "/eficacia", params={"year": 2016, "lang": "en"})
    assert "cannot be computed: no budget for 2016 among the 30 activities" in english.text


def _notes(found: dict[str, Any]) -> set[str]:
    return {text for row in found["rows"] for indicator in row["indicators"]
            for text in [indicator["reason"] or "", *indicator["missing"]] if text}


def test_every_reason_and_note_of_the_real_files_is_said_in_spanish(
    regional: Loaded,
) -> None:
    """Every year of USAID's, the IDB's, IDRC's, CAF's and the worked examples' files."""
    notes = _notes(_scorecard(regional))
    assert len(notes) > 20
    unknown = {text: said.unknown for text in notes
               if (said := effectiveness_phrases.say(text, "es")).unknown}
    assert not unknown


DOCS = Path(__file__).resolve().parents[2] / "docs" / "effectiveness.md"
TOUR = "`GET /api/v1/effectiveness?year=2021&reporting_org=XI-IATI-IADB` gives:"


def _cells(indicator: dict[str, Any]) -> list[str]:
    """An indicator as the docs' tour writes it: value, numerator, denominator, activities."""
    if indicator["value_percent"] is None:
        return ["cannot be computed", "", "", ""]

    def amount(figure: str) -> str:
        if indicator["unit"] == "usd":
            return f"{Decimal(figure):,.2f} USD"
        return f"{figure} years" if indicator["unit"] == "years" else figure

    return [f"{indicator['value_percent']} %", amount(indicator["numerator"]),
            amount(indicator["denominator"]), str(indicator["activities"])]


def test_the_docs_tour_is_the_apis_answer(regional: Loaded) -> None:
    text = DOCS.read_text(encoding="utf-8")
    lines = text[text.index(TOUR):].splitlines()[4:]  # after the header and its rule
    table = lines[:lines.index("")]
    card = _indicators(_scorecard(regional, year=2021, reporting_org=IADB), IADB, 2021)
    shown = {}
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        shown[cells[0].split()[0]] = cells[1:5]
    assert shown == {code: _cells(indicator) for code, indicator in card.items()}


@pytest.mark.parametrize(("year", "among"), [(2020, "XM-DAC-301-2"), (2021, "XM-DAC-46008")])
def test_each_donors_money_is_ecuadors_share_as_the_aggregates_count_it(
    regional: Loaded, year: int, among: str,
) -> None:
    """IDRC's grants shared among several countries (Ecuador at 8 to 40 %), the IDB's and
    CAF's loans, USAID's grants: the money each donor disbursed or spent in the year, as
    the scorecard counts it (indicator 1a-plan's denominator), is the aggregates' Ecuador
    share to the cent."""
    found = _scorecard(regional, year=year, indicator="1a-plan")
    donors = [row for row in found["rows"] if not row["overall"]]
    assert among in {row["reporting_org"] for row in donors}
    for row in donors:
        [plan] = row["indicators"]
        totals = regional.api.request("GET", "/api/v1/aggregates", key=regional.read, params={
            "measure": ["disbursement", "expenditure"], "year_from": year, "year_to": year,
            "reporting_org": row["reporting_org"]}).json()
        assert Decimal(plan["denominator"] or 0) == Decimal(totals["total_usd"]), row
