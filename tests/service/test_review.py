"""The review list and coverage on a lender's real file: CAF's 27 loans to Ecuador."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from service.models import KeyScope
from tests.support.publishing import Api, add_publisher, new_key, push
from tests.support.samples import CAF_LOANS

CAF = "XM-DAC-46008"


@pytest.fixture
def caf(store: Engine) -> tuple[Api, str]:
    push(store, add_publisher(store, CAF, name="CAF"), CAF_LOANS)
    return Api(store), new_key(store, CAF, KeyScope.read)


def test_a_lenders_review_list_is_one_row_per_cause_with_each_measure_apart(
    caf: tuple[Api, str],
) -> None:
    api, key = caf
    items = api.request("GET", "/api/v1/mappings/review", key=key,
                        params={"reporting_org": CAF}).json()
    causes = [(item["classification"], item["cause"]) for item in items]
    assert len(causes) == len(set(causes)) <= 15  # one screen: dates once split it by day
    plans = [item for item in items if "development plan" in item["cause"]]
    for item in plans:  # the dates the cause named, as a span, not one row per date
        assert item["dates"]["first"] <= item["dates"]["last"]
        assert "plan-objectives.csv" in item["fix"]
    for item in items:
        assert set(item["amounts_usd"]) <= {"commitment", "disbursement", "budget",
                                            "planned_disbursement", "expenditure"}
        assert max(Decimal(amount) for amount in item["amounts_usd"].values()) > 0
    locations = [item for item in items if item["classification"] == "province"]
    assert locations
    assert "locations" in locations[0]["fix"]


def test_coverage_of_a_lenders_money_is_one_row_per_classification_and_measure(
    caf: tuple[Api, str],
) -> None:
    api, key = caf
    rows = api.request("GET", "/api/v1/mappings/coverage", key=key,
                       params={"reporting_org": CAF}).json()
    by = {(row["classification"], row["measure"]): row for row in rows}
    commitments = {Decimal(row["amount_usd"]) for (_, measure), row in by.items()
                   if measure == "commitment"}
    assert len(commitments) == 1  # every classification splits the same money
    instrument = by["instrument", "commitment"]
    assert Decimal(instrument["percent"]["unmapped"]) == 0  # loans are loans


def test_the_publishers_quality_page_shows_its_coverage_in_spanish(
    caf: tuple[Api, str],
) -> None:
    api, _ = caf
    page = api.request("GET", f"/calidad/{CAF}")
    assert page.status_code == 200
    text = page.text
    assert "Cobertura de la vista presupuestaria" in text
    assert "Modalidad" in text  # each classification by its Spanish name (as the overview)
    assert "Objetivo del Plan Nacional" in text
    english = api.request("GET", f"/calidad/{CAF}", params={"lang": "en"})
    assert "Budget view coverage" in english.text
    assert "Cobertura" not in english.text
