"""Column types that keep money exact and moments in UTC on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

# JSON documents: JSONB on PostgreSQL (indexable, compact), SQLite's JSON text elsewhere.
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current moment, timezone-aware in UTC (the default of every timestamp column)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive moment is taken to be UTC already.

    IATI's `xs:dateTime` may omit the time zone. For comparisons (is a push older than
    what is stored?) such a moment is read as UTC, the only reading that needs no guess
    about the publisher's location.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def canonical_decimal(amount: Decimal) -> str:
    """The fixed-point spelling of a finite decimal, keeping its scale (``1.50`` stays).

    No exponent (``1E+3`` is ``1000``) and no negative zero, so that equal amounts stored
    on SQLite read back as PostgreSQL's NUMERIC gives them.
    """
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount of money")
    if amount.is_zero():
        amount = amount.copy_abs()
    return format(amount, "f")


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """A `Decimal` stored without rounding: NUMERIC on PostgreSQL, canonical TEXT elsewhere.

    SQLAlchemy's `Numeric` on SQLite passes values through binary floats (and SQLite has
    no decimal type), which loses cents on large amounts. On SQLite the amount is kept as
    its canonical decimal string: exact, but SQL arithmetic and comparison on it are
    textual there, so sums and ranges are computed in Python on that database.
    """

    impl = sa.Text
    cache_ok = True

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.NUMERIC(asdecimal=True))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
        text = canonical_decimal(value)
        return Decimal(text) if dialect.name == "postgresql" else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        return Decimal(str(value))


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware moment, always read back in UTC.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the moment is stored
    as naive UTC and UTC is attached again when read. Naive values are refused on write:
    the caller decides what they mean (see `as_utc`).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give a time zone")
        moment = value.astimezone(UTC)
        # A plain datetime: subclasses (IsoDateTime) carry text the drivers need not see.
        moment = datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute,
            moment.second, moment.microsecond, UTC,
        )
        return moment if dialect.name == "postgresql" else moment.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


def enum_column(kind: type[StrEnum]) -> sa.Enum:
    """A `StrEnum` stored as its value in a VARCHAR: new members need no migration."""
    return sa.Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
