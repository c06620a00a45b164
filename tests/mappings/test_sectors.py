"""IATI sectors resolve to investment subsectors and plan objectives from reviewed crosswalks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from iati.codelists import load_codelist
from mappings.crosswalks import Resolution, Row, Status, crosswalk
from mappings.sectors import (
    OBJECTIVE_CROSSWALK,
    SUBSECTOR_CROSSWALK,
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


def _objectives() -> list[tuple[str, date, date]]:
    """(plan, first day, last day) of each plan in the objectives table."""
    spans: dict[str, list[date]] = defaultdict(list)
    for row in table(Classification.plan_objective):
        assert row.valid_from is not None
        assert row.valid_to is not None
        spans[row.attributes["plan"]] += [row.valid_from, row.valid_to]
    return [(plan, min(days), max(days)) for plan, days in sorted(spans.items())]


def _a_day_of_a_plan() -> date:
    _, first, _ = _objectives()[0]
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
        assert row.valid_to is not None, row.line
        for day in (row.valid_from, row.valid_to):
            plans = {code.attributes["plan"] for code in objectives.in_force(day)}
            assert plans == {plan}, (row.line, day)
            if row.target is not None:
                found = objectives.get(row.target, day)
                assert found is not None, (row.line, row.target)
                assert found.attributes["plan"] == plan, (row.line, row.target)


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


@pytest.mark.parametrize("offset", [-1, 1])
def test_a_day_outside_every_plan_has_no_objective(offset: int) -> None:
    plans = _objectives()
    day = plans[0][1] - timedelta(days=1) if offset < 0 else plans[-1][2] + timedelta(days=1)
    found = plan_objectives("1", "12220", on=day)
    assert len(found) == 1
    assert found[0].code is None
    assert found[0].status is Status.unmapped
    assert found[0].share == HUNDRED
    assert found[0].reason is not None
    assert day.isoformat() in found[0].reason
    assert investment_subsectors("1", "12220", on=day)[0].code is not None  # no plan needed


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
