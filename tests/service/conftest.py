"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

Each backend's contents are built once per test run (`tests.support.databases`): a migrated
empty database, and loads such as the USAID Ecuador file with the worked examples. A test
that writes gets its own copy (`store`, `loaded`); tests marked `reads_only` share one
(and fail if they add a row to it); `session` rolls its work back on
the run's one migrated database (`engine`). PostgreSQL is the server named by
``IATI_EC_TEST_POSTGRES_URL`` (``bash .ci/run`` starts one); without it those cases skip,
except under ``CI=true``, where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel

from iati.elements.activity import Activity
from tests.support import loads
from tests.support.databases import Copy, Databases, Load
from tests.support.evaluation import EVALUATION
from tests.support.loads import (
    FEW_USAID,
    LOANS,
    REGIONAL,
    USAID_AND_EXAMPLES,
    FewKeys,
    Keys,
    Loaded,
)
from tests.support.publishing import Api
from tests.support.republished import REPUBLISHED, Published, PublishedKeys

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """This run's SQLite databases, files in a temporary folder."""
    made = Databases("sqlite", folder=tmp_path_factory.mktemp("sqlite"))
    yield made
    made.close()


@pytest.fixture(scope="session")
def postgresql_databases(
    postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """This run's PostgreSQL databases, on the server of `postgres_server_url`."""
    made = Databases("postgresql", folder=tmp_path_factory.mktemp("postgresql"),
                     server=postgres_server_url)
    yield made
    made.close()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(request: pytest.FixtureRequest) -> Databases:
    """This run's databases on each backend: a test taking it runs on both."""
    made: Databases = request.getfixturevalue(f"{request.param}_databases")
    return made


@pytest.fixture(scope="session")
def _migrated(databases: Databases) -> Iterator[Copy[None]]:
    yield from _copy(databases)


@pytest.fixture(scope="session")
def database_url(_migrated: Copy[None]) -> str:
    """The URL of this run's one migrated database (the `engine`'s)."""
    return _migrated.url


@pytest.fixture(scope="session")
def engine(_migrated: Copy[None]) -> Engine:
    """An engine on the run's migrated database, shared by the rolled-back `session`s."""
    return _migrated.engine


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


def _copy(databases: Databases, load: Load[Any] | None = None) -> Iterator[Copy[Any]]:
    made = databases.copy(load)
    try:
        yield made
    finally:
        databases.drop(made)


@pytest.fixture
def store(request: pytest.FixtureRequest, databases: Databases) -> Iterator[Engine]:
    """An engine on the test's own database: the one `loaded` or `published` made when the
    test takes either, else a migrated, empty one."""
    for loader in ("loaded", "published"):
        if loader in request.fixturenames:
            yield request.getfixturevalue(loader).api.engine
            return
    for made in _copy(databases):
        yield made.engine


@pytest.fixture
def sqlite_database(sqlite_databases: Databases) -> Iterator[str]:
    """The URL of a migrated, empty SQLite file of the test's own (for the command line)."""
    for made in _copy(sqlite_databases):
        yield made.url


@pytest.fixture
def store_url(store: Engine) -> str:
    """The URL of the test's own database (`store`)."""
    return store.url.render_as_string(hide_password=False)


@pytest.fixture
def loaded(request: pytest.FixtureRequest, databases: Databases) -> Iterator[Loaded]:
    """The real USAID Ecuador file and the three worked examples, pushed, in a database of
    the test's own; the API on it, a read key and USAID's publish key.

    A test marked `reads_only` is given one copy shared with the other such tests instead,
    and fails if it adds a row to any table."""
    if request.node.get_closest_marker("reads_only") is not None:
        shared: Loaded = request.getfixturevalue("_shared_load")
        before = _rows(shared.api.engine)
        yield shared
        grown = {table: (before[table], count)
                 for table, count in _rows(shared.api.engine).items() if count != before[table]}
        assert not grown, f"a test marked reads_only wrote (table: rows before, after): {grown}"
        return
    for made in _copy(databases, USAID_AND_EXAMPLES):
        yield _loaded(made)


@pytest.fixture
def few_usaid(databases: Databases) -> Iterator[Copy[FewKeys]]:
    """Four of USAID's real activities in Ecuador, the fourth deleted, in a database of the
    test's own; USAID's key that publishes and reads, and the ministry's admin key."""
    yield from _copy(databases, FEW_USAID)


@pytest.fixture(scope="session")
def _shared_load(databases: Databases) -> Iterator[Loaded]:
    for made in _copy(databases, USAID_AND_EXAMPLES):
        yield _loaded(made)


def _loaded(made: Copy[Keys]) -> Loaded:
    return Loaded(Api(made.engine), made.value.read, made.value.publish)


def _rows(engine: Engine) -> dict[str, int]:
    tables = SQLModel.metadata.sorted_tables
    counts = [select(func.count()).select_from(table).scalar_subquery() for table in tables]
    with engine.connect() as connection:
        found = connection.execute(select(*counts)).one()
    return {table.name: int(count) for table, count in zip(tables, found, strict=True)}


@pytest.fixture(scope="session")
def loans(databases: Databases) -> Iterator[tuple[Api, str]]:
    """Real files with loans (see `tests.support.loads.LOANS`), pushed once per run and
    shared: the API on them and a read key. Tests only read them."""
    for made in _copy(databases, LOANS):
        yield Api(made.engine), made.value


@pytest.fixture(scope="session")
def regional(databases: Databases) -> Iterator[Loaded]:
    """The USAID load with real files where Ecuador is one recipient among several, or
    none (see `tests.support.loads.REGIONAL`), pushed once per run and shared: tests only
    read it."""
    for made in _copy(databases, REGIONAL):
        yield _loaded(made)


@pytest.fixture(scope="session")
def usaid_activities() -> list[Activity]:
    """The USAID Ecuador file's activities as the reader builds them (parsed once a run)."""
    return list(loads.usaid_models())


@pytest.fixture
def usaid_models(usaid_activities: list[Activity]) -> list[Activity]:
    return list(usaid_activities)


@pytest.fixture
def published(databases: Databases) -> Iterator[Published]:
    """`loaded`, the implementing partner's re-publication of a USAID activity and UNDP's
    refused push of USAID's identifier, in a database of the test's own; the API, USAID's
    read key and the ministry's admin key."""
    for made in _copy(databases, REPUBLISHED):
        keys: PublishedKeys = made.value
        yield Published(Api(made.engine), keys.read, keys.admin)


@pytest.fixture(scope="session")
def evaluation(databases: Databases) -> Iterator[tuple[Api, str]]:
    """The duplicate report's labelled evaluation corpus (`tests.support.evaluation`),
    pushed once per run and shared: the API on it and a read key. Tests only read it."""
    for made in _copy(databases, EVALUATION):
        keys: Keys = made.value
        yield Api(made.engine), keys.read
