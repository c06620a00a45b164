"""What every table shares: constraint names, integer keys, creation and update times."""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import Field, SQLModel

from service.models.types import UtcDateTime, utcnow

OnDelete = Literal["CASCADE", "SET NULL", "RESTRICT"]

# Deterministic constraint names, so that migrations can name what they alter (SQLite's
# batch mode needs names) and both databases get the same ones.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def created_at() -> Any:
    """A timestamp column set when the row is made."""
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


def updated_at() -> Any:
    """A timestamp column set when the row is made and on every ORM update."""
    return Field(
        default_factory=utcnow,
        sa_type=UtcDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


def parent(table: str, *, nullable: bool = False, ondelete: OnDelete = "CASCADE") -> Any:
    """An indexed foreign key to `table`.id; child rows go with their parent by default."""
    return Field(
        default=None, foreign_key=f"{table}.id", ondelete=ondelete, nullable=nullable, index=True
    )


# The largest value of an `IdTable` key (a 32-bit INTEGER on PostgreSQL) and of a 64-bit
# BIGINT column (SQLite's INTEGER holds the same): no number beyond them reaches a query.
LARGEST_ID = 2**31 - 1
LARGEST_BIGINT = 2**63 - 1


class IdTable(SQLModel):
    """Rows with an integer surrogate key given by the database."""

    id: int | None = Field(default=None, primary_key=True)
