"""Every national plan in force on its dates, and SDG tags aligned with its objectives."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from functools import cache
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iati.codelists import load_codelist
from iati.elements.activity import Activity
from iati.reader import read_activity
from mappings.amounts import Measure, amounts_of
from mappings.crosswalks import Status, crosswalk
from mappings.engine import Figure, budget_view
from mappings.money import CENT, HUNDRED
from mappings.plans import (
    SDG_CROSSWALK,
    SdgGoal,
    plan_in_force,
    plans,
    sdg_goals,
    sdg_objectives,
)
from mappings.rates import to_usd
from mappings.tables import Classification, table
from tests.support.samples import CAF_LOANS, ecuador_activities, sample

CAF = CAF_LOANS
FIRST_DAY = date(2017, 11, 28)  # PND 2017-2021 presented as binding: the first plan's day
REAL_FILES = ("real/usaid-ec.xml", "real/dportal-iadb-p3.xml", "real/dportal-usaid-p68.xml",
              "real/dportal-spain-aecid-p16.xml", "real/dportal-eu-intpa-p80.xml")
Key = tuple[str, Measure, int]




@cache
def _mapped(name: str) -> tuple[tuple[str | None, list[Figure], dict[Key, date]], ...]:
    """Each Ecuador activity of a real file (`caf`: the CAF fixture), read and mapped once:
    its identifier, plan-objective figures (checked to add up) and amounts' dates."""
    found = []
    for activity in ecuador_activities(CAF if name == "caf" else sample(name)):
        figures, days, whole = _objectives(activity)
        _conserved(figures, whole)
        found.append((activity.identifier, figures, days))
    return tuple(found)


def _one(name: str, identifier: str) -> Activity:
    return next(a for a in ecuador_activities(sample(name)) if a.identifier == identifier)


def _objectives(activity: Activity) -> tuple[list[Figure], dict[Key, date], dict[Key, Decimal]]:
    """The activity's plan-objective figures, each amount's date and its whole in dollars."""
    view = budget_view(activity)
    days = {(a.location, a.measure, a.year): a.on for a in amounts_of(activity).amounts}
    whole: dict[Key, Decimal] = defaultdict(Decimal)
    for figure in view.figures:
        if figure.classification is Classification.perimeter:  # one figure per amount
            whole[figure.location, figure.measure, figure.year] += figure.usd
    figures = [f for f in view.figures if f.classification is Classification.plan_objective]
    return figures, days, whole


def _conserved(figures: list[Figure], whole: dict[Key, Decimal]) -> None:
    parts: dict[Key, Decimal] = defaultdict(Decimal)
    for figure in figures:
        parts[figure.location, figure.measure, figure.year] += figure.usd
    assert parts == whole


def _candidates(plan: str, goal: str) -> set[str | None]:
    return {row.target for row in crosswalk(SDG_CROSSWALK).lookup(plan, "2", goal)}


# Plans in force ---------------------------------------------------------------------------


def test_the_plans_follow_one_another_without_gap_or_overlap() -> None:
    every = plans()
    assert [p.code for p in every] == ["PND-2017-2021", "PND-2021-2025", "PND-2024-2025",
                                       "PND-2025-2029"]
    assert every[0].valid_from == FIRST_DAY
    for before, after in pairwise(every):
        assert before.valid_to is not None
        assert after.valid_from is not None
        assert (after.valid_from - before.valid_to).days == 1
    assert every[-1].valid_to is None
    assert [len(p.objectives) for p in every] == [9, 16, 10, 0]


@pytest.mark.parametrize("name", [*REAL_FILES, "caf"])
def test_each_figure_goes_to_the_plan_in_force_on_its_date(name: str) -> None:
    """Real Ecuador activities, 2000s to 2025: each amount's objective is one of the plan
    in force on its date; before the first plan it is unmapped, saying why."""
    assert _mapped(name)
    for identifier, figures, days in _mapped(name):
        for figure in figures:
            on = days[figure.location, figure.measure, figure.year]
            plan = plan_in_force(on)
            if plan is None:
                assert on < FIRST_DAY, (identifier, on)
                assert figure.code is None
                assert figure.reason is not None
                assert "no national development plan" in figure.reason
                assert on.isoformat() in figure.reason
            elif figure.code is not None:
                assert figure.code.startswith(f"{plan.code}/"), (figure.code, on)
                assert table(Classification.plan_objective).get(figure.code, on) is not None
            elif figure.reason != "no sector published":
                assert plan.code in figure.rule, (figure.rule, on)


def test_real_files_reach_every_plan_and_the_days_before_them() -> None:
    seen: set[str | None] = set()
    for name in [*REAL_FILES, "caf"]:
        for _, figures, days in _mapped(name):
            for figure in figures:
                plan = plan_in_force(days[figure.location, figure.measure, figure.year])
                seen.add(plan.code if plan is not None else None)
    assert seen == {None, *(plan.code for plan in plans())}


def test_a_loan_dated_before_the_first_plan_is_unmapped_with_the_reason() -> None:
    """CAF's real 2011 loan to Ecuador: no plan of the tables was in force."""
    activity = next(a for a in ecuador_activities(CAF) if any(
        d < FIRST_DAY for d in (x.on for x in amounts_of(a).amounts)))
    figures, days, _ = _objectives(activity)
    early = [f for f in figures if days[f.location, f.measure, f.year] < FIRST_DAY]
    assert early
    for figure in early:
        assert figure.status is Status.unmapped
        assert figure.reason is not None
        assert "the first, PND-2017-2021, is in force from 2017-11-28" in figure.reason


def test_money_after_the_2025_plan_is_unmapped_until_its_objectives_are_loaded() -> None:
    activity = read_activity(_xml('<tag vocabulary="2" code="3"/>', "2025-09-18"))
    [figure] = [f for f in budget_view(activity).figures
                if f.classification is Classification.plan_objective]
    assert figure.code is None
    assert figure.reason is not None
    assert "objectives of PND 2025-2029 are not loaded yet" in figure.reason
    assert "eje Social" in figure.reason
    [sector] = [f for f in budget_view(read_activity(_xml("", "2025-09-18"))).figures
                if f.classification is Classification.plan_objective]
    assert sector.reason is not None
    assert "objectives of PND 2025-2029 are not loaded yet" in sector.reason
    assert "eje 1 (Social)" in sector.reason


# SDG alignment ----------------------------------------------------------------------------


def test_every_plan_has_rows_for_every_sdg_goal_and_they_say_why() -> None:
    walk = crosswalk(SDG_CROSSWALK)
    goals = {item.code for item in load_codelist("UNSDG-Goals")}
    for plan in plans():
        assert plan.valid_from is not None
        rows = [row for row in walk if row.key[0] == plan.code]
        assert {row.key[1] for row in rows} == {"2"}, plan.code
        assert {row.key[2] for row in rows} == goals, plan.code
        for row in rows:
            assert row.rationale, row.line
            assert (row.valid_from, row.valid_to) == (plan.valid_from, plan.valid_to), row.line
            assert row.status is (Status.proposed if plan.objectives else Status.unmapped)
            assert row.target is None or plan.has_objective(row.target, plan.valid_from)
            assert plan.objectives or "eje" in row.rationale, row.line


def test_a_target_counts_as_its_goal_and_each_goal_once() -> None:
    goals, findings = sdg_goals([("2", "5"), ("3", "5.2"), ("3", "6.1"), ("1", "5"),
                                 ("99", "4"), ("2", "18"), ("3", "4.99"), ("3", "16.10")])
    assert goals == (SdgGoal("5", ("2/5", "3/5.2")), SdgGoal("6", ("3/6.1",)),
                     SdgGoal("16", ("3/16.10",)))
    assert [(f.code, f.location) for f in findings] == [
        ("mapping.unknown-sdg-tag", "tag[6]"), ("mapping.unknown-sdg-tag", "tag[7]")]


def test_a_goal_with_several_objectives_splits_evenly() -> None:
    day = date(2022, 6, 1)
    candidates = _candidates("PND-2021-2025", "16")
    assert len(candidates) == 4
    found = sdg_objectives([SdgGoal("16", ("2/16",))], on=day)
    assert {item.code for item in found} == candidates
    assert sum(item.share for item in found) == HUNDRED
    assert len({item.share for item in found}) <= 2  # equal, to the 20th decimal
    assert all("1 of 4 candidates" in item.rule for item in found)
    figures, _, whole = _objectives(read_activity(_xml('<tag vocabulary="2" code="16"/>',
                                                       "2022-06-01", "100.03")))
    assert sorted(f.usd for f in figures) == [Decimal("25.00"), Decimal("25.01"),
                                              Decimal("25.01"), Decimal("25.01")]
    _conserved(figures, whole)


def test_goals_share_the_amount_and_objectives_they_share_add_up() -> None:
    # PND 2024-2025: goal 3 → objective 1; goal 11 → objectives 1 and 10.
    found = sdg_objectives([SdgGoal("3", ("2/3",)), SdgGoal("11", ("2/11",))],
                           on=date(2024, 6, 1))
    assert {item.code: item.share for item in found} == {
        "PND-2024-2025/1": Decimal(75), "PND-2024-2025/10": Decimal(25)}
    [first] = [item for item in found if item.code == "PND-2024-2025/1"]
    assert "PND-2024-2025/2/3" in first.rule
    assert "PND-2024-2025/2/11" in first.rule


def test_an_activitys_sdg_tags_come_before_its_sectors() -> None:
    """The EU's real Ecuador programme tags seven SDGs: they decide its objectives."""
    activity = _one("real/dportal-eu-intpa-p80.xml", "XI-IATI-EC_INTPA-2018/403-002")
    goals = ["1", "2", "5", "12", "13", "15", "16"]
    assert [t.code for t in activity.tags if t.vocabulary == "2"] == goals
    assert activity.sectors
    figures, days, whole = _objectives(activity)
    assert figures
    _conserved(figures, whole)
    for figure in figures:
        plan = plan_in_force(days[figure.location, figure.measure, figure.year])
        assert plan is not None
        assert plan.code == "PND-2017-2021"
        assert figure.rule.startswith(f"crosswalk {SDG_CROSSWALK} ")
        assert figure.status is Status.proposed
    expected = set().union(*(_candidates("PND-2017-2021", goal) for goal in goals))
    assert {f.code for f in figures} == expected


def test_an_sdg_target_tag_maps_through_its_goal() -> None:
    """AECID's real 2020 water project tags SDG target 6.1: goal 6, which PND 2017-2021
    fits to two objectives (a dignified life; the rights of nature), half each."""
    activity = _one("real/dportal-spain-aecid-p16.xml", "ES-DIR3-EA0035768-Z03-20-01-17600")
    assert [(t.vocabulary, t.code) for t in activity.tags
            if t.vocabulary in ("2", "3")] == [("3", "6.1")]
    figures, days, whole = _objectives(activity)
    _conserved(figures, whole)
    for figure in figures:
        plan = plan_in_force(days[figure.location, figure.measure, figure.year])
        assert plan is not None
        assert plan.code == "PND-2017-2021"
        assert "for tag 3/6.1, 1 of 2 candidates" in figure.rule
    assert {f.code for f in figures} == _candidates("PND-2017-2021", "6") == {
        "PND-2017-2021/1", "PND-2017-2021/3"}
    halves: dict[Key, list[Decimal]] = defaultdict(list)
    for figure in figures:
        halves[figure.location, figure.measure, figure.year].append(figure.usd)
    assert all(abs(a - b) <= CENT for a, b in halves.values())


def test_an_unknown_sdg_tag_is_a_finding_and_the_sectors_decide() -> None:
    view = budget_view(read_activity(_xml('<tag vocabulary="2" code="18"/>', "2024-06-01")))
    assert "mapping.unknown-sdg-tag" in {f.code for f in view.findings}
    [figure] = [f for f in view.figures if f.classification is Classification.plan_objective]
    assert figure.rule.startswith("crosswalk sector-plan-objective PND-2024-2025/")


def test_a_date_before_the_first_plan_leaves_sdg_money_unmapped() -> None:
    [found] = sdg_objectives([SdgGoal("4", ("2/4",))], on=date(2016, 1, 1))
    assert found.code is None
    assert found.reason is not None
    assert "2016-01-01" in found.reason


@settings(max_examples=40, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
    st.lists(st.sampled_from([*(i.code for i in load_codelist("UNSDG-Goals")),
                              "4.1", "6.1", "16.10", "11.5", "13.a"]), min_size=1, max_size=6),
    st.sampled_from(["2019-06-30", "2022-03-01", "2024-02-16", "2025-08-21"]),
    st.sampled_from(["USD", "EUR"]),
)
def test_sdg_objectives_conserve_the_amount_to_the_cent(
    amount: Decimal, codes: list[str], day: str, currency: str
) -> None:
    tags = "".join(f'<tag vocabulary="{3 if "." in code else 2}" code="{code}"/>'
                   for code in codes)
    figures, _, whole = _objectives(read_activity(_xml(tags, day, str(amount), currency)))
    converted = (amount * to_usd(currency, date.fromisoformat(day)).usd).quantize(CENT)
    assert sum((f.usd for f in figures), Decimal(0)) == converted
    _conserved(figures, whole)
    assert all((f.code is None) == (f.status is Status.unmapped) for f in figures)


def _xml(tags: str, day: str, amount: str = "1000.00", currency: str = "USD") -> bytes:
    return f"""<iati-activities version="2.03">
    <iati-activity default-currency="{currency}">
    <iati-identifier>XM-DAC-46008-PLANS</iati-identifier>
    <reporting-org ref="XM-DAC-46008" type="40"><narrative>CAF</narrative></reporting-org>
    <recipient-country code="EC"/>
    <sector vocabulary="1" code="12220"/>
    {tags}
    <transaction><transaction-type code="3"/><transaction-date iso-date="{day}"/>
    <value>{amount}</value></transaction>
    </iati-activity></iati-activities>""".encode()
