"""The clock: `read_event`'s last `seq`, moved by every write that changes derived data.

`record` is called by such a write inside its own transaction, as late as it can (after
`log_change`, when it logs a change too). On PostgreSQL it locks `read_event` against
other recorders until the transaction ends, so a later `seq` is never committed before an
earlier one: a reader that sees `seq` n sees every write up to n. SQLite's writers take
turns anyway. `position` is one read by primary key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from service.models import ReadEvent, utcnow

EVENT: Table = ReadEvent.__table__  # type: ignore[attr-defined]
_LAST = select(EVENT.c.seq, EVENT.c.at).order_by(EVENT.c.seq.desc()).limit(1)


def record(
    connection: Connection | Session, kind: str, *, activities: Iterable[int] | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Record one write of `kind` in the caller's transaction, naming the `activities`
    whose stored data it changed (None: no single activity's, or too many); its `seq`."""
    if isinstance(connection, Session):
        connection = connection.connection()
    if connection.dialect.name == "postgresql":  # held until the transaction ends
        connection.exec_driver_sql("LOCK TABLE read_event IN SHARE ROW EXCLUSIVE MODE")
    seq = connection.execute(insert(EVENT).values(
        kind=kind, activities=sorted(set(activities)) if activities is not None else None,
        details=details, at=utcnow(),
    ).returning(EVENT.c.seq)).scalar_one()
    return int(seq)


def position(connection: Connection) -> tuple[int, Any]:
    """The clock: the last event's `seq` and time ((0, None) before any). The time tells a
    database emptied and filled again, whose `seq` may have come back to the same number."""
    row = connection.execute(_LAST).first()
    return (0, None) if row is None else (int(row[0]), row[1])
