"""The transaction and budget lists: the activity list's filters, plus their own.

A transaction is listed when its activity matches the activity filters — with sectors,
recipient countries and regions taken from the transaction itself where it gives them,
else from its activity — and it matches the transaction filters (type, date, provider and
receiver organisation). Budgets are the activity's own, so only the activity filters
and the budget's own (type, status, period) apply.

Each row carries its amount as given (an exact decimal, in its currency) and in US
dollars at the European Central Bank's reference rate of its value date (else its
date), as the budget views convert; `value_usd` is null where no rate can be had.
Pages are keyset pages (`next_cursor`), stable under concurrent writes, in stored order or
sorted by date (transaction date; budget period start) or by activity identifier.

Each transaction also keeps its amount in US cents, worked out when it is stored, with
the rate series used (`usd_rates`), for sums over many; `convert_transactions` converts
again those stored under another series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, Select, Table, and_, bindparam, or_, select
from sqlalchemy.engine import Connection

from mappings.rates import in_cents, in_usd, series_version
from service.db import session_scope
from service.models import Budget, Transaction
from service.readmodel.clock import record
from service.services.keyset import Order
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions

TRANSACTION: Table = Transaction.__table__  # type: ignore[attr-defined]
BUDGET: Table = Budget.__table__  # type: ignore[attr-defined]
Progress = Callable[[int, int], None]  # transactions done, transactions to do


class TransactionSort(StrEnum):
    stored = "stored"
    transaction_date = "transaction_date"
    transaction_date_desc = "-transaction_date"
    iati_identifier = "iati_identifier"


class BudgetSort(StrEnum):
    stored = "stored"
    period_start = "period_start"
    period_start_desc = "-period_start"
    iati_identifier = "iati_identifier"


@dataclass(frozen=True)
class TransactionFilter:
    """What a listed transaction must match besides its activity (empty: anything)."""

    transaction_type: Sequence[str] = ()
    date_from: date | None = None
    date_to: date | None = None
    provider_org: Sequence[str] = ()
    receiver_org: Sequence[str] = ()


@dataclass(frozen=True)
class BudgetFilter:
    """What a listed budget must match besides its activity; the period bounds select
    the budgets whose period overlaps them."""

    budget_type: Sequence[str] = ()
    budget_status: Sequence[str] = ()
    period_from: date | None = None
    period_to: date | None = None


class TransactionRow(BaseModel):
    iati_identifier: str
    reporting_org: str | None
    position: int
    ref: str | None
    transaction_type: str | None
    transaction_date: date | None
    value: Decimal | None
    currency: str | None
    value_date: date | None
    value_usd: Decimal | None
    provider_org: str | None
    provider_org_name: str | None
    provider_activity_id: str | None
    receiver_org: str | None
    receiver_org_name: str | None
    receiver_activity_id: str | None
    flow_type: str | None
    finance_type: str | None
    tied_status: str | None
    disbursement_channel: str | None
    aid_type: str | None
    humanitarian: bool | None
    description: str | None


class BudgetRow(BaseModel):
    iati_identifier: str
    reporting_org: str | None
    position: int
    budget_type: str | None
    budget_status: str | None
    period_start: date | None
    period_end: date | None
    value: Decimal | None
    currency: str | None
    value_date: date | None
    value_usd: Decimal | None


TRANSACTION_COLUMNS = tuple(TransactionRow.model_fields)
BUDGET_COLUMNS = tuple(BudgetRow.model_fields)


class TransactionPage(BaseModel):
    transactions: list[TransactionRow]
    next_cursor: str | None


class BudgetPage(BaseModel):
    budgets: list[BudgetRow]
    next_cursor: str | None


def transaction_order(sort: TransactionSort) -> Order:
    tx = TRANSACTION
    if sort is TransactionSort.iati_identifier:
        return Order("transactions", sort.value, tx.c.id, ACTIVITY.c.iati_identifier)
    if sort is TransactionSort.stored:
        return Order("transactions", sort.value, tx.c.id)
    return Order("transactions", sort.value, tx.c.id, tx.c.date,
                 descending=sort is TransactionSort.transaction_date_desc, dated=True)


def budget_order(sort: BudgetSort) -> Order:
    if sort is BudgetSort.iati_identifier:
        return Order("budgets", sort.value, BUDGET.c.id, ACTIVITY.c.iati_identifier)
    if sort is BudgetSort.stored:
        return Order("budgets", sort.value, BUDGET.c.id)
    return Order("budgets", sort.value, BUDGET.c.id, BUDGET.c.period_start,
                 descending=sort is BudgetSort.period_start_desc, dated=True)


def transactions_statement(
    chosen: ActivityFilter, own: TransactionFilter, *, dialect: str,
    sort: TransactionSort = TransactionSort.stored, cursor: str | None = None,
) -> Select[Any]:
    """The matching transactions (with their activity's identifier), in `sort` order."""
    tx = TRANSACTION
    order = transaction_order(sort)
    conditions: list[ColumnElement[bool]] = [
        ACTIVITY.c.deleted_at.is_(None),
        *activity_conditions(chosen, dialect=dialect, transaction=tx),
    ]
    if own.transaction_type:
        conditions.append(tx.c.type.in_(own.transaction_type))
    if own.date_from is not None:
        conditions.append(tx.c.date >= own.date_from)
    if own.date_to is not None:
        conditions.append(tx.c.date <= own.date_to)
    if own.provider_org:
        conditions.append(tx.c.provider_ref.in_(own.provider_org))
    if own.receiver_org:
        conditions.append(tx.c.receiver_ref.in_(own.receiver_org))
    return _ordered(
        select(tx, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref)
        .join_from(tx, ACTIVITY, ACTIVITY.c.id == tx.c.activity_id), conditions, order, cursor,
    )


def budgets_statement(
    chosen: ActivityFilter, own: BudgetFilter, *, dialect: str,
    sort: BudgetSort = BudgetSort.stored, cursor: str | None = None,
) -> Select[Any]:
    """The matching budgets (with their activity's identifier), in `sort` order."""
    conditions: list[ColumnElement[bool]] = [
        ACTIVITY.c.deleted_at.is_(None), *activity_conditions(chosen, dialect=dialect),
    ]
    if own.budget_type:
        conditions.append(BUDGET.c.type.in_(own.budget_type))
    if own.budget_status:
        conditions.append(BUDGET.c.status.in_(own.budget_status))
    if own.period_from is not None:
        conditions.append(or_(BUDGET.c.period_end.is_(None),
                              BUDGET.c.period_end >= own.period_from))
    if own.period_to is not None:
        conditions.append(and_(BUDGET.c.period_start <= own.period_to))
    return _ordered(
        select(BUDGET, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref)
        .join_from(BUDGET, ACTIVITY, ACTIVITY.c.id == BUDGET.c.activity_id),
        conditions, budget_order(sort), cursor,
    )


def _ordered(
    statement: Select[Any], conditions: list[ColumnElement[bool]], order: Order,
    cursor: str | None,
) -> Select[Any]:
    if cursor is not None:
        conditions.append(order.after(cursor))
    if order.value is not None:
        statement = statement.add_columns(order.value)
    return statement.where(*conditions).order_by(*order.order_by())


def list_transactions(
    connection: Connection, chosen: ActivityFilter, own: TransactionFilter, *,
    sort: TransactionSort = TransactionSort.stored, limit: int = 100, cursor: str | None = None,
) -> TransactionPage:
    """One page of the matching transactions."""
    statement = transactions_statement(
        chosen, own, dialect=connection.dialect.name, sort=sort, cursor=cursor,
    )
    rows = connection.execute(statement.limit(limit + 1)).mappings().all()
    following = transaction_order(sort).cursor(rows[limit - 1]) if len(rows) > limit else None
    return TransactionPage(
        transactions=[transaction_row(row) for row in rows[:limit]], next_cursor=following,
    )


def list_budgets(
    connection: Connection, chosen: ActivityFilter, own: BudgetFilter, *,
    sort: BudgetSort = BudgetSort.stored, limit: int = 100, cursor: str | None = None,
) -> BudgetPage:
    """One page of the matching budgets."""
    statement = budgets_statement(
        chosen, own, dialect=connection.dialect.name, sort=sort, cursor=cursor,
    )
    rows = connection.execute(statement.limit(limit + 1)).mappings().all()
    following = budget_order(sort).cursor(rows[limit - 1]) if len(rows) > limit else None
    return BudgetPage(budgets=[budget_row(row) for row in rows[:limit]], next_cursor=following)


def transaction_row(row: Any) -> TransactionRow:
    aid_types = row["aid_types"] or []
    return TransactionRow(
        iati_identifier=row["iati_identifier"], reporting_org=row["reporting_org_ref"],
        position=row["position"], ref=row["ref"], transaction_type=row["type"],
        transaction_date=row["date"], value=row["amount"], currency=row["currency"],
        value_date=row["value_date"],
        value_usd=in_usd(row["amount"], row["currency"], row["value_date"] or row["date"]),
        provider_org=row["provider_ref"], provider_org_name=row["provider_name"],
        provider_activity_id=row["provider_activity_id"], receiver_org=row["receiver_ref"],
        receiver_org_name=row["receiver_name"],
        receiver_activity_id=row["receiver_activity_id"], flow_type=row["flow_type"],
        finance_type=row["finance_type"], tied_status=row["tied_status"],
        disbursement_channel=row["disbursement_channel"],
        aid_type=";".join(str(a.get("code")) for a in aid_types if a.get("code")) or None,
        humanitarian=row["humanitarian"], description=row["description"],
    )


def budget_row(row: Any) -> BudgetRow:
    return BudgetRow(
        iati_identifier=row["iati_identifier"], reporting_org=row["reporting_org_ref"],
        position=row["position"], budget_type=row["type"], budget_status=row["status"],
        period_start=row["period_start"], period_end=row["period_end"], value=row["amount"],
        currency=row["currency"], value_date=row["value_date"],
        value_usd=in_usd(row["amount"], row["currency"], row["value_date"] or row["period_start"]),
    )


def unconverted(rates: str) -> ColumnElement[bool]:
    """The transaction's `usd_cents` were not worked out under the rate series `rates`."""
    return or_(TRANSACTION.c.usd_rates.is_(None), TRANSACTION.c.usd_rates != rates)


def convert_transactions(
    engine: Engine, *, progress: Progress | None = None, batch: int = 5000,
) -> int:
    """Convert to US cents, under the rate series shipped, every transaction stored under
    another series (or before transactions kept their cents); how many were converted.

    Each batch is one transaction; stopped half-way, the next run takes up the rest.
    """
    rates = series_version()
    todo = select(TRANSACTION.c.id).where(unconverted(rates)).order_by(TRANSACTION.c.id)
    with engine.connect() as connection:
        ids = list(connection.execute(todo).scalars())
    update = (
        TRANSACTION.update().where(TRANSACTION.c.id == bindparam("row"))
        .values(usd_cents=bindparam("cents"), usd_rates=rates)
    )
    for start in range(0, len(ids), batch):
        chosen = ids[start:start + batch]
        with session_scope(engine, write=True) as session:
            connection = session.connection()
            rows = connection.execute(
                select(TRANSACTION.c.id, TRANSACTION.c.amount, TRANSACTION.c.currency,
                       TRANSACTION.c.value_date, TRANSACTION.c.date, TRANSACTION.c.activity_id)
                .where(TRANSACTION.c.id.in_(chosen))
            ).all()
            connection.execute(update, [
                {"row": row.id,
                 "cents": in_cents(row.amount, row.currency, row.value_date or row.date)}
                for row in rows
            ])
            record(connection, "conversion", activities={row.activity_id for row in rows},
                   details={"rates": rates})
        if progress is not None:
            progress(min(start + batch, len(ids)), len(ids))
    return len(ids)
