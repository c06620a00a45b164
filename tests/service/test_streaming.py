"""Rows read a batch at a time, on SQLite and PostgreSQL, without changing the connection."""

from __future__ import annotations

from sqlalchemy import Engine, literal, select, union_all

from service.services.streaming import in_batches


def test_batches_give_every_row_and_leave_the_connection_as_it_was(engine: Engine) -> None:
    numbers = union_all(*(select(literal(n).label("n")) for n in range(12))).subquery()
    with engine.connect() as connection:
        before = dict(connection.get_execution_options())
        rows = [n for (n,) in in_batches(connection, select(numbers.c.n), batch=5)]
        # A later statement is not streamed from a server-side cursor: its options are
        # the connection's own, as before.
        assert dict(connection.get_execution_options()) == before
        assert connection.execute(select(numbers.c.n)).context.execution_options.get(
            "stream_results") is None
    assert sorted(rows) == list(range(12))
