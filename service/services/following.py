"""Values per live activity, kept per engine and brought up to date from the clock.

Some reports read something of every live activity that takes seconds to read at 100,000
activities (coordination's facts, the results' evaluated periods). A `Follower` keeps them:
each activity created, updated, restored or deleted since they were read is read again,
alone, so a push of a few activities costs milliseconds. The activities to read again are
those the read model's events name (`service.readmodel.clock`): every write that changes
what derived data is made from records one, naming the activities whose stored data it
changed (a push, a deletion, a transfer, a remap's new views, a merge's moved
participations). They are read afresh when the events do not follow on from what was kept
(a database emptied and filled again), when more than `REREAD_ALL` activities changed
since, or when the `basis` they were read on (the day, for the results) is not the one
asked for.

The events' `seq` is committed in order (see `service.readmodel.clock.record`), so the
cursor is read first and an event committed after it is read again the next time.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, Table, select
from sqlalchemy.engine import Connection

from service.readmodel.clock import EVENT
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions, live

V = TypeVar("V")
T = TypeVar("T")
B = TypeVar("B", bound=Hashable)  # what the values are read on: a day, or None
REREAD_ALL = 20_000  # activities changed since the values were read past which all are read again
CHUNK = 500  # activity ids per IN (…) list
PASSED = 256  # earlier cursors remembered, to serve connections that see one of them
# Reads the values of the activities meeting the conditions (all live ones, or a chunk of
# ids) on a basis; an activity without a value is left out.
Read = Callable[[Connection, list[ColumnElement[bool]], B], dict[int, V]]


class Kept(dict[int, V]):
    """The values of every live activity, by id, at one point of the change log, with what
    has been derived from them (see `derived`)."""

    def __init__(self, values: dict[int, V], *, before: Kept[V] | None = None,
                 changed: frozenset[int] = frozenset()) -> None:
        super().__init__(values)
        self.derived: dict[str, Any] = {}
        # The kept values these follow on from and the activities changed since: what is
        # derived from those is updated rather than derived again.
        self.before, self.changed = before, changed

    def following(self, changed: frozenset[int]) -> Kept[V]:
        """These values without the `changed` activities', to be read again; they follow on
        from these, or from what these follow on from if nothing was derived from these
        (so that no chain of older values is held)."""
        rest = dict(self)  # copied whole, then the changed taken out: faster than filtering
        for activity in changed:
            rest.pop(activity, None)
        if self.before is not None and not self.derived:
            return Kept(rest, before=self.before, changed=self.changed | changed)
        # What was derived from the values before these and not from these is let go:
        # it is derived afresh when asked for again.
        self.before = None
        return Kept(rest, before=self, changed=changed)


def derived(
    kept: Kept[V], name: str, fresh: Callable[[Kept[V]], T],
    updated: Callable[[T, Kept[V], Kept[V], frozenset[int]], T],
) -> T:
    """What `fresh(kept)` gives, kept with `kept`; made by `updated(value, older values,
    values, changed ids)` from what the values `kept` follows on from had, when they had it.
    The older values are let go once every value derived from them has been derived from
    `kept` too, or when the values after `kept` are read: until then, they are held one
    step back."""
    if name in kept.derived:
        return kept.derived[name]  # type: ignore[no-any-return]
    before = kept.before
    if before is not None and name in before.derived:
        value = updated(before.derived[name], before, kept, kept.changed)
    else:
        value = fresh(kept)
    kept.derived[name] = value
    if before is not None and before.derived.keys() <= kept.derived.keys():
        kept.before = None
    return value


@dataclass(frozen=True)
class Log:
    """A table whose rows name the activities changed (`ids`: one id, or with `listed` a
    list of them, null for none), in the order of its column `order`. Its cursor is its
    last row's (`order`, `stamp`): another stamp at the kept order means another log (a
    database emptied and filled again), so everything is read again. The rows of a
    `pruned` log may be deleted, and SQLite gives a deleted last row's id to the next: a
    missing row is no such sign there, nor is a cursor gone back."""

    table: Table
    order: str
    stamp: str
    pruned: bool = False
    ids: str = "activity_id"
    listed: bool = False

    def last(self, connection: Connection) -> tuple[Any, ...] | None:
        row = connection.execute(
            select(self.table.c[self.order], self.table.c[self.stamp])
            .order_by(self.table.c[self.order].desc()).limit(1)
        ).first()
        return tuple(row) if row is not None else None


# The read model's events: the one clock (see the module).
EVENTS = Log(EVENT, "seq", "at", ids="activities", listed=True)
Cursor = tuple[tuple[Any, ...] | None, ...]  # each log's last (order, stamp)
# Every follower made, so that `service.runtime` can drop what each keeps of an engine.
FOLLOWERS: list[Follower[Any, Any]] = []


@dataclass
class _State(Generic[V, B]):
    lock: threading.Lock = field(default_factory=threading.Lock)
    basis: B | None = None
    cursor: Cursor | None = None  # what was read last
    values: Kept[V] = field(default_factory=lambda: Kept({}))
    passed: dict[Cursor, None] = field(default_factory=dict)  # earlier cursors, in order


class Follower(Generic[V, B]):
    """Values of every live activity made by `read`, kept per engine and followed through
    `logs` (see the module)."""

    def __init__(self, read: Read[B, V], logs: tuple[Log, ...] = (EVENTS,)) -> None:
        self.read = read
        self.logs = logs
        self.states: WeakKeyDictionary[Engine, _State[V, B]] = WeakKeyDictionary()
        self.lock = threading.Lock()
        FOLLOWERS.append(self)

    def forget(self, engine: Engine) -> None:
        """Drop the values kept for `engine`: the next call reads them all again. For a
        change that recorded no event (a repair by hand)."""
        with self.lock:
            self.states.pop(engine, None)

    def current(self, connection: Connection, basis: B) -> Kept[V]:
        """Every live activity's values on `basis`, up to date. Kept values are never
        changed: an update makes new ones, so a caller still reading those it was given
        is not disturbed. Read them, never change them."""
        with self.lock:
            state = self.states.setdefault(connection.engine, _State())
        with state.lock:
            cursor = tuple(log.last(connection) for log in self.logs)
            if basis == state.basis and None not in cursor and (
                    cursor == state.cursor or cursor in state.passed):
                # Up to date, or this connection sees an earlier point of the same logs (its
                # transaction began before the last update): the kept values serve it.
                return state.values
            changed = _changed_since(connection, self.logs, state.cursor, cursor) if (
                basis == state.basis) else None
            if changed is None:
                values = Kept(self.read(connection, [live(ACTIVITY.c.id)], basis))
                state.passed.clear()
                # Kept for long: the collector's full passes leave what lives now alone (a
                # million objects took each pass a second, after each push). Garbage is
                # collected first, so that none is kept with them.
                gc.collect()
                gc.freeze()
            else:
                values = state.values.following(frozenset(changed))
                for chunk in chunks(sorted(changed)):
                    values.update(self.read(connection, [
                        ACTIVITY.c.id.in_(chunk), live(ACTIVITY.c.id)], basis))
                assert state.cursor is not None  # what the changes were read since
                state.passed[state.cursor] = None
                while len(state.passed) > PASSED:
                    del state.passed[next(iter(state.passed))]
            state.basis, state.cursor, state.values = basis, cursor, values
            return values


def _changed_since(
    connection: Connection, logs: tuple[Log, ...], kept: Cursor | None, now: Cursor,
) -> set[int] | None:
    """The activities changed after the `kept` cursor up to `now`, or None when all must be
    read again."""
    if kept is None or None in kept or None in now:
        return None
    spans = [(log, at, upto) for log, (at, _), (upto, _) in zip(  # type: ignore[misc]
        logs, kept, now, strict=True)]
    if any(upto < at and not log.pruned for log, at, upto in spans) or sum(
            max(upto - at, 0) for _, at, upto in spans) > REREAD_ALL:
        return None
    changed: set[int] = set()
    for (log, at, upto), (_, stamp) in zip(spans, kept, strict=True):  # type: ignore[misc]
        found = connection.execute(select(log.table.c[log.stamp]).where(
            log.table.c[log.order] == at)).first()
        if (found is None and not log.pruned) or (found is not None and found[0] != stamp):
            return None  # not the log the values were read from
        named = connection.execute(select(log.table.c[log.ids]).where(
            log.table.c[log.order] > at, log.table.c[log.order] <= upto)).scalars()
        if log.listed:
            for ids in named:
                changed.update(ids or ())
        else:
            changed.update(named)
        if len(changed) > REREAD_ALL:
            return None
    return changed


K = TypeVar("K", bound=Hashable)


def refiled(
    index: dict[K, frozenset[int]], changed: frozenset[int], old: dict[int, V],
    new: dict[int, V], keys: Callable[[V], Iterable[K]],
) -> dict[K, frozenset[int]]:
    """`index` (the activities filed under each key) with the `changed` activities filed
    under the keys of their `new` values, no longer under those of their `old` ones (an
    activity gone has no new value); a new dictionary, sharing the sets of the keys left
    alone, for an index derived from kept values (see `derived`)."""
    touched: dict[K, set[int]] = {}
    for activity in changed:
        for values, filed in ((old, False), (new, True)):
            value = values.get(activity)
            for key in keys(value) if value is not None else ():
                ids = touched.get(key)
                if ids is None:
                    ids = touched[key] = set(index.get(key, ()))
                if filed:
                    ids.add(activity)
                else:
                    ids.discard(activity)
    result = dict(index)
    for key, ids in touched.items():
        if ids:
            result[key] = frozenset(ids)
        else:
            result.pop(key, None)
    return result


def chunks(ids: list[int]) -> Iterable[list[int]]:
    """`ids` in lists of at most `CHUNK`."""
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def matching(connection: Connection, kept: Kept[V], chosen: ActivityFilter) -> dict[int, V]:
    """The `kept` values of the activities matching `chosen`."""
    conditions = activity_conditions(chosen, dialect=connection.dialect.name)
    if not conditions:
        return kept
    ids = connection.execute(select(ACTIVITY.c.id).where(*conditions)).scalars()
    return {i: kept[i] for i in ids if i in kept}
