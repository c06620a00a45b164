"""The security lens in the aggregates, on the real USAID Ecuador load: each amount's part
in the lens's DAC sectors is security, the rest development, to the cent; the keywords
only propose activities for review."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mappings.amounts import Measure
from service.services.lens import by_province
from service.services.query import ActivityFilter
from tests.support.publishing import USAID, Api
from tests.support.spreadsheets import without_bom

Loaded = tuple[Api, str, str]
DOC = Path(__file__).resolve().parents[2] / "docs" / "security-lens.md"

# Worked by hand from real/usaid-ec.xml: every USAID transaction there names one DAC
# purpose code (vocabulary 1) and Ecuador, in US dollars. Its disbursements (type 3) under
# the lens's codes (15220 peace-building, 31165 alternative development, 15130 justice,
# 16063 narcotics control) are, by year of the transaction date:
SECURITY_BY_YEAR = {
    2012: Decimal("1314543.00"), 2013: Decimal("2458546.00"), 2014: Decimal("55764.00"),
    2016: Decimal("57572.00"), 2023: Decimal("2615525.00"), 2024: Decimal("5699398.00"),
}
USAID_SECURITY = Decimal("12201348.00")  # the sum: 4.99 % of USAID's disbursements
USAID_DISBURSED = Decimal("244705012.00")
# One activity split between lenses, US-GOV-1-7200AA23F00004: of its disbursements, 15220
# in 2023-06-30 332,456.00, 09-30 1,031,627.00, 12-31 1,251,442.00, 2024-06-30 863,819.00,
# 09-30 820,654.00 and 2,431,571.00, 12-31 1,583,354.00 (8,314,923.00); the rest (12264,
# 15160, 15150) 1,996,009.00 + 2,003,990.00 + 495,220.00 + 104,780.00 + 864,277.00.
SPLIT_SECURITY_2023 = Decimal("332456.00") + Decimal("1031627.00") + Decimal("1251442.00")


def _aggregates(api: Api, key: str, **params: Any) -> dict[str, Any]:
    answer = api.request("GET", "/api/v1/aggregates", key=key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _by(found: dict[str, Any], *names: str) -> dict[tuple[Any, ...], Decimal]:
    return {tuple(row["group"][n] for n in names): Decimal(row["amount_usd"])
            for row in found["rows"]}


@pytest.mark.reads_only
def test_usaids_security_share_is_the_money_of_the_lens_codes(loaded: Loaded) -> None:
    api, key, _ = loaded
    found = _aggregates(api, key, group_by=["lens", "year"], reporting_org=USAID,
                        basis="gross")
    security = {year: amount for (lens, year), amount in _by(found, "lens", "year").items()
                if lens == "security"}
    assert security == SECURITY_BY_YEAR
    assert sum(security.values()) == USAID_SECURITY
    assert Decimal(found["total_usd"]) == USAID_DISBURSED
    # The filter gives the same money, on either side, and the sides make the whole.
    sides = {lens: Decimal(_aggregates(api, key, lens=lens, reporting_org=USAID,
                                       basis="gross")["total_usd"])
             for lens in ("security", "development")}
    assert sides == {"security": USAID_SECURITY, "development": USAID_DISBURSED - USAID_SECURITY}
    # The kept figures (one grouping) and the database (two) agree to the cent.
    alone = _by(_aggregates(api, key, group_by="lens", reporting_org=USAID, basis="gross"),
                "lens")
    assert alone == {("security",): USAID_SECURITY,
                     ("development",): USAID_DISBURSED - USAID_SECURITY}
    # The public download groups by lens too, and filters by it.
    answer = api.request("GET", "/descargas/agregados.csv", params={
        "group_by": "lens", "reporting_org": USAID, "basis": "gross", "lens": "security"})
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(without_bom(answer.text))))
    assert [(r["lens"], Decimal(r["amount_usd"])) for r in rows] == [
        ("security", USAID_SECURITY)]


@pytest.mark.reads_only
def test_an_activity_split_between_sectors_gives_each_lens_its_part(loaded: Loaded) -> None:
    api, key, _ = loaded
    found = _aggregates(api, key, group_by=["lens", "year"], reporting_org=USAID,
                        year_from=2023, year_to=2023, lens="security", basis="gross")
    # In 2023 the only security money is that activity's peace-building part.
    assert _by(found, "lens", "year") == {("security", 2023): SPLIT_SECURITY_2023}
    assert found["activities"] == 1


@pytest.mark.reads_only
def test_the_lens_crosses_the_instrument_and_donor_but_no_other_classification(
    loaded: Loaded,
) -> None:
    api, key, _ = loaded
    every = _aggregates(api, key, ecuador="true", measure=["commitment", "disbursement"])
    crossed = _aggregates(api, key, group_by=["lens", "instrument", "reporting_org"],
                          ecuador="true", measure=["commitment", "disbursement"])
    assert Decimal(crossed["total_usd"]) == Decimal(every["total_usd"]) > 0
    assert {row["group"]["lens"] for row in crossed["rows"]} == {"security", "development"}
    answer = api.request("GET", "/api/v1/aggregates", key=key,
                         params={"group_by": "province", "lens": "security"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "aggregates.crossed-classifications"
    answer = api.request("GET", "/api/v1/aggregates", key=key, params={"lens": "defence"})
    assert answer.status_code == 422


@pytest.mark.reads_only
def test_the_definition_names_its_version_codes_and_plan(loaded: Loaded) -> None:
    api, key, _ = loaded
    answer = api.request("GET", "/api/v1/lenses/security", key=key)
    assert answer.status_code == 200, answer.text
    lens = answer.json()
    assert (lens["version"], lens["effective_from"]) == ("1", "2026-12-07")
    counted = {code["code"]: code for code in lens["codes"] if code["included"]}
    assert {"15130", "15137", "16063", "31165", "43050", "15220"} <= set(counted)
    assert counted["16063"]["objective"] == "PSCCP-2019-2030/2"
    assert lens["policy"]["code"] == "PSCCP-2019-2030"
    assert [o["number"] for o in lens["policy"]["objectives"]] == [1, 2, 3, 4]


@pytest.mark.reads_only
def test_keywords_propose_activities_without_counting_them(loaded: Loaded) -> None:
    api, key, _ = loaded
    answer = api.request("GET", "/api/v1/lenses/security/proposals", key=key,
                         params={"reporting_org": USAID})
    assert answer.status_code == 200, answer.text
    found = {p["iati_identifier"]: p["keywords"] for p in answer.json()["proposals"]}
    # USAID's civil society activity names drug trafficking in its description, under
    # sectors of governance only: proposed, and its money stays development.
    assert found["US-GOV-1-AID-OAA-A-15-00048"] == ["narcotráfico"]
    assert found["US-GOV-1-AID-518-A-10-00005"] == ["organized crime"]
    # An activity in the lens's sectors is never proposed: it is counted already.
    assert "US-GOV-1-AID-518-A-11-00004" not in found
    security = _aggregates(api, key, lens="security", reporting_org=USAID, basis="gross")
    assert Decimal(security["total_usd"]) == USAID_SECURITY


def _tour_tables() -> list[list[list[str]]]:
    """The tables of the doc's tour section, each a list of rows of cells."""
    tour = DOC.read_text(encoding="utf-8").split("## Tour", 1)[1]
    tables: list[list[list[str]]] = []
    for block in re.split(r"\n\s*\n", tour):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            tables.append([[c.strip() for c in line.strip("|").split("|")]
                           for line in lines[2:]])
    return tables


def _usd(cell: str) -> Decimal:
    return Decimal(cell.replace(",", ""))


@pytest.mark.reads_only
def test_the_docs_tour_quotes_the_services_figures(loaded: Loaded) -> None:
    api, key, _ = loaded
    by_year, by_objective = _tour_tables()
    found = _by(_aggregates(api, key, group_by=["lens", "year"], reporting_org=USAID),
                "lens", "year")
    for year, security, development, total, share in by_year[:-1]:
        assert _usd(security) == found[("security", int(year))]
        assert _usd(development) == found[("development", int(year))]
        assert _usd(total) == _usd(security) + _usd(development)
        assert Decimal(share) == (_usd(security) * 100 / _usd(total)).quantize(
            Decimal("0.01"))
    *_, security, development, total, share = by_year[-1]
    assert (_usd(security), _usd(development), _usd(total)) == (
        USAID_SECURITY, USAID_DISBURSED - USAID_SECURITY, USAID_DISBURSED)
    lens = api.request("GET", "/api/v1/lenses/security", key=key).json()
    aligned = {code["code"]: code["objective"] for code in lens["codes"]}
    by_sector = _by(_aggregates(api, key, group_by="sector", lens="security",
                                reporting_org=USAID), "sector")
    for objective, codes, amount in by_objective:
        assert all(aligned[code] == objective for code in codes.split(", "))
        assert _usd(amount) == sum(by_sector[(code,)] for code in codes.split(", "))
    assert sum(_usd(row[2]) for row in by_objective) == USAID_SECURITY
    proposed = api.request("GET", "/api/v1/lenses/security/proposals", key=key,
                           params={"reporting_org": USAID}).json()["proposals"]
    assert f"propose {len(proposed)} USAID activities" in DOC.read_text(encoding="utf-8")


@pytest.mark.reads_only
def test_provinces_take_only_activities_wholly_on_one_side(loaded: Loaded) -> None:
    api, _, _ = loaded
    chosen = ActivityFilter(reporting_org=[USAID], ecuador=True)
    with api.engine.connect() as connection:
        found = by_province(connection, chosen, measure=Measure.disbursement, year=None)
    placed_security = sum((row.security_usd for row in found.rows), Decimal(0))
    placed = placed_security + sum((row.development_usd for row in found.rows), Decimal(0))
    # The province split of each placed activity is its whole amount: with the mixed
    # activities' money, the whole of USAID's disbursements.
    assert placed + found.mixed_usd == USAID_DISBURSED
    # Worked by hand: four USAID activities disburse under both sides (security +
    # development): 7200AA23F00004 8,314,923.00 + 5,464,276.00; AID-518-A-00-07-00067
    # 3,085,937.00 + 41,359.00; AID-518-A-00-08-00002 -36,191.00 + -54,500.00;
    # AID-518-A-10-00002 543,464.00 + 934,998.00.
    assert (found.mixed_activities, found.mixed_usd) == (4, Decimal("18294266.00"))
    mixed_security = (Decimal("8314923.00") + Decimal("3085937.00") - Decimal("36191.00")
                      + Decimal("543464.00"))
    assert placed_security == USAID_SECURITY - mixed_security == Decimal("293215.00")
    # USAID's file names no location: the placed security money is in no known province.
    assert [row.province for row in found.rows if row.security_usd] == [None]
