"""Aggregates of the budget views over HTTP: groups that add up, on SQLite and PostgreSQL,
checked against the budget export's own figures."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from iati.elements.activity import Activity
from mappings.money import split
from mappings.tables import Classification, table
from service.readmodel.clock import record
from service.services.aggregates import _shared
from tests.support.loads import DONORS, example_identifiers
from tests.support.publishing import USAID, Api
from tests.support.spreadsheets import without_bom

Loaded = tuple[Api, str, str]



def _figures(api: Api, key: str, **params: Any) -> list[dict[str, str]]:
    answer = api.request("GET", "/api/v1/exports/budget.csv", key=key, params=params)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(without_bom(answer.text))))


def _aggregates(api: Api, key: str, **params: Any) -> dict[str, Any]:
    answer = api.request("GET", "/api/v1/aggregates", key=key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _grouped(rows: list[dict[str, Any]], *names: str) -> dict[tuple[Any, ...], Decimal]:
    return {tuple(row["group"][n] for n in names): Decimal(row["amount_usd"]) for row in rows}


@pytest.mark.reads_only
def test_groups_by_year_and_donor_match_the_exported_figures(loaded: Loaded) -> None:
    api, key, _ = loaded
    expected: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for figure in _figures(api, key, classification="fuente", measure="disbursement"):
        expected[(int(figure["year"]), figure["reporting_org"])] += Decimal(figure["amount_usd"])
    assert expected
    found = _aggregates(api, key, group_by=["year", "reporting_org"], measure="disbursement")
    assert _grouped(found["rows"], "year", "reporting_org") == expected
    assert Decimal(found["total_usd"]) == sum(expected.values())
    assert found["currency"] == "USD"


@pytest.mark.reads_only
def test_each_classification_splits_the_same_total(loaded: Loaded) -> None:
    api, key, _ = loaded
    measures = ["commitment", "disbursement", "expenditure"]
    totals = {
        group: Decimal(_aggregates(api, key, group_by=group, measure=measures)["total_usd"])
        for group in ("year", "province", "plan_objective", "income_item", "fuente",
                      "investment_subsector", "orientacion", "sector", "sector_category",
                      "participating_org", "instrument", "perimeter", "disbursement_channel")
    }
    assert len(set(totals.values())) == 1, totals
    assert next(iter(totals.values())) > 0
    by_province = _aggregates(api, key, group_by="province", measure=measures)
    assert sum(Decimal(r["amount_usd"]) for r in by_province["rows"]) == Decimal(
        by_province["total_usd"])
    assert "08" in {r["group"]["province"] for r in by_province["rows"]}


@pytest.mark.reads_only
def test_the_query_filters_and_years_narrow_the_money(loaded: Loaded) -> None:
    api, key, _ = loaded
    examples = list(DONORS.values())
    everything = _aggregates(api, key, group_by="reporting_org", measure="commitment")
    only = _aggregates(api, key, group_by="reporting_org", measure="commitment",
                       reporting_org=examples)
    assert {r["group"]["reporting_org"] for r in only["rows"]} <= set(examples)
    assert _grouped(only["rows"], "reporting_org") == {
        k: v for k, v in _grouped(everything["rows"], "reporting_org").items()
        if k[0] in examples
    }
    esmeraldas = _aggregates(api, key, group_by="province", province="08",
                             measure=["commitment", "disbursement"])
    assert esmeraldas["activities"] == 1
    years = _aggregates(api, key, group_by="year", measure="disbursement", year_from=2024,
                        year_to=2024, reporting_org=USAID)
    assert {r["group"]["year"] for r in years["rows"]} <= {2024}


@pytest.mark.reads_only
def test_plan_objectives_name_their_plan_so_plans_never_mix(loaded: Loaded) -> None:
    """The IDB's road loan, committed on 1 February 2024, before PND 2024-2025 was approved
    (16 February), and disbursed in September: one amount in each plan, both in 2024."""
    api, key, _ = loaded
    road = DONORS["road-loan-development-bank.xml"]
    found = _aggregates(api, key, group_by=["year", "plan_objective"], reporting_org=road,
                        measure=["commitment", "disbursement"])
    assert _grouped(found["rows"], "year", "plan_objective") == {
        (2024, "PND-2021-2025/2"): Decimal("50000000.00"),
        (2024, "PND-2024-2025/8"): Decimal("12500000.00"),
    }
    objectives = table(Classification.plan_objective)
    everything = _aggregates(api, key, group_by="plan_objective",
                             measure=["commitment", "disbursement"])
    codes = {r["group"]["plan_objective"] for r in everything["rows"]} - {None}
    assert len({code.split("/")[0] for code in codes}) > 1  # USAID's years span plans
    assert all(code in objectives for code in codes)
    chosen = _aggregates(api, key, group_by="reporting_org", plan_objective="PND-2021-2025/2",
                         measure="commitment")
    assert road in {r["group"]["reporting_org"] for r in chosen["rows"]}
    assert _aggregates(api, key, group_by="reporting_org", plan_objective="2",
                       measure="commitment")["rows"] == []


@pytest.mark.reads_only
def test_groups_by_dac_sector_follow_the_published_sectors(
    loaded: Loaded, usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    health = _aggregates(api, key, group_by=["sector", "sector_category"],
                         reporting_org=DONORS["health-grant-esmeraldas.xml"])
    [row] = health["rows"]
    assert row["group"] == {"sector": "12220", "sector_category": "122"}
    assert Decimal(row["amount_usd"]) == Decimal(health["total_usd"]) > 0
    published = {
        sector.code for activity in usaid_models
        for sector in [*activity.sectors, *(s for t in activity.transactions for s in t.sectors)]
        if (sector.vocabulary or "1") in ("1", "2")
    }
    usaid = _aggregates(api, key, group_by="sector", reporting_org=USAID,
                        measure=["commitment", "disbursement"])
    codes = {r["group"]["sector"] for r in usaid["rows"]}
    assert codes - {None} <= published
    assert len(codes) > 1
    by_category = _aggregates(api, key, group_by="sector_category", reporting_org=USAID,
                              measure=["commitment", "disbursement"])
    rolled: dict[str | None, Decimal] = defaultdict(Decimal)
    for r in usaid["rows"]:
        code = r["group"]["sector"]
        rolled[code[:3] if code else None] += Decimal(r["amount_usd"])
    assert _grouped(by_category["rows"], "sector_category") == {
        (k,): v for k, v in rolled.items()}


@pytest.mark.reads_only
def test_partners_share_each_activitys_money_equally(
    loaded: Loaded, usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    per_activity: dict[str, Decimal] = defaultdict(Decimal)
    for figure in _figures(api, key, classification="fuente", measure="disbursement",
                           reporting_org=USAID):
        per_activity[figure["iati_identifier"]] += Decimal(figure["amount_usd"])
    expected: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for activity in usaid_models:
        if activity.identifier not in per_activity:
            continue
        partners = sorted({(o.ref or "").strip() or o.text() for o in activity.participating_orgs
                           if o.role == "4" and ((o.ref or "").strip() or o.text())})
        among: list[str | None] = list(partners) or [None]
        for partner, part in zip(among, split(per_activity[activity.identifier],
                                              [Decimal(1)] * len(among)), strict=True):
            expected[(partner,)] += part
    assert len(expected) > 2
    found = _aggregates(api, key, group_by="participating_org", measure="disbursement",
                        reporting_org=USAID)
    assert found["participating_org_role"] == "4"
    assert _grouped(found["rows"], "participating_org") == expected
    assert Decimal(found["total_usd"]) == sum(per_activity.values())
    funders = _aggregates(api, key, group_by=["participating_org", "year"],
                          participating_org_role="1", measure="disbursement")
    assert Decimal(funders["total_usd"]) == Decimal(
        _aggregates(api, key, group_by="year", measure="disbursement")["total_usd"])
    bad_role = api.request("GET", "/api/v1/aggregates", key=key,
                           params={"group_by": "participating_org", "participating_org_role": "9"})
    assert bad_role.status_code == 422


@pytest.mark.reads_only
def test_csv_and_bad_groupings(loaded: Loaded) -> None:
    api, key, _ = loaded
    found = _aggregates(api, key, group_by="year", measure="disbursement")
    answer = api.request("GET", "/api/v1/aggregates", key=key,
                         params={"group_by": "year", "measure": "disbursement", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(without_bom(answer.text))))
    assert list(rows[0]) == ["year", "amount_usd", "activities"]
    assert [(int(r["year"]), Decimal(r["amount_usd"])) for r in rows] == [
        (r["group"]["year"], Decimal(r["amount_usd"])) for r in found["rows"]]
    for pair in (["province", "fuente"], ["sector", "plan_objective"]):
        crossed = api.request("GET", "/api/v1/aggregates", key=key, params={"group_by": pair})
        assert crossed.status_code == 400
    assert crossed.json()["code"] == "aggregates.crossed-classifications"
    unknown = api.request("GET", "/api/v1/aggregates", key=key, params={"group_by": "colour"})
    assert unknown.status_code == 422


@pytest.mark.reads_only
def test_the_budget_export_takes_the_activity_lists_filters(loaded: Loaded) -> None:
    api, key, _ = loaded
    health, road, _ = example_identifiers()
    assert {f["iati_identifier"] for f in _figures(api, key, province="08")} == {health}
    assert {f["iati_identifier"] for f in _figures(api, key, q="vial*")} == {road}
    examples = set(DONORS.values())
    assert {f["reporting_org"] for f in _figures(api, key, reporting_org=sorted(examples))} \
        == examples
    as_json = api.request("GET", "/api/v1/exports/budget.json", key=key,
                          params={"province": "08"}).json()
    assert {f["iati_identifier"] for f in as_json} == {health}
    bad = api.request("GET", "/api/v1/exports/budget.csv", key=key, params={"q": "¿?"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "query.bad-search"


def test_sums_past_64_bits_are_still_exact(loaded: Loaded, store: Engine) -> None:
    """No real amount comes near (each is under 10 trillion dollars), but a sum past the
    databases' 64-bit integers is made in Python, not wrapped or rounded."""
    api, key, _ = loaded
    huge = 2**62 + 1  # cents; two of them overflow a signed 64-bit sum
    with store.begin() as connection:
        rows = connection.execute(text(  # one activity's, so that its own sum overflows
            "SELECT id FROM current_figure WHERE classification = 'fuente' "
            "AND measure = 'disbursement' AND activity_id = (SELECT activity_id "
            "FROM current_figure WHERE classification = 'fuente' AND measure = 'disbursement' "
            "GROUP BY activity_id HAVING count(*) >= 3 ORDER BY activity_id LIMIT 1) "
            "ORDER BY id LIMIT 3")).scalars().all()
        connection.execute(text("UPDATE current_figure SET amount_cents = :cents "
                                "WHERE id IN (:a, :b, :c)"),
                           {"cents": huge, "a": rows[0], "b": rows[1], "c": rows[2]})
        record(connection, "repair")  # a write by hand moves the clock too
        cents = connection.execute(text(
            "SELECT amount_cents FROM current_figure WHERE classification = 'fuente' "
            "AND measure = 'disbursement'")).scalars().all()
    for group in ("measure", "participating_org"):  # summed by group, or by activity
        found = _aggregates(api, key, group_by=group, measure="disbursement", basis="gross")
        assert Decimal(found["total_usd"]) == Decimal(sum(cents)).scaleb(-2)
        assert Decimal(found["total_usd"]) > Decimal(3 * huge).scaleb(-2)


def test_shares_among_partners_follow_the_split_rule_in_whole_cents() -> None:
    """The equal shares among an activity's partners, worked out in whole cents, are those
    `mappings.money.split` gives, for positive, negative and zero amounts."""
    amounts = [0, 1, 2, 3, 7, 100, 101, 99_999, 2**62 + 1, -1, -5, -100_003]
    for activity, cents in enumerate(amounts):
        for count in range(1, 8):
            partners = {activity: [f"P{index}" for index in range(count)]}
            shared = _shared({("2024",): {activity: cents}}, 1, partners)
            expected = split(Decimal(cents).scaleb(-2), [Decimal(1)] * count)
            assert [amount for _, amount, _ in shared] == expected, (cents, count)
            assert [group for group, _, _ in shared] == [
                ("2024", f"P{index}") for index in range(count)]
            assert sum(amount for _, amount, _ in shared) == Decimal(cents).scaleb(-2)
    [alone] = _shared({(): {7: 1234}}, 0, {})
    assert alone == ((None,), Decimal("12.34"), 1)


@pytest.mark.reads_only
def test_instrument_and_perimeter_cross_any_grouping_and_keep_every_cent(
    loaded: Loaded,
) -> None:
    """One code per amount: grouped with a split classification, each figure of the split
    is joined to its amount's instrument and perimeter, so the groups add up to the same
    money as the split alone, and each group is the export's own figures."""
    api, key, _ = loaded
    measures = ["commitment", "disbursement"]
    instrument_of: dict[tuple[str, str, str, str], str] = {}
    for figure in _figures(api, key, classification="instrument"):
        place = (figure["iati_identifier"], figure["location"], figure["measure"],
                 figure["year"])
        instrument_of[place] = figure["code"]
    expected: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for figure in _figures(api, key, classification="province"):
        if figure["measure"] in measures:
            place = (figure["iati_identifier"], figure["location"], figure["measure"],
                     figure["year"])
            expected[(figure["code"] or None, instrument_of[place])] += Decimal(
                figure["amount_usd"])
    crossed = _aggregates(api, key, group_by=["province", "instrument"], measure=measures)
    assert _grouped(crossed["rows"], "province", "instrument") == expected
    alone = _aggregates(api, key, group_by="province", measure=measures)
    assert crossed["total_usd"] == alone["total_usd"]
    instruments = {row["group"]["instrument"] for row in crossed["rows"]}
    assert instruments == {"grant", "loan"}  # USAID's and the examples' grants, the IDB's loan
    by_perimeter = _aggregates(api, key, group_by=["perimeter", "instrument"], measure=measures)
    perimeters = {(row["group"]["perimeter"], row["group"]["instrument"])
                  for row in by_perimeter["rows"]}
    assert ("gad", "loan") in perimeters  # the IDB's loan to Manabí's provincial government
    assert ("central", "grant") in perimeters  # AECID's grant to the Ministry of Health
    assert ("off-budget", "grant") in perimeters  # USAID's grants to NGOs and contractors
    assert by_perimeter["total_usd"] == alone["total_usd"]
    two = api.request("GET", "/api/v1/aggregates", key=key,
                      params={"group_by": ["province", "fuente"]})
    assert two.status_code == 400  # two splits still cannot be crossed
