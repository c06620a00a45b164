"""The whole store's aggregates added up from the kept figures, on SQLite and PostgreSQL:
equal to what the database adds up, group by group and cent by cent, for every grouping the
kept totals serve, and still equal after pushes, a deletion, a confirmed duplicate and a
remap under new mappings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from iati.elements.activity import Activity
from mappings import money
from mappings.amounts import Measure
from service import runtime
from service.models import BudgetView, KeyScope
from service.services import aggregates, figures
from service.services.aggregates import Aggregates, GroupBy
from service.services.budget.storage import CURRENT
from service.services.budget.views import remap
from service.services.figures import FIGURES
from service.services.query import ActivityFilter
from service.services.traceability import Basis
from tests.support import clock_guard
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    new_key,
    set_first_transaction,
    variant,
)
from tests.support.republished import COPY, ORIGINAL, decide

Loaded = tuple[Api, str, str]
SERVED = [GroupBy(g) for g in figures.READ_THROUGH if g != "measure"]
OVERVIEW = [Measure.commitment, Measure.disbursement, Measure.expenditure]


def _asked(
    group_by: list[GroupBy], measures: list[Measure], year: int | None, basis: Basis,
) -> dict[str, Any]:
    return {"group_by": group_by, "measures": measures, "year_from": year, "year_to": year,
            "participating_org_role": aggregates.IMPLEMENTING, "basis": basis}


def _both(
    store: Engine, chosen: ActivityFilter | None = None, **asked: Any,
) -> tuple[Aggregates, Aggregates]:
    """The aggregate through the kept figures, and as the database adds it up."""
    chosen = chosen or ActivityFilter()
    with store.connect() as connection:
        served = figures.grouped(
            connection, chosen, [g.value for g in asked["group_by"]],
            [m.value for m in asked["measures"]], asked["year_from"], asked["year_to"],
            aggregates.IMPLEMENTING)
        assert served is not None, asked  # the kept figures answer it
        kept = aggregates._computed(connection, chosen, **asked)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(figures, "grouped", lambda *_: None)
            added = aggregates._computed(connection, chosen, **asked)
    return kept, added


def _every_answer(store: Engine, chosen: ActivityFilter | None = None) -> int:
    """Checks each grouping served, on each measure and the overview's three, over all
    years and the busiest year, of the activities matching `chosen`; returns how many
    rows were compared."""
    with store.connect() as connection:
        busiest = connection.execute(
            select(CURRENT.c.year).group_by(CURRENT.c.year)
            .order_by(func.count().desc()).limit(1)).scalar()
    compared = 0
    for year in (None, busiest):
        for basis in Basis:
            asks = [_asked([group], [measure], year, basis)
                    for group in SERVED for measure in (Measure.commitment, Measure.disbursement)]
            asks += [_asked([GroupBy.year, GroupBy.measure], OVERVIEW, year, basis),
                     _asked([GroupBy.measure], list(Measure), year, basis),
                     _asked([GroupBy.province, GroupBy.measure], OVERVIEW, year, basis),
                     _asked([GroupBy.measure, GroupBy.participating_org], OVERVIEW, year,
                            basis)]
            for asked in asks:
                kept, added = _both(store, chosen, **asked)
                assert kept.model_dump() == added.model_dump(), asked
                compared += len(kept.rows)
    return compared


@pytest.mark.reads_only
def test_the_kept_totals_answer_as_the_database_adds_up(loaded: Loaded, store: Engine) -> None:
    assert _every_answer(store) > 1000
    for chosen in (ActivityFilter(reporting_org=[USAID]), ActivityFilter(q="salud"),
                   ActivityFilter(active_from=date(2012, 1, 1), active_to=date(2012, 12, 31)),
                   ActivityFilter(sector=["151"])):
        assert _every_answer(store, chosen) > 10, chosen
    with store.connect() as connection:
        by_partner = aggregates._computed(
            connection, ActivityFilter(),
            **_asked([GroupBy.participating_org], [Measure.disbursement], None, Basis.gross))
        by_funder = aggregates._computed(
            connection, ActivityFilter(), **{**_asked(
                [GroupBy.participating_org], [Measure.disbursement], None, Basis.gross),
                "participating_org_role": "2"})
    assert len(by_partner.rows) > 5  # the shares of several partners
    assert by_partner.total_usd > 0
    # The activities without an organisation of the role asked count under null.
    assert None in {row.group["participating_org"] for row in by_funder.rows}
    assert by_funder.total_usd == by_partner.total_usd


@pytest.mark.reads_only
def test_what_the_kept_totals_leave_to_the_database(loaded: Loaded, store: Engine) -> None:
    with store.connect() as connection:
        def served(group_by: list[str], measures: list[str], years: tuple[int | None, ...] = (
                None, None), role: str | None = None) -> bool:
            return figures.grouped(connection, ActivityFilter(), group_by, measures, *years,
                                   role) is not None

        assert served(["province"], ["commitment"])
        assert not served(["province"], ["commitment", "disbursement"])  # activities overlap
        assert not served(["province", "year"], ["commitment"])  # two groupings
        assert not served(["canton"], ["commitment"])  # a split not kept
        assert not served(["year"], ["commitment"], (2010, 2012))  # a range of years
        assert not served(["participating_org"], ["commitment"], role="1")
        assert served(["participating_org"], ["commitment"], role="4")


def test_totals_followed_through_pushes_equal_totals_read_afresh(
    loaded: Loaded, store: Engine, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    api, _, publish = loaded

    def kept() -> figures.AllFigures:
        with store.connect() as connection:
            return FIGURES.current(connection, None)

    before = kept()
    first_totals = figures.totals(before)
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=3,
                      **{f"a{i}": set_first_transaction(f"{i}234567.89", "2031-01-01T00:00:00Z")
                         for i in (1, 2, 3)})
    pushed = api.request("POST", "/api/v1/activities", key=publish, content=changed.read_bytes())
    assert pushed.json()["counts"]["updated"] == 3, pushed.text
    gone = usaid_models[-1].identifier
    assert api.request("DELETE", f"/api/v1/activities/{gone}", key=publish).status_code == 204
    after = kept()
    assert len(after) == len(before) - 1
    unchanged = set(before) & set(after)
    assert sum(after[i] is not before[i] for i in unchanged) == 3  # only those pushed read again
    followed = figures.totals(after)
    assert followed != first_totals
    assert followed == figures.Totals.of(after)
    assert _every_answer(store) > 1000
    runtime.forget(store)
    assert kept() == after


def test_a_confirmed_duplicate_is_taken_off_the_kept_totals(
    published: tuple[Api, str, str], store: Engine
) -> None:
    api, _, admin = published
    asked = _asked([GroupBy.reporting_org], [Measure.disbursement], None, Basis.gross)
    before, _ = _both(store, **asked)
    decide(api, admin, a=COPY, b=ORIGINAL, verdict="confirmed", keep=ORIGINAL)
    after, added = _both(store, **asked)
    assert after.model_dump() == added.model_dump()
    assert after.activities == before.activities - 1
    assert after.total_usd < before.total_usd
    assert _every_answer(store) > 1000


def test_a_remap_is_followed_though_the_change_log_does_not_name_it(
    loaded: Loaded, store: Engine
) -> None:
    with store.connect() as connection:
        read = FIGURES.current(connection, None)
    # Figures as an earlier mapping version had them: written by hand, outside the service
    # (no event), so the process is told (`runtime.forget`).
    with clock_guard.expected(), store.begin() as connection:
        connection.execute(update(CURRENT).values(amount_cents=CURRENT.c.amount_cents + 1))
        connection.execute(update(BudgetView.__table__).values(  # type: ignore[attr-defined]
            mapping_version="0ld0ld0ld0ld"))
    runtime.forget(store)
    with store.connect() as connection:
        stale = FIGURES.current(connection, None)
    assert stale != read
    assert remap(store).computed >= len(read)
    with store.connect() as connection:
        remapped = FIGURES.current(connection, None)
    assert remapped == read
    assert _every_answer(store) > 1000


def test_an_activitys_partner_shares_are_equal_shares_as_the_money_rules_split_them() -> None:
    """Each amount shared among an activity's partners as `mappings.money.split` splits it
    in equal shares, the leftover cents to the first; no partner is the null group."""
    for whole in (0, 1, -7, 100_001, -100_001, 2**62 + 1):
        for count in range(5):
            partners = tuple(f"XM-{n}" for n in range(count))
            activity = figures.Figures(
                (("fuente", "disbursement", 2020, "001", "US-GOV-1", whole),
                 ("fuente", "disbursement", 2021, None, "US-GOV-1", 3)), partners)
            dollars = aggregates._dollars(whole + 3)
            equal = [Decimal(1)] * count
            expected: dict[str | None, Decimal] = (
                dict(zip(partners, money.split(dollars, equal), strict=True))
                if partners else {None: dollars})
            shares = activity.parts()[("participating_org", "disbursement", None)]
            assert {k: aggregates._dollars(v) for k, v in shares.items()} == expected
            assert sum(shares.values()) == whole + 3
            by_year = activity.parts()[("participating_org", "disbursement", 2020)]
            assert sum(by_year.values()) == whole


@pytest.mark.reads_only
def test_one_groups_parts_worked_out_alone_are_those_of_all_parts(
    loaded: Loaded, store: Engine
) -> None:
    with store.connect() as connection:
        kept = FIGURES.current(connection, None)
    compared = 0
    for activity in kept.values():
        parts = activity.parts()
        present = activity.present()
        for (grouping, measure, when), found in parts.items():
            assert activity.part(grouping, measure, when) == found
            compared += 1
        # An activity is counted in a split when one of its groups there has a part.
        for (split, when), measures in present.items():
            for measure in Measure:
                through = next(g for g, s in figures.READ_THROUGH.items() if s == split)
                assert bool(activity.part(through, measure, when)) == (measure in measures)
        assert not activity.part("province", "commitment", 1800)
    assert compared > 1000


def test_partners_by_registry_entry_follow_a_merge_of_entries(
    loaded: Loaded, store: Engine
) -> None:
    """A merge moves partners from one entry to another without changing any activity:
    the kept figures are read again, and the groups by entry are the database's."""
    api, _, _ = loaded
    asked = _asked([GroupBy.participating_entry], [Measure.disbursement], None, Basis.gross)
    before, _ = _both(store, **asked)
    busiest = [row.group["participating_entry"] for row in sorted(
        before.rows, key=lambda row: -row.activities) if row.group["participating_entry"]]
    into, merged = busiest[1], busiest[2]  # two implementing partners (the first: USAID)
    admin = new_key(store, USAID, KeyScope.admin)
    answer = api.request("POST", "/api/v1/organisations/merges", key=admin, json={
        "merged": str(merged), "into": str(into), "reason": "One organisation, two entries"})
    assert answer.status_code == 201, answer.text
    after, added = _both(store, **asked)
    assert after.model_dump() == added.model_dump()
    groups = {row.group["participating_entry"] for row in after.rows}
    assert into in groups
    assert merged not in groups
    assert after.total_usd == before.total_usd
