"""Answers computed over the whole store, kept until the store changes.

An aggregate at 100,000 activities reads every budget figure of the matching activities
(0.5–1 s), and the dashboard and the ministries' systems ask the same few again and again
between pushes. An answer is kept per engine under the store's *generation*: the read
model's clock (`service.readmodel.clock`), the last event's `seq` and time, one read by
primary key. Every write to a table the kept answers read (declared in
`service.readmodel.inputs`) records an event in its transaction, so an answer is never
served once something it was computed from has changed; the time beside the number tells
a database that was emptied and filled again from the one before. An answer that also
depends on something outside the generation carries it in its key: a partner's profile
carries the registry entry it was read for. One computation per key at a time: concurrent
askers of the same key wait for the first instead of repeating it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from service.readmodel.clock import position

T = TypeVar("T")
# Answers per engine, the least recently used dropped first. Only the answers of one
# generation are kept: keeping a new one drops those of any other, which no caller can be
# served again, so the memory held is that of one generation's answers.
KEPT = 256


def generation(connection: Connection) -> tuple[Any, ...]:
    """What the kept answers depend on: the clock, read by primary key."""
    return position(connection)


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: OrderedDict[tuple[Hashable, Hashable], Any] = OrderedDict()
        self.working: dict[Hashable, threading.Lock] = {}
        self.generation: Hashable = None  # of the answers kept last


_STORES: WeakKeyDictionary[Engine, _Store] = WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def remembered(connection: Connection, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for `key` under the store's current generation: kept from an
    earlier call if nothing has changed since, else computed now (and kept)."""
    with _STORES_LOCK:
        store = _STORES.setdefault(connection.engine, _Store())
    current = generation(connection)
    full = (key, current)
    with store.lock:
        if full in store.answers:
            store.answers.move_to_end(full)
            return store.answers[full]  # type: ignore[no-any-return]
        working = store.working.setdefault(full, threading.Lock())
    with working:  # the first asker computes; the others wait and then find its answer
        with store.lock:
            if full in store.answers:
                return store.answers[full]  # type: ignore[no-any-return]
        try:
            answer = compute()
        finally:  # an error is raised to each asker in turn, never kept
            with store.lock:
                store.working.pop(full, None)
        with store.lock:
            if current != store.generation:  # what was kept before can never be served
                store.generation = current
                for stale in [k for k in store.answers if k[1] != current]:
                    del store.answers[stale]
            store.answers[full] = answer
            while len(store.answers) > KEPT:
                store.answers.popitem(last=False)
    return answer


def kept(connection: Connection) -> list[Hashable]:
    """The keys of the answers kept for the store's current generation."""
    current = generation(connection)
    return [key for key, at in _held(connection.engine) if at == current]


def held(engine: Engine) -> int:
    """How many answers are held for `engine`, of any generation."""
    return len(_held(engine))


def _held(engine: Engine) -> list[tuple[Hashable, Hashable]]:
    with _STORES_LOCK:
        store = _STORES.get(engine)
    if store is None:
        return []
    with store.lock:
        return list(store.answers)


def forget(engine: Engine) -> None:
    """Drop every answer kept for `engine`."""
    with _STORES_LOCK:
        _STORES.pop(engine, None)
