"""The read model's clock: one row per write that changes what derived data is made from.

`seq` is the clock. It is given by the database (never reused: SQLite's AUTOINCREMENT,
PostgreSQL's identity), and `service.readmodel.clock.record` makes it follow commit
order, so the last row's `seq` says how far the store has come.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.models.base import created_at
from service.models.types import JSONDocument

# SQLite gives AUTOINCREMENT only to an INTEGER PRIMARY KEY (64-bit there anyway).
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ReadEvent(SQLModel, table=True):
    """One write that changes derived data: its kind, the activities it touched, when."""

    __tablename__ = "read_event"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(
        default=None, sa_column=sa.Column(SEQ, sa.Identity(), primary_key=True))
    kind: str = Field(sa_type=sa.String(32))
    # The ids of the activities whose stored data changed; null when the write reaches
    # data of no single activity (a decision, a registry edit) or of too many to name.
    activities: list[int] | None = Field(default=None, sa_type=JSONDocument)
    at: dt.datetime = created_at()
    details: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
