"""Budget views over HTTP: stored with each pushed version, read back, remapped and exported."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update

from iati.reader import read_activities
from mappings.engine import CLASSIFIED, budget_view, mapping_version
from service.db import downgrade_database, upgrade_database
from service.models import BudgetView, KeyScope
from service.services.budget.export import COLUMNS
from service.services.budget.views import remap
from tests.support import clock_guard
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    set_first_transaction,
    variant,
)
from tests.support.spreadsheets import without_bom

KEPT = 20  # activities of the real USAID Ecuador file pushed



@pytest.fixture
def keys(store: Engine) -> tuple[str, str]:
    """A publish key and a read key of USAID."""
    add_publisher(store, USAID)
    return new_key(store, USAID, KeyScope.publish), new_key(store, USAID, KeyScope.read)


@pytest.fixture
def pushed(store: Engine, keys: tuple[str, str], tmp_path: Path) -> tuple[Api, Path]:
    api = Api(store)
    file = variant(USAID_EC, tmp_path / "usaid.xml", keep=KEPT)
    answer = api.request("POST", "/api/v1/activities", key=keys[0], content=file.read_bytes())
    assert answer.status_code == 200, answer.text
    return api, file


def assert_current_figures_are_the_latest_views(store: Engine) -> int:
    """`current_figure` holds exactly the figures of each live activity's latest view, in
    cents, with the activity's reporting organisation; how many it holds."""
    with store.connect() as connection:
        current = connection.execute(text(
            "SELECT id, activity_id, reporting_org_ref, location, measure, year, "
            "classification, code, amount_cents FROM current_figure ORDER BY id"
        )).all()
        latest = connection.execute(text(
            "SELECT f.id, v.activity_id, a.reporting_org_ref, f.location, f.measure, f.year, "
            "f.classification, f.code, f.amount_usd FROM budget_figure f "
            "JOIN budget_view v ON v.id = f.view_id JOIN activity a ON a.id = v.activity_id "
            "WHERE a.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM budget_view later "
            "WHERE later.activity_id = v.activity_id AND later.id > v.id) ORDER BY f.id"
        )).all()
    assert [tuple(row) for row in current] == [
        (*row[:-1], int(Decimal(str(row[-1])) * 100)) for row in latest
    ]
    return len(current)


def _view(api: Api, key: str, identifier: str, **params: str) -> dict[str, object]:
    answer = api.request("GET", f"/api/v1/activities/{identifier}/budget-view", key=key,
                         params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_the_view_of_each_pushed_activity_is_the_engines_and_adds_up_in_each_classification(
    pushed: tuple[Api, Path], keys: tuple[str, str], store: Engine
) -> None:
    api, file = pushed
    for record in read_activities(file):
        expected = budget_view(record.model)
        view = _view(api, keys[1], record.identifier)
        assert view["mapping_version"] == mapping_version() == view["current_mapping_version"]
        assert view["activity_version"] == 1
        figures = view["figures"]
        assert isinstance(figures, list)
        assert [(f["location"], f["classification"], f["code"], Decimal(f["amount_usd"]))
                for f in figures] == [
            (f.location, f.classification.value, f.code, f.usd) for f in expected.figures
        ]
        sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for figure in figures:
            sums[figure["measure"], figure["classification"]] += Decimal(figure["amount_usd"])
        for measure in {m for m, _ in sums}:
            assert len({sums[measure, c.value] for c in CLASSIFIED}) == 1
        assert all(f["rule"] and Decimal(f["rate"]) > 0 for f in figures)
        assert all(f["unmapped_reason"] for f in figures if f["code"] is None)
    assert assert_current_figures_are_the_latest_views(store) == sum(
        len(budget_view(record.model).figures) for record in read_activities(file)
    )


def test_a_new_version_replaces_the_view_and_a_deletion_removes_it(
    pushed: tuple[Api, Path], keys: tuple[str, str], tmp_path: Path, store: Engine
) -> None:
    api, _ = pushed
    identifier = identifier_of(USAID_EC, 1)
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=1,
                      a1=set_first_transaction("1234.56", "2030-01-01T00:00:00Z"))
    api.request("POST", "/api/v1/activities", key=keys[0], content=changed.read_bytes())
    view = _view(api, keys[1], identifier)
    assert view["activity_version"] == 2
    assert view["mapping_versions"] == [mapping_version()]
    held = assert_current_figures_are_the_latest_views(store)
    with store.connect() as connection:
        mine = connection.execute(text(
            "SELECT count(*) FROM current_figure JOIN activity ON activity.id = activity_id "
            "WHERE iati_identifier = :identifier"), {"identifier": identifier}).scalar_one()
    assert mine == len(view["figures"]) > 0  # type: ignore[arg-type]
    api.request("DELETE", f"/api/v1/activities/{identifier}", key=keys[0])
    assert assert_current_figures_are_the_latest_views(store) == held - mine
    gone = api.request("GET", f"/api/v1/activities/{identifier}/budget-view", key=keys[1])
    assert gone.status_code == 410
    assert gone.json()["code"] == "activity.deleted"


def test_remap_adds_the_current_mappings_view_and_keeps_the_earlier_one(
    pushed: tuple[Api, Path], keys: tuple[str, str], store: Engine
) -> None:
    api, _ = pushed
    identifier = identifier_of(USAID_EC, 1)
    before = _view(api, keys[1], identifier)
    # As if the views had been made by earlier mappings: written by hand, outside the service.
    with clock_guard.expected(), store.begin() as connection:
        connection.execute(update(BudgetView.__table__).values(  # type: ignore[attr-defined]
            mapping_version="0ld0ld0ld0ld"))
    missing = api.request("GET", f"/api/v1/activities/{identifier}/budget-view", key=keys[1],
                          params={"mapping_version": mapping_version()})
    assert missing.status_code == 404
    assert missing.json()["code"] == "budget-view.not-found"
    assert "iati-ec remap" in missing.json()["detail"]

    done = remap(store)
    assert (done.mapping_version, done.computed) == (mapping_version(), KEPT)
    assert remap(store).computed == 0
    latest = _view(api, keys[1], identifier)
    assert latest["mapping_versions"] == ["0ld0ld0ld0ld", mapping_version()]
    assert latest["mapping_version"] == mapping_version()
    earlier = _view(api, keys[1], identifier, mapping_version="0ld0ld0ld0ld")
    assert earlier["figures"] == before["figures"]
    assert assert_current_figures_are_the_latest_views(store) > 0
    with store.connect() as connection:  # the remapped views' figures, not the earlier ones
        read = connection.execute(text(
            "SELECT DISTINCT budget_view.mapping_version FROM current_figure JOIN budget_figure"
            " ON budget_figure.id = current_figure.id JOIN budget_view"
            " ON budget_view.id = budget_figure.view_id")).scalars().all()
    assert read == [mapping_version()]


def test_the_migration_fills_the_current_figures_of_the_stored_views(
    pushed: tuple[Api, Path], keys: tuple[str, str], store_url: str, tmp_path: Path,
    store: Engine,
) -> None:
    api, _ = pushed
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=1,
                      a1=set_first_transaction("1234.56", "2030-01-01T00:00:00Z"))
    api.request("POST", "/api/v1/activities", key=keys[0], content=changed.read_bytes())
    api.request("DELETE", f"/api/v1/activities/{identifier_of(USAID_EC, 2)}", key=keys[0])
    held = assert_current_figures_are_the_latest_views(store)
    store.dispose()
    downgrade_database(store_url, "0016")
    upgrade_database(store_url)
    assert assert_current_figures_are_the_latest_views(store) == held > 0


def _csv(api: Api, key: str, **params: str) -> list[dict[str, str]]:
    answer = api.request("GET", "/api/v1/exports/budget.csv", key=key, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(without_bom(answer.text)))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_the_csv_export_has_every_figure_and_reconciles_per_activity_and_measure(
    pushed: tuple[Api, Path], keys: tuple[str, str], store: Engine
) -> None:
    api, _ = pushed
    rows = _csv(api, keys[1])
    with store.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM budget_figure")).scalar_one()
    assert len(rows) == count > 0
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["iati_identifier"], row["measure"], row["classification"]] += Decimal(
            row["amount_usd"])
        assert row["code"] or row["unmapped_reason"]
        assert row["mapping_version"] == mapping_version()
    for identifier, measure in {(i, m) for i, m, _ in sums}:
        assert len({sums[identifier, measure, c.value] for c in CLASSIFIED}) == 1

    provinces = _csv(api, keys[1], classification="province", measure="disbursement")
    assert provinces
    assert {(r["classification"], r["measure"]) for r in provinces} == {
        ("province", "disbursement")}
    assert _csv(api, keys[1], reporting_org="GB-1") == []
    wrong = api.request("GET", "/api/v1/exports/budget.csv", key=keys[1],
                        params={"measure": "profit"})
    assert wrong.status_code == 422

    as_json = api.request("GET", "/api/v1/exports/budget.json", key=keys[1])
    assert as_json.status_code == 200
    assert [row["amount_usd"] for row in as_json.json()] == [row["amount_usd"] for row in rows]


def test_views_and_exports_need_a_key(pushed: tuple[Api, Path]) -> None:
    api, _ = pushed
    assert api.request("GET", "/api/v1/exports/budget.csv").status_code == 401
    identifier = identifier_of(USAID_EC, 1)
    assert api.request(
        "GET", f"/api/v1/activities/{identifier}/budget-view").status_code == 401


def test_the_review_list_groups_every_unmapped_dollar_by_cause_publisher_and_measure(
    pushed: tuple[Api, Path], keys: tuple[str, str]
) -> None:
    api, _ = pushed
    answer = api.request("GET", "/api/v1/mappings/review", key=keys[1])
    assert answer.status_code == 200, answer.text
    items = answer.json()
    assert items
    for item in items:
        assert item["cause"]
        assert item["fix"]
        assert item["figures"] >= item["activities"] >= 1
        assert not re.search(r"\d{4}-\d{2}-\d{2}", item["cause"])  # dates go to `dates`
    largest = [max(Decimal(a) for a in item["amounts_usd"].values()) for item in items]
    assert largest == sorted(largest, reverse=True)
    assert len({(i["classification"], i["reporting_org"], i["cause"]) for i in items}) == len(
        items)
    unmapped: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    not_applicable = Decimal(0)
    for row in _csv(api, keys[1]):
        # Not reviewed: the DAC sector as published, the disbursement channel (a flag the
        # publisher may give), and income ítems and fuentes of off-budget money.
        if not row["code"] and row["classification"] not in (
                "sector", "disbursement_channel"):
            unmapped[row["classification"], row["reporting_org"], row["measure"]] += Decimal(
                row["amount_usd"])
        if row["code"] == "n/a":
            assert row["status"] == "not-applicable"
            assert row["classification"] in ("income_item", "fuente")
            not_applicable += Decimal(row["amount_usd"])
    assert not_applicable > 0  # USAID's grants that NGOs and contractors implement
    listed: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for item in items:
        for measure, amount in item["amounts_usd"].items():
            listed[item["classification"], item["reporting_org"], measure] += Decimal(amount)
    assert listed == unmapped  # every unmapped dollar, each measure apart, to the cent
    cantons = api.request("GET", "/api/v1/mappings/review", key=keys[1],
                          params={"classification": "canton"}).json()
    assert cantons
    assert {item["classification"] for item in cantons} == {"canton"}


def test_coverage_splits_each_publishers_money_by_status_and_adds_up(
    pushed: tuple[Api, Path], keys: tuple[str, str]
) -> None:
    api, _ = pushed
    rows = api.request("GET", "/api/v1/mappings/coverage", key=keys[1]).json()
    assert rows
    exported: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in _csv(api, keys[1]):
        if row["classification"] != "sector":
            exported[row["classification"], row["reporting_org"], row["measure"]] += Decimal(
                row["amount_usd"])
    for row in rows:
        amounts = {status: Decimal(a) for status, a in row["amounts_usd"].items()}
        assert set(amounts) == {"verified", "proposed", "not-applicable", "unmapped"}
        assert sum(amounts.values()) == Decimal(row["amount_usd"])
        key = (row["classification"], row["reporting_org"], row["measure"])
        assert Decimal(row["amount_usd"]) == exported[key]
        assert abs(sum(Decimal(p) for p in row["percent"].values()) - 100) <= Decimal("0.3")
    assert {(r["classification"], r["reporting_org"], r["measure"]) for r in rows} == set(
        exported)
    provinces = api.request("GET", "/api/v1/mappings/coverage", key=keys[1],
                            params={"classification": "province"}).json()
    assert {row["classification"] for row in provinces} == {"province"}


