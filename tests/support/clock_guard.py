"""The clock's guard: a transaction that writes a table derived data reads
(`service.readmodel.inputs.INPUT_TABLES`) must record an event (`read_event`) before it
commits, or the answers kept in other processes go stale.

`install` listens to every engine of the test process: each INSERT, UPDATE and DELETE is
read for its target table (the transaction's first write of an input table keeps a short
stack of where it came from), an insert into `read_event` marks the transaction
recorded, and its commit is checked. Savepoints rolled back take their writes with them;
a transaction that migrates (writes `alembic_version`) is exempt. A commit found wanting
is kept in `VIOLATIONS`, which the tests' fixture turns into the test's failure.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, exc

from service.readmodel.inputs import INPUT_TABLES

_PROJECT = str(Path(__file__).resolve().parents[2]) + "/"
_DML = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_KEY = "clock_guard"
EVENT_TABLE = "read_event"
Where = tuple[tuple[str, int, str], ...]  # (file, line, function), innermost last
MIGRATIONS_TABLE = "alembic_version"


@dataclass
class _Transaction:
    written: dict[str, Where] = field(default_factory=dict)  # input table -> where from
    recorded: bool = False
    migrating: bool = False
    savepoints: list[tuple[dict[str, Where], bool]] = field(default_factory=list)


@dataclass(frozen=True)
class Violation:
    table: str
    where: Where

    def __str__(self) -> str:
        frames = "".join(f"  {file}:{line} in {name}\n" for file, line, name in self.where)
        return (f"a transaction wrote {self.table!r}, which derived data reads "
                "(service/readmodel/inputs.py), and committed without recording an event "
                "(service.readmodel.clock.record); the transaction's first such write came "
                f"from:\n{frames}")


VIOLATIONS: list[Violation] = []
_LOCK = threading.Lock()
_INSTALLED = False


def _state(connection: Connection) -> _Transaction:
    state: _Transaction | None = connection.info.get(_KEY)
    if state is None:
        state = connection.info[_KEY] = _Transaction()
    return state


def _where() -> Where:
    """The project's frames of the current stack, innermost last (at most eight): walked
    without reading any source, as this runs on every first write of a table."""
    frames: list[tuple[str, int, str]] = []
    frame = sys._getframe(2)
    while frame is not None and len(frames) < 8:
        name = frame.f_code.co_filename
        if name.startswith(_PROJECT) and "/.venv/" not in name:
            frames.append((name[len(_PROJECT):], frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return tuple(reversed(frames))


def _before(connection: Connection, cursor: Any, statement: str, parameters: Any,
            context: Any, executemany: bool) -> None:
    found = _DML.match(statement)
    if found is None:
        return
    table = found.group(1).lower()
    if table == EVENT_TABLE:
        _state(connection).recorded = True
    elif table == MIGRATIONS_TABLE:
        _state(connection).migrating = True
    elif table in INPUT_TABLES:
        state = _state(connection)
        if table not in state.written:  # where from: taken once a transaction (it costs)
            state.written[table] = next(iter(state.written.values()), None) or _where()


def _taken(connection: Connection) -> _Transaction | None:
    """The transaction's state, forgotten; None on a connection the database dropped (its
    `info` is then out of reach, and the error that dropped it is the caller's to see)."""
    try:
        return connection.info.pop(_KEY, None)  # type: ignore[no-any-return]
    except exc.SQLAlchemyError:
        return None


def _commit(connection: Connection) -> None:
    state = _taken(connection)
    if state is None or state.recorded or state.migrating or not state.written:
        return
    with _LOCK:
        VIOLATIONS.extend(Violation(table, where) for table, where in state.written.items())


def _rollback(connection: Connection) -> None:
    _taken(connection)


def _savepoint(connection: Connection, name: str | None) -> None:
    # SQLAlchemy names the savepoint after this event: they nest, so a stack serves.
    state = _state(connection)
    state.savepoints.append((dict(state.written), state.recorded))


def _rollback_savepoint(connection: Connection, name: str, context: Any) -> None:
    state = _state(connection)
    if state.savepoints:
        state.written, state.recorded = state.savepoints.pop()


def _release_savepoint(connection: Connection, name: str, context: Any) -> None:
    state = _state(connection)
    if state.savepoints:
        state.savepoints.pop()


def install() -> None:
    """Listen to every engine of this process (once)."""
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Engine, "before_cursor_execute", _before)
    event.listen(Engine, "commit", _commit)
    event.listen(Engine, "rollback", _rollback)
    event.listen(Engine, "savepoint", _savepoint)
    event.listen(Engine, "rollback_savepoint", _rollback_savepoint)
    event.listen(Engine, "release_savepoint", _release_savepoint)
    _INSTALLED = True


def take() -> list[Violation]:
    """The violations found since the last call, taken away."""
    with _LOCK:
        found = list(VIOLATIONS)
        VIOLATIONS.clear()
    return found


@contextmanager
def expected() -> Iterator[list[Violation]]:
    """Collect the violations of the block, instead of failing the test with them."""
    before = take()
    found: list[Violation] = []
    try:
        yield found
    finally:
        found.extend(take())
        with _LOCK:
            VIOLATIONS[:0] = before
