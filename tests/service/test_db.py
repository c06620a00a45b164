"""Storage: migrations, exact money, UTC moments and the query tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, StatementError
from sqlmodel import Session, SQLModel, func, select
from typer.testing import CliRunner

from iati.elements.activity import Activity as IatiActivity
from iati.reader import read_activities, read_activity
from service import models as tables
from service.cli_db import db_app
from service.db import (
    WriterQueue,
    create_db_engine,
    current_revision,
    downgrade_database,
    head_revision,
    managed_by_models,
    new_session,
    session_scope,
    upgrade_database,
)
from service.projection import activity_columns, rows_for
from service.search import is_search_index
from tests.support.samples import sample

PROJECTED_SAMPLES = [
    "real/usaid-ec.xml",  # sectors and countries on transactions
    "real/worldbank-sv.xml",  # locations with coordinates, results with periods
    "real/dportal-iadb-p3.xml",  # a mix of both, several currencies
]


def read(relative: str, limit: int | None = None) -> list[IatiActivity]:
    records = read_activities(sample(relative))
    return [record.model for record in itertools.islice(records, limit)]


def store(session: Session, model: IatiActivity, organisation: tables.Organisation) -> int:
    """The activity and its query rows added to the session; its id."""
    row = tables.Activity(
        **activity_columns(model),
        organisation_id=organisation.id,
        content_hash="0" * 64,
        document=model.model_dump(mode="json"),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    rows = rows_for(model)
    rows.attach(row.id)
    session.add_all(rows.all())
    session.flush()
    return row.id


def new_organisation(session: Session) -> tables.Organisation:
    organisation = tables.Organisation(name=f"Test {uuid4().hex}", roles=["donor"])
    session.add(organisation)
    session.flush()
    return organisation


# Schema and migrations ----------------------------------------------------------------


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_migrations_apply_from_empty_and_back(database_url: str, engine: Engine) -> None:
    downgrade_database(database_url, "base")
    assert table_names(engine) == {"alembic_version"}
    assert current_revision(database_url) is None

    upgrade_database(database_url)
    upgrade_database(database_url)  # a second run finds nothing to do

    made = {name for name in table_names(engine) if not is_search_index(name)}
    assert made == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert current_revision(database_url) == head_revision()


def test_models_and_migrations_do_not_drift_apart(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": managed_by_models}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_every_foreign_key_is_the_first_column_of_an_index() -> None:
    unindexed = []
    for table in SQLModel.metadata.sorted_tables:
        leading = {index.columns[0].name for index in table.indexes}
        leading |= {
            constraint.columns[0].name
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
        }
        unindexed += [
            f"{table.name}.{key.parent.name}"
            for key in table.foreign_keys
            if key.parent.name not in leading
        ]
    assert unindexed == []


def test_the_db_command_upgrades_and_reports_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'iati-ec.db'}"
    runner = CliRunner()

    before = runner.invoke(db_app, ["current", "--url", url])
    upgraded = runner.invoke(db_app, ["upgrade", "--url", url])
    after = runner.invoke(db_app, ["current", "--url", url])

    assert before.exit_code == 1
    assert "at revision none" in before.output
    assert upgraded.exit_code == 0, upgraded.output
    assert after.exit_code == 0
    assert f"at revision {head_revision()} (latest)" in after.output


# SQLite settings ----------------------------------------------------------------------


def test_sqlite_file_is_created_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "iati-ec.db"
    engine = create_db_engine(f"sqlite:///{path}", busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 1234
        assert path.is_file()
    finally:
        engine.dispose()


def test_sqlite_writers_take_the_lock_as_they_begin_and_readers_go_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'iati-ec.db'}"
    upgrade_database(url)
    engine = create_db_engine(url, busy_timeout_ms=50)
    try:
        with new_session(engine, write=True) as first, new_session(engine, write=True) as second:
            first.connection()
            with pytest.raises(OperationalError, match="locked"):
                second.connection()
            with new_session(engine) as reader:
                assert reader.exec(select(func.count()).select_from(tables.Activity)).one() == 0
    finally:
        engine.dispose()


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_writers_queue_in_arrival_order_and_the_holder_may_nest() -> None:
    queue = WriterQueue()
    served: list[str] = []
    assert queue.acquire(timeout=1)
    assert queue.acquire(timeout=1)  # the holder again: no wait

    def writer(name: str) -> None:
        assert queue.acquire(timeout=10)
        served.append(name)
        queue.release()

    threads = []
    for position, name in enumerate(["b", "c", "d"], start=1):
        threads.append(threading.Thread(target=writer, args=(name,)))
        threads[-1].start()
        _wait_for(lambda position=position: queue.waiting == position)
    queue.release()
    assert queue.waiting == 3  # still held once
    queue.release()
    for thread in threads:
        thread.join()
    assert served == ["b", "c", "d"]
    assert queue.waiting == 0


def test_a_writer_that_waited_too_long_leaves_the_queue() -> None:
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(queue.acquire(timeout=0.05)))
    thread.start()
    thread.join()
    assert answers == [False]
    assert queue.waiting == 0
    queue.release()
    assert queue.acquire(timeout=0)  # free again, no ghost ahead


@pytest.mark.writes_without_clock
def test_sqlite_writers_that_begin_again_at_once_do_not_starve_each_other(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'iati-ec.db'}"
    upgrade_database(url)
    engine = create_db_engine(url, busy_timeout_ms=400)
    failures: list[BaseException] = []
    counted = Counter[str]()

    def writer(name: str) -> None:
        try:
            for _ in range(25):
                with session_scope(engine, write=True) as session:
                    session.add(tables.Organisation(name=f"{name} {uuid4().hex}", roles=[]))
                    session.flush()
                    time.sleep(0.01)  # the transaction's work
                counted[name] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert counted == dict.fromkeys("abcd", 25)
        with new_session(engine) as reader:
            assert reader.exec(select(func.count()).select_from(tables.Organisation)).one() == 100
    finally:
        engine.dispose()


@pytest.mark.writes_without_clock
def test_a_failed_sqlite_write_gives_up_its_turn(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'iati-ec.db'}"
    upgrade_database(url)
    engine = create_db_engine(url, busy_timeout_ms=2000)
    try:
        def failing_write() -> None:
            with session_scope(engine, write=True) as session:
                session.add(tables.Organisation(name="rolled back", roles=[]))
                session.flush()
                raise RuntimeError

        with pytest.raises(RuntimeError):
            failing_write()
        done: list[bool] = []

        def other_thread() -> None:
            with session_scope(engine, write=True) as session:
                session.add(tables.Organisation(name="kept", roles=[]))
            done.append(True)

        started = time.monotonic()
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert done == [True]
        assert time.monotonic() - started < 1  # no wait for a turn left behind
    finally:
        engine.dispose()


# Exact money and UTC moments ----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        (Decimal("12345678901234567890.0000000001"), "12345678901234567890.0000000001"),
        (Decimal("-12345678901234567890.0000000001"), "-12345678901234567890.0000000001"),
        (Decimal("-0.01"), "-0.01"),
        (Decimal("1.50"), "1.50"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0"), "0"),
    ],
)
def test_money_round_trips_exactly(session: Session, amount: Decimal, stored: str) -> None:
    model = read_activity(
        b'<iati-activities version="2.03"><iati-activity><iati-identifier>XM-1</iati-identifier>'
        b"</iati-activity></iati-activities>"
    )
    activity_id = store(session, model, new_organisation(session))
    row = tables.Transaction(activity_id=activity_id, position=1, amount=amount)
    session.add(row)
    session.flush()

    found = session.exec(
        select(tables.Transaction.amount).where(tables.Transaction.id == row.id)
    ).one()

    assert isinstance(found, Decimal)
    assert found == amount
    assert str(found) == stored


def test_money_must_be_a_finite_decimal(session: Session) -> None:
    session.add(tables.Budget(activity_id=None, position=1, amount=1.1))
    with pytest.raises(StatementError, match="must be a Decimal"):
        session.flush()
    session.rollback()
    session.add(tables.Budget(activity_id=None, position=1, amount=Decimal("NaN")))
    with pytest.raises(StatementError, match="not an amount"):
        session.flush()


def test_timestamps_come_back_aware_in_utc(session: Session) -> None:
    quito = timezone(timedelta(hours=-5))
    moment = datetime(2024, 12, 31, 21, 30, 15, 123456, tzinfo=quito)
    push = tables.Push(organisation_id=new_organisation(session).id, received_at=moment)
    session.add(push)
    session.flush()

    received, finished = session.exec(
        select(tables.Push.received_at, tables.Push.finished_at).where(tables.Push.id == push.id)
    ).one()

    assert received == moment
    assert received.tzinfo == UTC
    assert received.isoformat() == "2025-01-01T02:30:15.123456+00:00"
    assert finished is None


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(
        tables.Push(organisation_id=new_organisation(session).id, received_at=datetime(2024, 1, 1))
    )
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


# The query tables ---------------------------------------------------------------------


@dataclass
class Figures:
    """What a set of activities says, in figures that the query tables must reproduce."""

    money: Counter[tuple[str | None, str, str | None]] = field(default_factory=Counter)
    transaction_links: Counter[tuple[str | None, int, str, str | None]] = field(
        default_factory=Counter
    )
    places: Counter[tuple[str | None, Decimal | None, Decimal | None]] = field(
        default_factory=Counter
    )
    results: Counter[tuple[str | None, int, int]] = field(default_factory=Counter)


def model_figures(activities: list[IatiActivity]) -> Figures:
    figures = Figures()
    for activity in activities:
        rows = rows_for(activity)
        for kind, items in (("transaction", activity.transactions), ("budget", activity.budgets)):
            for item in items:
                if item.value is not None and item.value.amount is not None:
                    currency = item.value.currency or activity.default_currency
                    figures.money[(activity.identifier, kind, currency)] += item.value.amount
        for position, transaction in enumerate(activity.transactions, start=1):
            for sector in transaction.sectors:
                link = (activity.identifier, position, "sector", sector.code)
                figures.transaction_links[link] += 1
            if transaction.recipient_country is not None:
                code = transaction.recipient_country.code
                figures.transaction_links[(activity.identifier, position, "country", code)] += 1
        for place in rows.locations:
            figures.places[(activity.identifier, place.latitude, place.longitude)] += 1
        for result in activity.results:
            periods = sum(len(indicator.periods) for indicator in result.indicators)
            figures.results[(activity.identifier, len(result.indicators), periods)] += 1
    return figures


def stored_figures(session: Session) -> Figures:
    figures = Figures()
    activity, transaction = tables.Activity, tables.Transaction
    for money_table, kind in ((transaction, "transaction"), (tables.Budget, "budget")):
        for identifier, currency, amount in session.exec(
            select(activity.iati_identifier, money_table.currency, money_table.amount)
            .join(money_table, money_table.activity_id == activity.id)
            .where(money_table.amount.is_not(None))
        ):
            figures.money[(identifier, kind, currency)] += amount
    for link_table, kind in ((tables.Sector, "sector"), (tables.RecipientCountry, "country")):
        for identifier, position, code in session.exec(
            select(activity.iati_identifier, transaction.position, link_table.code)
            .join(transaction, link_table.transaction_id == transaction.id)
            .join(activity, transaction.activity_id == activity.id)
        ):
            figures.transaction_links[(identifier, position, kind, code)] += 1
    place = tables.Location
    for row in session.exec(
        select(activity.iati_identifier, place.latitude, place.longitude).join(
            place, place.activity_id == activity.id
        )
    ):
        figures.places[tuple(row)] += 1
    indicators = (
        select(tables.Indicator.result_id, func.count().label("n"))
        .group_by(tables.Indicator.result_id)
        .subquery()
    )
    periods = (
        select(tables.Indicator.result_id, func.count().label("n"))
        .join(tables.IndicatorPeriod, tables.IndicatorPeriod.indicator_id == tables.Indicator.id)
        .group_by(tables.Indicator.result_id)
        .subquery()
    )
    result = tables.Result
    for identifier, indicator_count, period_count in session.exec(
        select(
            activity.iati_identifier,
            func.coalesce(indicators.c.n, 0),
            func.coalesce(periods.c.n, 0),
        )
        .join(result, result.activity_id == activity.id)
        .outerjoin(indicators, indicators.c.result_id == result.id)
        .outerjoin(periods, periods.c.result_id == result.id)
    ):
        figures.results[(identifier, indicator_count, period_count)] += 1
    return figures


@pytest.mark.parametrize("relative", PROJECTED_SAMPLES)
def test_projected_rows_keep_every_amount_to_the_cent(relative: str) -> None:
    for activity in read(relative):
        rows = rows_for(activity)
        amounts = [t.value.amount for t in activity.transactions if t.value and t.value.amount]
        assert sum(row.amount or 0 for row in rows.transactions) == sum(amounts)
        assert [row.position for row in rows.transactions] == list(
            range(1, len(activity.transactions) + 1)
        )


def test_transaction_level_rows_hold_their_transaction() -> None:
    activity = read("real/usaid-ec.xml", limit=1)[0]
    rows = rows_for(activity)

    linked = [sector for sector in rows.sectors if sector.transaction is not None]

    assert len(linked) == sum(len(t.sectors) for t in activity.transactions) > 0
    for sector in linked:
        assert sector.transaction is not None
        model = activity.transactions[sector.transaction.position - 1]
        assert sector.code in {s.code for s in model.sectors}
    countries = [c for c in rows.recipient_countries if c.transaction is not None]
    assert all(c.transaction in rows.transactions for c in countries)


def test_transactions_take_the_activity_defaults_they_do_not_override() -> None:
    model = read_activity(
        b'<iati-activities version="2.03"><iati-activity default-currency="USD" humanitarian="1">'
        b"<iati-identifier>XM-1</iati-identifier>"
        b'<default-flow-type code="10"/><default-finance-type code="110"/>'
        b'<default-aid-type code="C01"/><default-tied-status code="5"/>'
        b'<transaction><transaction-type code="3"/><transaction-date iso-date="2024-01-02"/>'
        b'<value value-date="2024-01-02">-100.25</value></transaction>'
        b'<transaction humanitarian="0"><transaction-type code="3"/>'
        b'<transaction-date iso-date="2024-01-03"/>'
        b'<value currency="EUR" value-date="2024-01-03">7</value><flow-type code="21"/>'
        b'<aid-type code="B01"/></transaction>'
        b"</iati-activity></iati-activities>"
    )

    first, second = rows_for(model).transactions

    assert (first.currency, first.flow_type, first.finance_type, first.tied_status) == (
        "USD", "10", "110", "5",
    )
    assert (first.amount, first.aid_types, first.humanitarian) == (
        Decimal("-100.25"), [{"code": "C01"}], True,
    )
    assert (second.currency, second.flow_type, second.aid_types, second.humanitarian) == (
        "EUR", "21", [{"code": "B01"}], False,
    )


@pytest.mark.parametrize("relative", PROJECTED_SAMPLES)
def test_stored_query_tables_give_back_the_models_figures(
    session: Session, relative: str
) -> None:
    activities = read(relative, limit=60)
    organisation = new_organisation(session)
    for activity in activities:
        store(session, activity, organisation)
    session.expire_all()

    assert stored_figures(session) == model_figures(activities)


def test_deleting_an_activity_deletes_its_query_rows(session: Session) -> None:
    activity = read("real/dportal-iadb-p3.xml", limit=40)
    organisation = new_organisation(session)
    ids = [store(session, model, organisation) for model in activity]

    session.execute(sa.delete(tables.Activity).where(tables.Activity.id.in_(ids)))

    for table in tables.QUERY_TABLES:
        left = session.exec(
            select(func.count()).select_from(table).where(table.activity_id.in_(ids))
        ).one()
        assert left == 0, table.__tablename__


def test_a_rolled_back_transaction_leaves_nothing(engine: Engine) -> None:
    name = f"Rolled back {uuid4().hex}"

    def push_that_fails() -> None:
        with session_scope(engine, write=True) as session:
            organisation = tables.Organisation(name=name)
            session.add(organisation)
            session.flush()
            session.add(tables.OrganisationRef(organisation_id=organisation.id, ref=name))
            session.flush()
            raise RuntimeError("the push failed half-way")

    with pytest.raises(RuntimeError):
        push_that_fails()

    with session_scope(engine) as session:
        organisation = tables.Organisation
        assert session.exec(select(organisation).where(organisation.name == name)).all() == []
        ref = tables.OrganisationRef
        assert session.exec(select(ref).where(ref.ref == name)).all() == []


@pytest.mark.writes_without_clock
def test_a_committed_transaction_is_seen_by_the_next_session(engine: Engine) -> None:
    name = f"Committed {uuid4().hex}"
    with session_scope(engine, write=True) as session:
        session.add(tables.Organisation(name=name, roles=["implementing_partner"]))
    try:
        with session_scope(engine) as session:
            found = session.exec(
                select(tables.Organisation).where(tables.Organisation.name == name)
            ).one()
            assert found.roles == ["implementing_partner"]
            assert found.created_at.tzinfo == UTC
    finally:
        with session_scope(engine, write=True) as session:
            session.execute(sa.delete(tables.Organisation).where(tables.Organisation.name == name))


def test_locations_keep_their_coordinates_exactly() -> None:
    for activity in read("real/worldbank-sv.xml"):
        for place, row in zip(activity.locations, rows_for(activity).locations, strict=True):
            pos = place.point.pos.text if place.point and place.point.pos else None
            assert pos is not None
            assert [row.latitude, row.longitude] == [Decimal(part) for part in pos.split()]
