"""What one process of the service keeps between requests, and the one way to drop it.

A process reads its settings once, opens one engine, and keeps in memory what it derived
from each store: answers under the store's clock (`services.memo`) and per-activity
values followed through the read model's events (`services.following`). `forget` drops
what is kept of one store, for a change that recorded no event (a repair by hand, a
restored copy); `reset` drops everything, so that the next command or request starts as a new
process would: settings read again and a new engine for the configured database.
"""

from __future__ import annotations

from sqlalchemy import Engine

from service.config import get_settings
from service.db import get_engine
from service.services import following, memo


def forget(engine: Engine) -> None:
    """Drop every answer and followed value kept for `engine`."""
    memo.forget(engine)
    for follower in following.FOLLOWERS:
        follower.forget(engine)


def reset() -> None:
    """Drop what the process keeps: the engine (disposed), with what is kept of its store,
    and the settings."""
    if get_engine.cache_info().currsize:
        engine = get_engine()
        forget(engine)
        engine.dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()
