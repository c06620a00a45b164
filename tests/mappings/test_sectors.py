"""IATI sectors resolve to investment subsectors and plan objectives from reviewed crosswalks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from iati.codelists import load_codelist
from mappings.crosswalks import Resolution, Row, Status, crosswalk
from mappings.plans import plan_in_force, plans
from mappings.sectors import (
    OBJECTIVE_CROSSWALK,
    SUBSECTOR_CROSSWALK,
    DacSector,
    as_dac,
    investment_subsectors,
    plan_objectives,
)
from mappings.tables import Classification, table

CROSSWALKS = (SUBSECTOR_CROSSWALK, OBJECTIVE_CROSSWALK)
HUNDRED = Decimal(100)
Resolve = Callable[..., tuple[Resolution, ...]]


def _active_codes() -> list[tuple[str, str]]:
    """(vocabulary, code) of every code of Sector (1) and SectorCategory (2) still in use."""
    return [("1", item.code) for item in load_codelist("Sector").active()] + [
        ("2", item.code) for item in load_codelist("SectorCategory").active()
    ]


def _a_day_of_a_plan() -> date:
    """The first day of the first plan whose objectives are loaded."""
    first = next(plan for plan in plans() if plan.objectives).valid_from
    assert first is not None
    return first


def _sector_key(row: Row) -> tuple[str, str]:
    """The (vocabulary, code) part of a row's key, whatever comes before it (the plan)."""
    vocabulary, code = row.key[-2:]
    return vocabulary, code


@pytest.mark.parametrize("name", CROSSWALKS)
def test_every_sector_code_in_use_has_rows(name: str) -> None:
    walk = crosswalk(name)
    covered = {_sector_key(row) for row in walk}
    missing = [key for key in _active_codes() if key not in covered]
    assert missing == []


@pytest.mark.parametrize("name", CROSSWALKS)
def test_only_dac_vocabularies_are_keyed(name: str) -> None:
    assert {_sector_key(row)[0] for row in crosswalk(name)} == {"1", "2"}


def test_every_subsector_target_is_a_subsector_of_the_table() -> None:
    subsectors = table(Classification.investment_subsector)
    for row in crosswalk(SUBSECTOR_CROSSWALK):
        if row.target is None:
            continue
        found = subsectors.get(row.target)
        assert found is not None, (row.line, row.target)
        assert found.level == "subsector", (row.line, row.target)


def test_every_objective_target_is_an_objective_of_its_plan_for_the_rows_dates() -> None:
    objectives = table(Classification.plan_objective)
    for row in crosswalk(OBJECTIVE_CROSSWALK):
        plan = row.key[0]
        assert row.valid_from is not None, row.line
        for day in (row.valid_from, row.valid_to or date(2100, 1, 1)):
            in_force = plan_in_force(day)
            assert in_force is not None, (row.line, day)
            assert in_force.code == plan, (row.line, day)
            if row.target is not None:
                found = objectives.get(row.target, day)
                assert found is not None, (row.line, row.target)
                assert found.level == "objective", (row.line, row.target)
                assert found.parent == plan, (row.line, row.target)


def test_every_plan_maps_every_sector_code_in_use() -> None:
    walk = crosswalk(OBJECTIVE_CROSSWALK)
    for plan in plans():
        covered = {row.key[1:] for row in walk if row.key[0] == plan.code}
        assert [key for key in _active_codes() if key not in covered] == [], plan.code


@pytest.mark.parametrize("name", CROSSWALKS)
def test_the_rows_of_a_key_split_exactly_100(name: str) -> None:
    groups: dict[tuple[object, ...], list[Row]] = defaultdict(list)
    for row in crosswalk(name):
        groups[(row.key, row.valid_from, row.valid_to)].append(row)
    for key, rows in groups.items():
        if len(rows) == 1:
            assert rows[0].share in (None, HUNDRED), key
        else:
            shares = [row.share for row in rows]
            assert None not in shares, key
            assert sum(share for share in shares if share is not None) == HUNDRED, key
            assert len({row.target for row in rows}) == len(rows), key


@pytest.mark.parametrize("name", CROSSWALKS)
def test_rows_say_why(name: str) -> None:
    for row in crosswalk(name):
        assert row.rationale, row.line
        assert row.status is not Status.verified or row.source, row.line


@pytest.mark.parametrize("resolve", [investment_subsectors, plan_objectives])
def test_every_code_in_use_resolves_to_shares_summing_to_100(resolve: Resolve) -> None:
    day = _a_day_of_a_plan()
    for vocabulary, code in _active_codes():
        found = resolve(vocabulary, code, on=day)
        assert sum(item.share for item in found) == HUNDRED, (vocabulary, code)
        for item in found:
            assert (item.code is None) == (item.status is Status.unmapped), (vocabulary, code)
            assert item.code is not None or item.reason, (vocabulary, code)


def test_a_split_code_gives_each_row_its_share() -> None:
    walk = crosswalk(SUBSECTOR_CROSSWALK)
    groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for row in walk:
        groups[row.key].append(row)
    split = next(rows for rows in groups.values() if len(rows) > 1)
    vocabulary, code = split[0].key
    found = investment_subsectors(vocabulary, code, on=_a_day_of_a_plan())
    assert [(item.code, item.share) for item in found] == [
        (row.target, row.share) for row in split
    ]


@pytest.mark.parametrize("name", CROSSWALKS)
def test_a_purpose_code_without_a_row_falls_back_to_its_category(name: str) -> None:
    walk = crosswalk(name)
    day = _a_day_of_a_plan()
    prefix = next(iter(walk)).key[:-2]  # the plan, for the objectives crosswalk
    covered = {_sector_key(row) for row in walk}
    item = next(
        item for item in load_codelist("Sector")
        if ("1", item.code) not in covered and ("2", item.category) in covered
    )
    resolve: Resolve = investment_subsectors if name == SUBSECTOR_CROSSWALK else plan_objectives
    found = resolve("1", item.code, on=day)
    expected = walk.lookup(*prefix, "2", str(item.category), on=day)
    assert [resolution.code for resolution in found] == [row.target for row in expected]
    assert all(f"via category {item.category}" in resolution.rule for resolution in found)
    assert all(f"1/{item.code}" in resolution.rule for resolution in found)


def test_a_category_code_uses_the_category_row() -> None:
    walk = crosswalk(SUBSECTOR_CROSSWALK)
    row = next(row for row in walk if row.key[0] == "2" and row.target is not None)
    found = investment_subsectors("2", row.key[1], on=_a_day_of_a_plan())
    assert [item.code for item in found] == [
        other.target for other in walk.lookup("2", row.key[1])
    ]
    assert "via category" not in found[0].rule


def test_a_day_before_every_plan_has_no_objective() -> None:
    first = plans()[0]
    assert first.valid_from == date(2017, 11, 28)
    day = first.valid_from - timedelta(days=1)
    found = plan_objectives("1", "12220", on=day)
    assert len(found) == 1
    assert found[0].code is None
    assert found[0].status is Status.unmapped
    assert found[0].share == HUNDRED
    assert found[0].reason is not None
    assert day.isoformat() in found[0].reason
    assert "no national development plan" in found[0].reason
    assert investment_subsectors("1", "12220", on=day)[0].code is not None  # no plan needed


def test_the_plan_in_force_decides_whose_objective_a_sector_serves() -> None:
    """Primary health care (12220) across the plans, on each plan's first and last day."""
    expected = {"PND-2017-2021": "PND-2017-2021/1", "PND-2021-2025": "PND-2021-2025/6",
                "PND-2024-2025": "PND-2024-2025/1"}
    for plan in plans():
        assert plan.valid_from is not None
        for day in (plan.valid_from, plan.valid_to or date(2030, 1, 1)):
            [found] = plan_objectives("1", "12220", on=day)
            assert found.rule.startswith(f"crosswalk {OBJECTIVE_CROSSWALK} {plan.code}/1/12220")
            assert found.code == expected.get(plan.code), (plan.code, day)


def test_a_plan_whose_objectives_are_not_loaded_names_the_eje_proposed() -> None:
    [found] = plan_objectives("1", "12220", on=date(2025, 9, 18))
    assert found.code is None
    assert found.status is Status.unmapped
    assert found.reason is not None
    assert "PND 2025-2029 are not loaded yet" in found.reason
    assert "eje 1 (Social)" in found.reason


@pytest.mark.parametrize("vocabulary", ["3", "7", "98", "99", ""])
def test_other_vocabularies_are_unmapped(vocabulary: str) -> None:
    for resolve in (investment_subsectors, plan_objectives):
        found = resolve(vocabulary, "12220", on=_a_day_of_a_plan())
        assert len(found) == 1
        assert found[0].status is Status.unmapped
        assert found[0].share == HUNDRED
        assert found[0].reason is not None
        assert "vocabulary" in found[0].reason


@pytest.mark.parametrize(("vocabulary", "code"), [("1", "00000"), ("2", "000"), ("1", "122")])
def test_unknown_codes_are_unmapped(vocabulary: str, code: str) -> None:
    for resolve in (investment_subsectors, plan_objectives):
        found = resolve(vocabulary, code, on=_a_day_of_a_plan())
        assert len(found) == 1
        assert found[0].status is Status.unmapped
        assert found[0].share == HUNDRED
        assert found[0].reason is not None
        assert code in found[0].reason


def test_a_publishers_own_code_is_the_dac_code_its_row_gives_and_says_which_row() -> None:
    """CAF's own sector 11, "Transporte", is DAC category 210 by a proposed row; a code
    without a row is unmapped, naming the key for the ministry to decide; another
    publisher's 11 is not CAF's."""
    on = date(2024, 6, 30)
    [transport] = as_dac("XM-DAC-46008", "99", "11", "Transporte", on=on)
    assert (transport.vocabulary, transport.code, transport.share) == ("2", "210", 100)
    assert transport.status is Status.proposed
    assert transport.via == "crosswalk publisher-sector XM-DAC-46008/99/11 → 210 (proposed)"
    missing = as_dac("XM-DAC-46008", "99", "42", "Turismo", on=on)
    assert isinstance(missing, Resolution)
    assert missing.code is None
    assert "(Turismo)" in (missing.reason or "")
    assert missing.rule == "crosswalk publisher-sector XM-DAC-46008/99/42"
    other = as_dac("XM-DAC-47066", "99", "11", None, on=on)
    assert isinstance(other, Resolution)
    assert other.code is None
    assert as_dac(None, "1", "12220", None, on=on) == (DacSector("1", "12220"),)
    empty = as_dac(None, "1", "", None, on=on)  # Canada's IDRC publishes such sectors
    assert isinstance(empty, Resolution)
    assert (empty.code, empty.status) == (None, Status.unmapped)
