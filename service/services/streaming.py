"""Large answers written as they are read: rows fetched a batch at a time from a
server-side cursor, and sums past SQLite's 64 bits (CSV: `service.services.spreadsheets`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError


def streamed(engine: Engine, statement: Select[Any], *, batch: int = 1000) -> Iterator[Any]:
    """Every row of `statement` (as a mapping), on a connection held while they are read."""
    with engine.connect() as connection:
        yield from connection.execute(statement, execution_options=_streamed(batch)).mappings()


def in_batches(connection: Connection, statement: Any, *, batch: int = 5000) -> Iterator[Any]:
    """Every row of `statement` on `connection`, fetched `batch` at a time from a
    server-side cursor, so that reading every activity never holds all rows at once.

    The options are given to this statement alone: `Connection.execution_options` would
    set them on the connection for good, and every later statement on it would go through
    a server-side cursor too (on PostgreSQL, planned to give its first rows fast: a
    15 ms query took 0.2 s)."""
    yield from connection.execute(statement, execution_options=_streamed(batch))


def _streamed(batch: int) -> dict[str, Any]:
    return {"stream_results": True, "yield_per": batch}


def summed(
    connection: Connection, key: Sequence[Any], amount: ColumnElement[int],
    *where: ColumnElement[bool],
) -> list[tuple[Any, ...]]:
    """(*`key`, the sum of `amount`) for each distinct `key` of the rows meeting `where`,
    added up by the database; here, where integers have no limit, when SQLite's 64-bit sum
    overflows (the rows then stream). The sums are read at once, not from a server-side
    cursor: PostgreSQL would plan the grouping to give its first rows fast."""
    statement = select(*key, func.sum(amount)).where(*where).group_by(*key)
    try:
        return [(*found, int(total)) for *found, total in connection.execute(statement).all()]
    except OperationalError as error:
        if "integer overflow" not in str(error):
            raise
    sums: dict[tuple[Any, ...], int] = defaultdict(int)
    for *found, value in in_batches(connection, select(*key, amount).where(*where)):
        sums[tuple(found)] += value
    return [(*found, total) for found, total in sums.items()]
