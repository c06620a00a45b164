"""Loans in the query tables: each activity's crs-add loan terms and loan status, and its
lender's organisation type, for the debt view.

Filled for the live activities already stored from their stored documents: those that
give loan terms or a loan status, or an interest or principal repayment (TransactionType 5
or 6). The row is written here rather than by `service.projection`, so that this revision
keeps working when the projection grows.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXACT_DECIMAL = sa.Text().with_variant(postgresql.NUMERIC(), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ACTIVITY = sa.table(
    "activity", sa.column("id", sa.Integer()), sa.column("document", JSON_DOCUMENT),
    sa.column("deleted_at", sa.DateTime(timezone=True)),
)
TRANSACTION = sa.table(
    "transaction", sa.column("activity_id", sa.Integer()), sa.column("type", sa.String()),
)
MONEY = ("interest_received", "principal_outstanding", "principal_arrears", "interest_arrears")
DATES = ("commitment_date", "repayment_first_date", "repayment_final_date")


def upgrade() -> None:
    loan = op.create_table(
        "loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("lender_type", sa.String(), nullable=True),
        sa.Column("rate_1", EXACT_DECIMAL, nullable=True),
        sa.Column("rate_2", EXACT_DECIMAL, nullable=True),
        sa.Column("repayment_type", sa.String(), nullable=True),
        sa.Column("repayment_plan", sa.String(), nullable=True),
        *(sa.Column(name, sa.Date(), nullable=True) for name in DATES),
        sa.Column("status_year", sa.Integer(), nullable=True),
        sa.Column("status_currency", sa.String(), nullable=True),
        sa.Column("status_value_date", sa.Date(), nullable=True),
        *(sa.Column(name, EXACT_DECIMAL, nullable=True) for name in MONEY),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"], name=op.f("fk_loan_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan")),
    )
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_activity_id"), ["activity_id"], unique=False)
    _backfill(op.get_bind(), loan)


def downgrade() -> None:
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_activity_id"))
    op.drop_table("loan")


def _backfill(connection: sa.Connection, loan: sa.Table) -> None:
    repaying = set(connection.execute(
        sa.select(TRANSACTION.c.activity_id).where(TRANSACTION.c.type.in_(("5", "6")))
    ).scalars())
    found = connection.execute(sa.select(
        ACTIVITY.c.id, ACTIVITY.c.document["crs_add"], ACTIVITY.c.document["reporting_org"],
        ACTIVITY.c.document["default_currency"],
    ).where(ACTIVITY.c.deleted_at.is_(None)))
    rows = []
    for activity_id, crs, reporting, currency in found:
        terms, status = (crs or {}).get("loan_terms"), (crs or {}).get("loan_status")
        if terms is None and status is None and activity_id not in repaying:
            continue
        rows.append({"activity_id": activity_id, "lender_type": (reporting or {}).get("type"),
                     **_terms(terms or {}), **_status(status, currency)})
    if rows and connection.dialect.name != "postgresql":
        rows = [{key: _text(value) for key, value in row.items()} for row in rows]
    if rows:
        connection.execute(sa.insert(loan), rows)


def _terms(terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "rate_1": _decimal(terms.get("rate_1")), "rate_2": _decimal(terms.get("rate_2")),
        "repayment_type": (terms.get("repayment_type") or {}).get("code"),
        "repayment_plan": (terms.get("repayment_plan") or {}).get("code"),
        **{name: _day((terms.get(name) or {}).get("iso_date")) for name in DATES},
    }


def _status(status: dict[str, Any] | None, currency: str | None) -> dict[str, Any]:
    given = status or {}
    year = _decimal(given.get("year"))
    whole = year is not None and year == year.to_integral_value()
    return {
        "status_year": int(year) if whole and year is not None else None,
        "status_currency": (given.get("currency") or currency) if status else None,
        "status_value_date": _day(given.get("value_date")),
        **{name: _decimal((given.get(name) or {}).get("amount")) for name in MONEY},
    }


def _decimal(text: Any) -> Decimal | None:
    try:
        value = None if text is None else Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _text(value: Any) -> Any:
    """A decimal as SQLite holds money: its fixed-point spelling, no negative zero."""
    if not isinstance(value, Decimal):
        return value
    return format(value.copy_abs() if value.is_zero() else value, "f")


def _day(text: Any) -> date | None:
    return None if not text else date.fromisoformat(str(text)[:10])
