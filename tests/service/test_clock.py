"""The read model's clock: every write to a table derived data reads records an event in
its own transaction, and the tests' guard fails a write that does not."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from service.models import Organisation
from service.readmodel.clock import EVENT, position, record
from service.readmodel.inputs import INPUT_TABLES, INPUTS
from service.services.memo import generation
from tests.support import clock_guard
from tests.support.publishing import add_publisher

GRANT = "health-grant-esmeraldas.xml"  # one disbursement of 500,000.00 EUR

ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]


def test_the_inputs_are_tables_of_the_store(store: Engine) -> None:
    from service.models import metadata

    assert set(metadata.tables) >= INPUT_TABLES, INPUT_TABLES - set(metadata.tables)
    assert "read_event" not in INPUT_TABLES
    assert {"activity", "budget_figure", "push_activity"} <= INPUTS["aggregates"] | INPUTS[
        "duplicates"]


def test_a_migrated_store_has_a_clock_and_each_event_moves_it(store: Engine) -> None:
    with store.connect() as connection:
        first, at = position(connection)
    assert first >= 1  # the migration's event
    assert at is not None
    with store.begin() as connection:
        one = record(connection, "organisation")
        two = record(connection, "push", activities=[3, 1, 3])
    assert (one, two) == (first + 1, first + 2)
    with store.connect() as connection:
        assert position(connection)[0] == two
        assert generation(connection) == position(connection)
        kinds = connection.execute(
            select(EVENT.c.kind, EVENT.c.activities).where(EVENT.c.seq > first)
            .order_by(EVENT.c.seq)).all()
    assert [tuple(row) for row in kinds] == [("organisation", None), ("push", [1, 3])]


def test_an_event_rolled_back_leaves_the_clock_where_it_was(store: Engine) -> None:
    with store.connect() as connection:
        before = position(connection)
    def recorded_then_failed() -> None:
        with store.begin() as connection:
            record(connection, "merge")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        recorded_then_failed()
    with store.connect() as connection:
        assert position(connection) == before


def test_a_write_to_an_input_without_an_event_fails_the_guard(store: Engine) -> None:
    publisher = add_publisher(store, "XM-CLOCK-1", name="Before")
    with clock_guard.expected() as found, store.begin() as connection:
        connection.execute(update(ORGANISATION).where(
            ORGANISATION.c.id == publisher.organisation_id).values(name="After"))
    assert [v.table for v in found] == ["organisation"]
    message = str(found[0])
    assert "'organisation'" in message
    assert "without recording an event" in message
    # where the write came from: this test's own line
    assert re.search(r"tests/service/test_clock\.py:\d+ in test_a_write_to_an_input", message)


def test_the_same_write_with_an_event_passes_the_guard(store: Engine) -> None:
    publisher = add_publisher(store, "XM-CLOCK-2", name="Before")
    with clock_guard.expected() as found, store.begin() as connection:
        connection.execute(update(ORGANISATION).where(
            ORGANISATION.c.id == publisher.organisation_id).values(name="After"))
        record(connection, "organisation")
    assert found == []


def test_a_write_undone_by_its_savepoint_needs_no_event(store: Engine) -> None:
    def added_then_failed(session: Session) -> None:
        with session.begin_nested():
            session.add(Organisation(name="Gone", roles=[], names=[]))
            session.flush()
            raise RuntimeError

    with clock_guard.expected() as found, Session(store) as session:
        with pytest.raises(RuntimeError):
            added_then_failed(session)
        session.commit()
    assert found == []


def test_a_write_committed_through_a_savepoint_needs_an_event(store: Engine) -> None:
    with clock_guard.expected() as found, Session(store) as session:
        with session.begin_nested():
            session.add(Organisation(name="Kept", roles=[], names=[]))
        session.commit()
    assert [v.table for v in found] == ["organisation"]


def test_a_write_to_a_table_no_answer_reads_needs_no_event(store: Engine) -> None:
    from service.models import SyncSource

    publisher = add_publisher(store, "XM-CLOCK-3")
    with clock_guard.expected() as found, Session(store) as session:
        session.add(SyncSource(url="https://example.org/a.xml",
                               organisation_id=publisher.organisation_id))
        session.commit()
    assert found == []
