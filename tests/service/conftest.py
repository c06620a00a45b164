"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

Each backend gets one fresh database per test session (a temporary SQLite file; a
uniquely named PostgreSQL database, dropped at the end), migrated once; each test then
runs in a transaction that is rolled back. PostgreSQL is the server named by
``IATI_EC_TEST_POSTGRES_URL`` (``bash .ci/run`` starts one); without it those cases skip,
except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from service.db import create_db_engine, upgrade_database
from tests.service.test_push_support import clean_engine

POSTGRES_ENV = "IATI_EC_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server to create test databases in."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = f"{POSTGRES_ENV} is not set (bash .ci/run starts a PostgreSQL server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: under CI=true the PostgreSQL tests must run")
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a new, empty database of this test session on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('database') / 'iati-ec.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    name = f"iati_ec_test_{uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the session's database, migrated to the latest revision."""
    upgrade_database(database_url)
    migrated = create_db_engine(database_url)
    yield migrated
    migrated.dispose()


@pytest.fixture
def store(engine: Engine) -> Iterator[Engine]:
    """The session's engine, emptied before the test and again after it."""
    yield from clean_engine(engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work, commits included, is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as rolled_back:
            yield rolled_back
        transaction.rollback()
