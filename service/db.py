"""The database: engines for SQLite and PostgreSQL, sessions, and migrations to the latest schema.

SQLite (the zero set-up default) runs in WAL mode with foreign keys enforced and a busy
timeout. Its driver's own transaction handling is switched off so that SQLAlchemy's
BEGIN is the one that counts: a session opened with ``write=True`` starts with
``BEGIN IMMEDIATE``, taking the write lock before it reads, so two writers of the same
activity queue up instead of failing when the second tries to upgrade its read lock.
Within one process those writers take turns in arrival order (`WriterQueue`) before they
ask SQLite: its busy handler polls with growing sleeps, so a writer that commits and
begins again at once can starve the others past the busy timeout.
On PostgreSQL it is an ordinary READ COMMITTED transaction: an upsert locks the
activity's row (``SELECT … FOR UPDATE``), and the unique identifier stops a double insert.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session

from service.config import get_settings
from service.search import SEARCH_INDEX, is_search_index

_IMMEDIATE = "iati_ec_sqlite_immediate"
_TURN = "iati_ec_sqlite_turn"


class WriterQueue:
    """SQLite's writers of one process, served first come, first served.

    A thread already holding the turn may take it again (its nested transaction then
    meets SQLite's own lock, as without the queue). A writer that has waited `timeout`
    seconds goes ahead and lets SQLite's busy timeout decide.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: deque[object] = deque()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn; False if `timeout` passed first."""
        me = threading.get_ident()
        with self._changed:
            if self._owner == me:
                self._depth += 1
                return True
            ticket = object()
            self._waiting.append(ticket)
            deadline = time.monotonic() + timeout
            while self._owner is not None or self._waiting[0] is not ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._waiting.remove(ticket)
                    self._changed.notify_all()
                    return False
                self._changed.wait(remaining)
            self._waiting.popleft()
            self._owner, self._depth = me, 1
            return True

    @property
    def waiting(self) -> int:
        """How many threads wait for their turn."""
        with self._changed:
            return len(self._waiting)

    def release(self) -> None:
        with self._changed:
            if self._owner != threading.get_ident():
                return
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._changed.notify_all()


# The connections an engine keeps and may open beyond them: 40 in all, the number of
# worker threads that run FastAPI's synchronous routes and dependencies at once.
POOL: dict[str, Any] = {"pool_size": 10, "max_overflow": 30}


def create_db_engine(
    url: str, *, busy_timeout_ms: int = 30_000, foreign_keys: bool = True, **options: Any
) -> Engine:
    """An engine for `url`; SQLite files (and their folder) are created on first use.

    Its pool holds as many connections as the server runs requests at once (`POOL`), so
    that a burst of slow requests waits for the database, not for a connection.
    """
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    database = parsed.database or ":memory:"
    sqlite_file = sqlite and database != ":memory:" and not database.startswith("file:")
    if "poolclass" not in options and (sqlite_file or not sqlite):
        options = {**POOL, **options}
    if not sqlite:
        return create_engine(url, pool_pre_ping=True, **options)
    if sqlite_file:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    _configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms, foreign_keys=foreign_keys)
    return engine


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # No implicit transactions from the driver: SQLAlchemy emits BEGIN (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL is safe against a killed process (not a power cut).
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    writers = WriterQueue()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(_IMMEDIATE, False):
            connection.exec_driver_sql("BEGIN")
            return
        connection.info[_TURN] = writers.acquire(busy_timeout_ms / 1000)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _end_turn(connection)
            raise

    def _end_turn(connection: Connection) -> None:
        if connection.info.pop(_TURN, False):
            writers.release()

    # Both fire as the transaction ends, just before the driver's COMMIT or ROLLBACK.
    event.listen(engine, "commit", _end_turn)
    event.listen(engine, "rollback", _end_turn)


@cache
def get_engine() -> Engine:
    """The service's engine, for the configured `DATABASE_URL` (one per process)."""
    settings = get_settings()
    return create_db_engine(
        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )


def for_writing(bind: Engine) -> Engine:
    """`bind` whose transactions take SQLite's write lock as they begin (same pool)."""
    if bind.dialect.name != "sqlite":
        return bind
    return bind.execution_options(**{_IMMEDIATE: True})


def new_session(engine: Engine | None = None, *, write: bool = False) -> Session:
    """A session on `engine` (the service's by default); see `for_writing` for `write`."""
    bind = engine or get_engine()
    return Session(for_writing(bind) if write else bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with new_session(engine, write=write) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_session() -> Iterator[Session]:
    """A session per request (FastAPI dependency); the route's service commits."""
    with new_session() as session:
        yield session


def migrations_directory() -> Path:
    """The Alembic script directory: `service/migrations` in an installed package (the
    build ships the repository's `migrations/` there), else `migrations/` beside the
    packages in the source tree and editable installs. Never the working directory's."""
    here = Path(__file__).resolve().parent
    for place in (here / "migrations", here.parent / "migrations"):
        if (place / "env.py").is_file():
            return place
    raise FileNotFoundError(
        f"The migrations are missing from this installation ({here}): reinstall iati-ec "
        "from its wheel or source tree."
    )


def alembic_config(url: str) -> Config:
    """Alembic's configuration for `url`, without reading alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    config.attributes["url"] = url
    return config


def managed_by_models(name: str | None, type_: str, _parents: Any) -> bool:
    """Whether Alembic compares `name` with the models: all but the search indexes (SQLite's
    FTS5 tables, PostgreSQL's expression index), which the migrations make by hand."""
    if type_ == "table":
        return name is None or not is_search_index(name)
    return not (type_ == "index" and name == SEARCH_INDEX)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (the latest by default)."""
    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str) -> None:
    """Migrate the database at `url` back to `revision` (``base``: no tables)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None before the first migration)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The latest revision in `migrations/`."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()
