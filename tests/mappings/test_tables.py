"""Ecuador's classification tables load as frozen, dated, sourced rows."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from mappings.crosswalks import crosswalk, crosswalk_names, target_problem
from mappings.tables import SPECS, Classification, table, tables


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.classification)
def test_every_row_has_a_code_a_name_and_a_source(spec: object) -> None:
    rows = table(spec.classification)  # type: ignore[attr-defined]
    assert len(rows) > 0
    assert all(row.code and row.name_es and row.sources for row in rows)


def test_no_code_has_two_rows_in_force_on_the_same_day() -> None:
    for found in tables():
        for row in found:
            overlapping = [
                other for other in found if other.code == row.code and other is not row
                and (other.valid_from is None or row.valid_to is None
                     or other.valid_from <= row.valid_to)
                and (other.valid_to is None or row.valid_from is None
                     or row.valid_from <= other.valid_to)
            ]
            assert overlapping == [], (found.classification, row.code)


def test_every_parent_code_is_in_its_table() -> None:
    for found in tables():
        missing = {row.parent for row in found if row.parent and row.parent not in found}
        assert missing == set(), found.classification


def test_cantons_belong_to_provinces_in_the_province_table() -> None:
    provinces = table(Classification.province)
    cantons = table(Classification.canton)
    assert {row.attributes["province_code"] for row in cantons} <= {row.code for row in provinces}
    assert all(row.code[:2] == row.attributes["province_code"] for row in cantons)


def test_a_canton_whose_code_changed_is_found_under_the_code_in_force() -> None:
    cantons = table(Classification.canton)
    before, after = date(2019, 6, 30), date(2024, 6, 30)
    concordia_before = cantons.get("0808", before)
    assert concordia_before is not None
    assert concordia_before.name_es == "LA CONCORDIA"
    assert cantons.get("0808", after) is None
    assert cantons.get("2302", before) is None
    concordia_after = cantons.get("2302", after)
    assert concordia_after is not None
    assert concordia_after.attributes["province_code"] == "23"


def test_the_plan_objectives_are_versioned_by_plan_and_dates() -> None:
    objectives = table(Classification.plan_objective)
    plans = [row for row in objectives if row.level == "plan"]
    assert [(row.code, row.valid_from, row.valid_to) for row in plans] == [
        ("PND-2017-2021", date(2017, 11, 28), date(2021, 9, 20)),
        ("PND-2021-2025", date(2021, 9, 21), date(2024, 2, 15)),
        ("PND-2024-2025", date(2024, 2, 16), date(2025, 8, 20)),
        ("PND-2025-2029", date(2025, 8, 21), None),
    ]
    counts = {row.code: sum(1 for o in objectives if o.parent == row.code) for row in plans}
    assert counts == {"PND-2017-2021": 9, "PND-2021-2025": 16, "PND-2024-2025": 10,
                      "PND-2025-2029": 0}
    for row in objectives:
        if row.level == "objective":
            plan = objectives.get(row.parent or "", row.valid_from)
            assert plan is not None, row.code
            assert row.code == f"{plan.code}/{row.attributes['number']}"
            assert (row.valid_from, row.valid_to) == (plan.valid_from, plan.valid_to)
    assert objectives.get("PND-2024-2025/1", date(2024, 7, 1)) is not None
    assert objectives.get("PND-2024-2025/1", date(2026, 1, 1)) is None
    assert objectives.get("1") is None  # a bare number is no plan's objective


def test_the_income_items_iati_maps_onto_are_there() -> None:
    income = table(Classification.income_item)
    for subgroup in ("1803", "2803", "3603"):
        assert [income.get(f"{subgroup}0{n}") is not None for n in range(1, 5)] == [True] * 4


def test_tables_are_frozen() -> None:
    row = table(Classification.province).rows[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.code = "99"  # type: ignore[misc]
    assert table(Classification.province).version == table("province").version


def test_every_crosswalk_targets_codes_of_its_table() -> None:
    for name in crosswalk_names():
        walk = crosswalk(name)
        for row in walk:
            if row.target is not None:
                assert target_problem(walk, row.key, row.target) is None, (name, row.line)
    publishers = crosswalk("publisher-sector")
    assert target_problem(publishers, ("X", "99", "1"), "99999") is not None
    assert target_problem(publishers, ("X", "99", "1"), "230") is not None  # withdrawn
