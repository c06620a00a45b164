"""Aggregates are kept until the store changes, and never served after it has."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from mappings.amounts import Measure
from service import runtime
from service.models import KeyScope
from service.services.aggregates import GroupBy, aggregate
from service.services.memo import generation, held, kept
from service.services.query import ActivityFilter
from service.services.traceability import Basis
from tests.support.loads import example_identifiers
from tests.support.publishing import Api, new_key
from tests.support.samples import EXAMPLES

GRANT = "health-grant-esmeraldas.xml"  # one disbursement of 500,000.00 EUR


def _by_donor(store: Engine) -> dict[str, Decimal]:
    with store.connect() as connection:
        found = aggregate(connection, ActivityFilter(), group_by=[GroupBy.reporting_org],
                          measures=[Measure.disbursement], basis=Basis.gross)
    return {str(row.group["reporting_org"]): row.amount_usd for row in found.rows}


def test_an_aggregate_is_kept_until_a_push_changes_the_money(
    store: Engine, loaded: tuple[Api, str, str]
) -> None:
    api = loaded[0]
    with store.connect() as connection:
        first = aggregate(connection, ActivityFilter(), group_by=[GroupBy.year],
                          measures=[Measure.disbursement])
        again = aggregate(connection, ActivityFilter(), group_by=[GroupBy.year],
                          measures=[Measure.disbursement])
        other = aggregate(connection, ActivityFilter(reporting_org=["ES-DAC-2"]),
                          group_by=[GroupBy.year], measures=[Measure.disbursement])
        before = generation(connection)
    assert again is first  # kept, not computed again
    assert other is not first
    assert other.total_usd < first.total_usd

    grant = _by_donor(store)["ES-DAC-2"]
    doubled = (EXAMPLES / GRANT).read_bytes().replace(b">500000.00<", b">1000000.00<")
    answer = api.request("POST", "/api/v1/activities",
                         key=new_key(store, "ES-DAC-2", KeyScope.publish), content=doubled)
    assert answer.json()["counts"]["updated"] == 1, answer.text

    with store.connect() as connection:
        assert generation(connection) != before
        assert kept(connection) == []  # nothing yet for the new generation
    # By year; by year for ES-DAC-2, and the activities it matches; by donor: the old
    # generation.
    assert held(store) == 4
    after = _by_donor(store)
    assert after["ES-DAC-2"] == grant * 2  # the new figure, not the kept one
    assert held(store) == 1  # keeping it dropped those of the old generation
    runtime.forget(store)
    assert _by_donor(store) == after  # and the same as computed afresh


def test_a_confirmed_duplicate_leaves_the_kept_aggregate(
    store: Engine, loaded: tuple[Api, str, str]
) -> None:
    api = loaded[0]
    before = _by_donor(store)
    grant, loan = example_identifiers()[:2]
    admin = new_key(store, "ES-DAC-2", KeyScope.admin)
    answer = api.request("POST", "/api/v1/coordination/duplicates/decisions", key=admin,
                         json={"a": grant, "b": loan, "verdict": "confirmed", "keep": loan})
    assert answer.status_code == 200, answer.text
    after = _by_donor(store)
    assert "ES-DAC-2" in before
    assert "ES-DAC-2" not in after
    assert after == {k: v for k, v in before.items() if k != "ES-DAC-2"}
