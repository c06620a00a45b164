"""Alembic environment: migrates the database given by ``-x url=``, by the caller, or by settings.

The caller (`service.db.upgrade_database`) passes the URL as ``config.attributes["url"]``;
the `alembic` command takes ``-x url=…``; otherwise the service's `DATABASE_URL` is used.
All migrations of one run are a single transaction, on SQLite too, and concurrent runs
(several workers starting at once) wait for each other.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import service.models  # noqa: F401 - registers every table on SQLModel.metadata
from service.db import create_db_engine, for_writing, managed_by_models

config = context.config
target_metadata = SQLModel.metadata
# Any constant: the key of the PostgreSQL advisory lock that serialises migration runs.
MIGRATION_LOCK = 0x1A71EC

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    given = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
    )
    if given:
        return str(given)
    from service.config import get_settings

    return get_settings().database_url


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # SQLite's batch mode copies tables: foreign keys must not act (cascade) meanwhile.
    engine = create_db_engine(database_url(), poolclass=NullPool, foreign_keys=False)
    try:
        with for_writing(engine).connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                transactional_ddl=True,
                compare_type=True,
                include_name=managed_by_models,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
