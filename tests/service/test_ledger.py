"""The transaction and budget lists, and every list's streamed formats (CSV, IATI XML,
gzip), over HTTP on SQLite and PostgreSQL with the real USAID file and the worked examples."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine

from iati.artefacts import schema_path
from iati.elements.activity import Activity
from iati.reader import read_activities
from service.models import KeyScope
from service.services.ledger import BUDGET_COLUMNS, TRANSACTION_COLUMNS
from tests.support.loads import DONORS, example_identifiers, example_models
from tests.support.publishing import USAID, Api, add_publisher, every_page, identifiers, new_key
from tests.support.samples import sample
from tests.support.spreadsheets import without_bom

Loaded = tuple[Api, str, str]


@pytest.fixture
def models(usaid_activities: list[Activity]) -> list[Activity]:
    """USAID's activities and the worked examples, as the reader builds them."""
    return [*usaid_activities, *example_models()]


def _transactions(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    return every_page(api, key, "/api/v1/transactions", "transactions", **params)


def _budgets(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    return every_page(api, key, "/api/v1/budgets", "budgets", **params)


def _totals(rows: list[tuple[str | None, Decimal | None]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in rows:
        if amount is not None:
            totals[currency or ""] += amount
    return dict(totals)


def _currency(activity: Activity, value: Any) -> str | None:
    return value.currency or activity.default_currency


@pytest.mark.reads_only
def test_every_transaction_once_with_its_exact_value(
    loaded: Loaded, models: list[Activity],
) -> None:
    api, key, _ = loaded
    listed = _transactions(api, key, limit=97)
    expected = [(a, t) for a in models for t in a.transactions]
    assert len(listed) == len(expected)
    assert [(row["iati_identifier"], row["position"]) for row in listed] == [
        (a.identifier, n) for a in models for n in range(1, len(a.transactions) + 1)
    ]
    assert _totals([(row["currency"], row["value"] and Decimal(row["value"])) for row in listed]) \
        == _totals([(_currency(a, t.value), t.value.amount if t.value else None)
                    for a, t in expected])
    usd = [row for row in listed if row["currency"] == "USD" and row["value"] is not None]
    assert usd
    assert all(Decimal(row["value_usd"]) == Decimal(row["value"]) for row in usd)


@pytest.mark.reads_only
def test_transaction_filters_use_the_transactions_own_sectors_else_the_activitys(
    loaded: Loaded, models: list[Activity],
) -> None:
    api, key, _ = loaded

    def in_category(activity: Activity, transaction: Any) -> bool:
        own = transaction.sectors or activity.sectors
        return any((s.code or "").startswith("151") for s in own)

    expected = [(a.identifier, n) for a in models
                for n, t in enumerate(a.transactions, start=1) if in_category(a, t)]
    assert expected
    found = _transactions(api, key, sector="151", limit=200)
    assert [(row["iati_identifier"], row["position"]) for row in found] == expected

    disbursed_2024 = [
        (a.identifier, n) for a in models for n, t in enumerate(a.transactions, start=1)
        if t.transaction_type and t.transaction_type.code == "3" and t.transaction_date
        and date(2024, 1, 1) <= t.transaction_date.iso_date <= date(2024, 12, 31)
    ]
    assert disbursed_2024
    found = _transactions(api, key, transaction_type="3", date_from="2024-01-01",
                          date_to="2024-12-31", limit=200)
    assert [(row["iati_identifier"], row["position"]) for row in found] == disbursed_2024
    assert {row["transaction_type"] for row in found} == {"3"}


def test_provider_receiver_and_activity_filters_combine(
    loaded: Loaded, store: Engine,
) -> None:
    api, key, _ = loaded
    netherlands = "real/netherlands-mfa-example_203_file.xml"
    add_publisher(store, "XM-DAC-7", name="Netherlands")
    pushed = api.request("POST", "/api/v1/activities",
                         key=new_key(store, "XM-DAC-7", KeyScope.publish),
                         content=sample(netherlands).read_bytes()).json()
    created = {a["iati_identifier"] for a in pushed["activities"] if a["outcome"] == "created"}
    stored = [r.model for r in read_activities(sample(netherlands))
              if r.model.identifier in created]
    transactions = [(a.identifier, n, t) for a in stored
                    for n, t in enumerate(a.transactions, start=1)]
    for side, parameter in (("receiver_org", "receiver_org"), ("provider_org", "provider_org")):
        refs = [getattr(t, side).ref for _, _, t in transactions
                if getattr(t, side) is not None and getattr(t, side).ref]
        assert refs, side
        one = refs[-1]
        found = _transactions(api, key, **{parameter: one})
        assert [(row["iati_identifier"], row["position"]) for row in found] == [
            (i, n) for i, n, t in transactions
            if getattr(t, side) is not None and getattr(t, side).ref == one
        ]
    health, _, _ = example_identifiers()
    in_esmeraldas = _transactions(api, key, province="08")
    assert {row["iati_identifier"] for row in in_esmeraldas} == {health}
    assert _transactions(api, key, province="08", q="vial") == []


@pytest.mark.reads_only
def test_budgets_overlapping_a_period_reconcile_with_the_files(
    loaded: Loaded, models: list[Activity],
) -> None:
    api, key, _ = loaded
    listed = _budgets(api, key, limit=50)
    expected = [(a, b) for a in models for b in a.budgets]
    assert len(listed) == len(expected) > 0
    assert _totals([(row["currency"], row["value"] and Decimal(row["value"])) for row in listed]) \
        == _totals([(_currency(a, b.value), b.value.amount if b.value else None)
                    for a, b in expected])
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    overlapping = [
        (a.identifier, n) for a in models for n, b in enumerate(a.budgets, start=1)
        if b.period_start and b.period_end and b.period_start.iso_date <= end
        and b.period_end.iso_date >= start
    ]
    assert overlapping
    found = _budgets(api, key, period_from=start.isoformat(), period_to=end.isoformat())
    assert [(row["iati_identifier"], row["position"]) for row in found] == overlapping


@pytest.mark.reads_only
def test_csv_downloads_hold_every_match_with_one_header_row(
    loaded: Loaded,
) -> None:
    api, key, _ = loaded
    as_json = _transactions(api, key, reporting_org=USAID, limit=1000)
    answer = api.request("GET", "/api/v1/transactions", key=key,
                         params={"reporting_org": USAID, "format": "csv", "limit": 1})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(without_bom(answer.text))))
    assert tuple(rows[0]) == TRANSACTION_COLUMNS
    assert len(rows) == len(as_json)  # limit does not cut a download
    assert sum(Decimal(r["value"]) for r in rows if r["value"]) == sum(
        Decimal(r["value"]) for r in as_json if r["value"])
    assert {r["humanitarian"] for r in rows} <= {"true", "false", ""}

    budgets = api.request("GET", "/api/v1/budgets", key=key, params={"format": "csv"})
    header, *lines = list(csv.reader(io.StringIO(without_bom(budgets.text))))
    assert tuple(header) == BUDGET_COLUMNS
    assert len(lines) == len(_budgets(api, key))

    activities = api.request("GET", "/api/v1/activities", key=key, params={
        "format": "csv", "fields": "iati_identifier,reporting_org,start_date"})
    header, *lines = list(csv.reader(io.StringIO(without_bom(activities.text))))
    assert header == ["iati_identifier", "reporting_org", "start_date"]
    assert [line[0] for line in lines] == identifiers(every_page(api, key, "/api/v1/activities",
                                                      "activities", limit=1000))


@pytest.mark.reads_only
def test_the_xml_download_is_one_valid_iati_file_of_the_matches(
    loaded: Loaded, models: list[Activity],
) -> None:
    api, key, _ = loaded
    answer = api.request("GET", "/api/v1/activities", key=key,
                         params={"format": "xml", "sector": "151"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    document = etree.fromstring(answer.content)
    schema = etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities"))))
    json_ids = identifiers(every_page(api, key, "/api/v1/activities", "activities", sector="151"))
    assert [a.findtext("iati-identifier") for a in document.findall("iati-activity")] \
        == json_ids
    assert document.get("version") == "2.03"
    schema.assertValid(document)


@pytest.mark.reads_only
def test_answers_are_gzipped_for_clients_that_ask(loaded: Loaded) -> None:
    api, key, _ = loaded
    plain = api.request("GET", "/api/v1/transactions", key=key, params={"format": "csv"},
                        headers={"Accept-Encoding": "identity"})
    zipped = api.request("GET", "/api/v1/transactions", key=key, params={"format": "csv"},
                         headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == plain.text  # decoded by the client


def _dated(day: str | None) -> date:
    return date.fromisoformat(day) if day else date.min


@pytest.mark.reads_only
@pytest.mark.parametrize("limit", [7, 1000])
def test_sorted_pages_list_every_row_once_in_order(
    loaded: Loaded, models: list[Activity], limit: int
) -> None:
    api, key, _ = loaded
    stored = _transactions(api, key)
    every = sorted((row["iati_identifier"], row["position"]) for row in stored)
    assert len(every) == sum(len(a.transactions) for a in models)
    by_date = _transactions(api, key, sort="transaction_date", limit=limit)
    assert sorted((row["iati_identifier"], row["position"]) for row in by_date) == every
    days = [_dated(row["transaction_date"]) for row in by_date]
    assert days == sorted(days)
    latest = _transactions(api, key, sort="-transaction_date", limit=limit)
    assert [_dated(row["transaction_date"]) for row in latest] == sorted(days, reverse=True)
    by_activity = _transactions(api, key, sort="iati_identifier", limit=limit)
    assert [row["iati_identifier"] for row in by_activity] == sorted(
        row["iati_identifier"] for row in stored)
    budgets = _budgets(api, key, sort="-period_start", limit=limit)
    assert len(budgets) == sum(len(a.budgets) for a in models)
    starts = [_dated(row["period_start"]) for row in budgets]
    assert starts == sorted(starts, reverse=True)
    answer = api.request("GET", "/api/v1/transactions", key=key,
                         params={"sort": "-transaction_date", "format": "csv"})
    assert [row["transaction_date"] or None for row in csv.DictReader(io.StringIO(
        without_bom(answer.text)))] == [row["transaction_date"] for row in latest]


@pytest.mark.reads_only
def test_a_cursor_belongs_to_its_order(loaded: Loaded) -> None:
    api, key, _ = loaded
    page = api.request("GET", "/api/v1/transactions", key=key,
                       params={"sort": "transaction_date", "limit": 2}).json()
    assert page["next_cursor"]
    other = api.request("GET", "/api/v1/transactions", key=key,
                        params={"sort": "-transaction_date", "cursor": page["next_cursor"]})
    assert other.status_code == 400
    assert other.json()["code"] == "query.bad-cursor"
    unknown = api.request("GET", "/api/v1/budgets", key=key, params={"sort": "value"})
    assert unknown.status_code == 422


@pytest.mark.reads_only
def test_bad_requests_are_problems_before_anything_streams(loaded: Loaded) -> None:
    api, key, _ = loaded
    for path in ("/api/v1/transactions", "/api/v1/budgets", "/api/v1/activities"):
        answer = api.request("GET", path, key=key, params={"q": "¿?", "format": "csv"})
        assert answer.status_code == 400, path
        assert answer.json()["code"] == "query.bad-search"
    wrong = api.request("GET", "/api/v1/budgets", key=key, params={"cursor": "nonsense"})
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "query.bad-cursor"
    page = api.request("GET", "/api/v1/transactions", key=key, params={"limit": 1}).json()
    crossed = api.request("GET", "/api/v1/budgets", key=key,
                          params={"cursor": page["next_cursor"]})
    assert crossed.status_code == 400
    assert api.request("GET", "/api/v1/transactions").status_code == 401


def test_list_pages_answer_304_until_they_change(loaded: Loaded, store: Engine) -> None:
    api, key, _ = loaded
    for path, params in (("/api/v1/activities", {"limit": 5}),
                         ("/api/v1/transactions", {"limit": 5}),
                         ("/api/v1/budgets", {}),
                         ("/api/v1/aggregates", {"group_by": "year"})):
        first = api.request("GET", path, key=key, params=params)
        tag = first.headers["etag"]
        assert tag.startswith('W/"'), path
        again = api.request("GET", path, key=key, params=params,
                            headers={"If-None-Match": tag})
        assert again.status_code == 304, path
        assert again.content == b""
    tag = api.request("GET", "/api/v1/transactions", key=key, params={"province": "08"}
                      ).headers["etag"]
    health, _, _ = example_identifiers()
    deleted = api.request("DELETE", f"/api/v1/activities/{health}",
                          key=new_key(store, DONORS["health-grant-esmeraldas.xml"],
                                      KeyScope.publish))
    assert deleted.status_code in (200, 204)
    after = api.request("GET", "/api/v1/transactions", key=key, params={"province": "08"},
                        headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert after.headers["etag"] != tag
