"""The tests' databases, on SQLite and PostgreSQL: each kind of contents built once per
test run (per xdist worker) and copied for each test that writes.

A `Load` names contents and how to build them in a migrated database. `Databases` builds
each load once, into a template, and makes new databases from it: a SQLite file copied, a
PostgreSQL `CREATE DATABASE … TEMPLATE`. A copy costs milliseconds where the build takes
seconds (pushing a 2 MB file through the service), and each test gets a database and an
engine of its own, so nothing it commits or keeps in memory reaches another test.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any, Generic, TypeVar
from uuid import uuid4

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError

from service import runtime
from service.db import create_db_engine, upgrade_database

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Load(Generic[T]):
    """Contents of a test database: `build(engine, base)` fills a copy of `base`'s database
    (of a migrated empty one without a base) and returns what the tests need of them — keys,
    identifiers — given `base`'s own such value."""

    name: str
    build: Callable[[Engine, Any], T]
    base: Load[Any] | None = None


@dataclass(frozen=True)
class Copy(Generic[T]):
    """A test's own database: its URL, an engine on it, and what its load returned."""

    url: str
    engine: Engine
    value: T


class Databases:
    """The databases of one backend for one test run: templates and their copies."""

    def __init__(self, backend: str, *, folder: Path, server: str | None = None) -> None:
        self.backend = backend
        self.folder = folder
        self.run = uuid4().hex[:10]
        self.numbers = count(1)
        self.templates: dict[str, tuple[str, Any]] = {}
        self.admin = (create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
                      if server is not None else None)
        self.server = server
        self.made: list[str] = []

    def copy(self, load: Load[T] | None = None) -> Copy[T]:
        """A new database holding `load` (migrated and empty without one)."""
        template, value = self._template(load)
        url = self._new(template)
        return Copy(url, create_db_engine(url), value)

    def drop(self, copy: Copy[Any]) -> None:
        """Drop `copy`'s database, with what the service keeps of it in memory."""
        runtime.forget(copy.engine)
        copy.engine.dispose()
        self._drop(copy.url)

    def close(self) -> None:
        """Drop every database this run made."""
        for url in reversed(self.made):
            self._drop(url)
        if self.admin is not None:
            self.admin.dispose()

    def _template(self, load: Load[Any] | None) -> tuple[str, Any]:
        name = load.name if load is not None else "migrated"
        if name not in self.templates:
            if load is None:
                url = self._new(None)
                upgrade_database(url)
                value = None
            else:
                base_url, base_value = self._template(load.base)
                url = self._new(base_url)
                engine = create_db_engine(url)
                try:
                    value = load.build(engine, base_value)
                finally:
                    runtime.forget(engine)
                    engine.dispose()
            self._settle(url)
            self.templates[name] = (url, value)
        return self.templates[name]

    def _new(self, template: str | None) -> str:
        name = f"iati_ec_{self.run}_{next(self.numbers)}"
        if self.admin is None:
            path = self.folder / f"{name}.db"
            if template is not None:
                shutil.copyfile(make_url(template).database or "", path)
            url = f"sqlite:///{path}"
        else:
            statement = f'CREATE DATABASE "{name}"'
            if template is not None:
                statement += f' TEMPLATE "{make_url(template).database}"'
            with self.admin.connect() as connection:
                connection.exec_driver_sql(statement)
            assert self.server is not None
            url = make_url(self.server).set(database=name).render_as_string(hide_password=False)
        self.made.append(url)
        return url

    def _settle(self, url: str) -> None:
        """Make a template's file whole: SQLite's write-ahead log folded into it and switched
        off, so that copying the one file copies everything."""
        if self.admin is None:
            with sqlite3.connect(make_url(url).database or "") as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.execute("PRAGMA journal_mode = DELETE")
            connection.close()

    def _drop(self, url: str) -> None:
        if url in self.made:
            self.made.remove(url)
        if self.admin is None:
            database = make_url(url).database or ""
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(database + suffix).unlink(missing_ok=True)
            return
        name = make_url(url).database
        with self.admin.connect() as connection:
            try:
                # PostgreSQL stops its own autovacuum workers on the database; FORCE would
                # try to, and fail, without the right to signal them.
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            except OperationalError:  # a connection a test left open
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
