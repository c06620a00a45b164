"""The debt view on real files, on SQLite and PostgreSQL: the Netherlands' loan terms and
status and the World Bank's interest and principal repayments, read again from the files
with lxml, reconcile with the API to the cent."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from mappings.rates import in_usd
from service.db import downgrade_database, upgrade_database
from service.models import KeyScope, Loan
from tests.support.loads import LOAN_FILES
from tests.support.publishing import Api, add_publisher, new_key
from tests.support.samples import PARSER, sample
from tests.support.spreadsheets import spreadsheet_number, spreadsheet_rows

LOAN = Loan.__table__  # type: ignore[attr-defined]
NETHERLANDS_LOAN = "NL-1-PPR-24706"
WORLD_BANK = "real/worldbank-sv.xml"
KINDS = {"5": "interest", "6": "principal"}


def _published_repayments(relative: str) -> dict[str, list[tuple[str, Decimal, date]]]:
    """Each activity's repayments as the file has them: (kind, value, value date)."""
    found: dict[str, list[tuple[str, Decimal, date]]] = defaultdict(list)
    for activity in etree.parse(str(sample(relative)), PARSER).getroot().iter("iati-activity"):
        identifier = activity.findtext("iati-identifier").strip()
        for transaction in activity.iter("transaction"):
            kind = KINDS.get(transaction.find("transaction-type").get("code"))
            if kind is not None:
                value = transaction.find("value")
                day = value.get("value-date") or transaction.find("transaction-date").get(
                    "iso-date")
                found[identifier].append((kind, Decimal(value.text), date.fromisoformat(day)))
    return found


def _debt(api: Api, key: str, identifier: str) -> dict[str, Any]:
    answer = api.request("GET", "/api/v1/activity/debt", key=key,
                         params={"iati_identifier": identifier})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_loans_terms_and_status_are_those_of_the_file(loans: tuple[Api, str]) -> None:
    api, key = loans
    root = etree.parse(str(sample("real/netherlands-mfa-example_203_file.xml")), PARSER)
    [published] = root.xpath(f"//iati-activity[iati-identifier='{NETHERLANDS_LOAN}']/crs-add")
    terms, status = published.find("loan-terms"), published.find("loan-status")
    debt = _debt(api, key, NETHERLANDS_LOAN)
    assert debt["lender"] == "XM-DAC-7"
    assert debt["lender_type"] == "10"
    assert debt["terms"] == {
        "rate_1": terms.get("rate-1"), "rate_2": terms.get("rate-2"),
        "repayment_type": terms.find("repayment-type").get("code"),
        "repayment_plan": terms.find("repayment-plan").get("code"),
        **{f"{name.replace('-', '_')}": terms.find(name).get("iso-date") for name in (
            "commitment-date", "repayment-first-date", "repayment-final-date")},
    }
    shown = debt["status"]
    assert (shown["year"], shown["currency"], shown["value_date"]) == (
        int(status.get("year")), status.get("currency"), status.get("value-date"))
    for name in ("principal-outstanding", "principal-arrears", "interest-arrears",
                 "interest-received"):
        amount = Decimal(status.findtext(name))
        field = name.replace("-", "_")
        assert Decimal(shown[field]) == amount
        usd = in_usd(amount, status.get("currency"), date.fromisoformat(status.get("value-date")))
        assert Decimal(shown[f"{field}_usd"]) == usd
    assert debt["repayments"] == []
    assert debt["totals"] == []
    missing = api.request("GET", "/api/v1/activity/debt", key=key,
                          params={"iati_identifier": "NL-1-NOPE"})
    assert missing.status_code == 404


def test_repayments_reconcile_with_the_file_to_the_cent(loans: tuple[Api, str]) -> None:
    api, key = loans
    published = _published_repayments(WORLD_BANK)
    assert sum(len(paid) for paid in published.values()) > 50
    usd_by_kind: dict[str, Decimal] = defaultdict(Decimal)
    for identifier, paid in published.items():
        debt = _debt(api, key, identifier)
        assert [(r["kind"], Decimal(r["value"])) for r in debt["repayments"]] == [
            (kind, value) for kind, value, _ in paid]
        for row, (_, value, day) in zip(debt["repayments"], paid, strict=True):
            assert Decimal(row["value_usd"]) == in_usd(value, "USD", day)
            item = row["expenditure_item"]
            assert item["code"] == ("560301" if row["kind"] == "interest" else "960301")
            assert item["status"] == "proposed"
            assert item["name"]
        for total in debt["totals"]:
            values = [value for kind, value, _ in paid if kind == total["kind"]]
            assert Decimal(total["value"]) == sum(values)
            assert total["transactions"] == len(values)
            assert total["without_rate"] == 0
            usd_by_kind[total["kind"]] += Decimal(total["value_usd"])
    summary = api.request("GET", "/api/v1/debt", key=key, params={"group_by": "lender"}).json()
    [bank] = [row for row in summary["service"] if row["group"]["lender"] == "44000"]
    assert Decimal(bank["interest_usd"]) == usd_by_kind["interest"]
    assert Decimal(bank["principal_usd"]) == usd_by_kind["principal"]
    assert bank["activities"] == len(published)


def test_the_summary_adds_up_and_keeps_balances_apart(loans: tuple[Api, str]) -> None:
    api, key = loans
    totals = set()
    for group_by in (["lender", "year"], ["year"], ["expenditure_item"]):
        found = api.request("GET", "/api/v1/debt", key=key, params={"group_by": group_by}).json()
        assert sum(Decimal(row["total_usd"]) for row in found["service"]) == Decimal(
            found["service_total_usd"])
        for row in found["service"]:
            assert Decimal(row["total_usd"]) == Decimal(row["interest_usd"]) + Decimal(
                row["principal_usd"])
        totals.add(Decimal(found["service_total_usd"]))
    assert len(totals) == 1  # every grouping splits the same money
    assert {row["group"]["expenditure_item"] for row in found["service"]} == {"560301",
                                                                               "960301"}
    [balance] = found["balances"]
    assert (balance["lender"], balance["year"], balance["loans"]) == ("XM-DAC-7", 2014, 1)
    assert Decimal(balance["principal_outstanding_usd"]) == in_usd(
        Decimal(1500000), "GBP", date(2013, 5, 24))
    loans_listed = {row["iati_identifier"]: row for row in found["loans"]}
    assert loans_listed[NETHERLANDS_LOAN]["terms"]["rate_1"] == "4"
    assert set(_published_repayments(WORLD_BANK)) <= set(loans_listed)
    narrowed = api.request("GET", "/api/v1/debt", key=key,
                           params={"reporting_org": "XM-DAC-7"}).json()
    assert narrowed["service"] == []
    assert len(narrowed["balances"]) == 1


@pytest.mark.parametrize(("variant", "lang"), [("csv", "en"), ("csv-es", "es")])
def test_the_debt_service_opens_in_a_spreadsheet_with_the_apis_amounts(
    loans: tuple[Api, str], variant: str, lang: str,
) -> None:
    api, key = loans
    params = {"group_by": ["lender", "year"]}
    found = api.request("GET", "/api/v1/debt", key=key, params=params).json()
    answer = api.request("GET", "/api/v1/debt", key=key, params={**params, "format": variant})
    rows = spreadsheet_rows(answer.content, lang)
    named = "Servicio de la deuda (USD)" if lang == "es" else "total_usd"
    assert [spreadsheet_number(row[named], lang) for row in rows] == [
        Decimal(row["total_usd"]) for row in found["service"]]
    assert rows
    # The public download holds the loans for Ecuador only, none of these: El Salvador's
    # and those of countries the Netherlands lend to (see test_ecuador_share).
    public = api.request("GET", "/descargas/deuda.csv", params={**params, "format": variant})
    assert spreadsheet_rows(public.content, lang) == []


def test_loan_rows_rebuilt_by_the_migration_are_those_a_push_writes(
    store: Engine, store_url: str,
) -> None:
    api = Api(store)
    for file, (ref, name) in LOAN_FILES.items():
        add_publisher(store, ref, name=name)
        answer = api.request("POST", "/api/v1/activities", content=sample(file).read_bytes(),
                             key=new_key(store, ref, KeyScope.publish))
        assert answer.status_code in (200, 201, 202), answer.text
    pushed = _loan_rows(store)
    assert len(pushed) >= 4
    downgrade_database(store_url, "0019")
    upgrade_database(store_url)
    assert _loan_rows(store) == pushed


def _loan_rows(engine: Engine) -> list[tuple[Any, ...]]:
    columns = [column for column in LOAN.c if column.name != "id"]
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(select(*columns)))
