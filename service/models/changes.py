"""The change log: every created, updated, restored and deleted activity, in commit order.

`seq` is the change feed's cursor. It is drawn from the one row of `change_counter` by
the transaction that makes the change, as its last step: that row stays locked until the
transaction ends, so a later `seq` is never committed before an earlier one and a client
that follows the feed by `seq` misses nothing and sees nothing twice.
"""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.models.base import IdTable, created_at, parent


class ChangeCounter(SQLModel, table=True):
    """The last `seq` given (one row, id 1)."""

    __tablename__ = "change_counter"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_type=sa.BigInteger)


class ActivityChange(IdTable, table=True):
    """One change of an activity, or of an agreement the ministry records
    (`agreement_id`, kinds `agreement.created`, …: no activity), as the change feed lists
    it."""

    __tablename__ = "activity_change"

    seq: int = Field(sa_type=sa.BigInteger, unique=True)
    activity_id: int | None = parent("activity", nullable=True)
    iati_identifier: str | None = None
    agreement_id: int | None = None  # kept when the agreement is deleted
    reporting_org_ref: str | None = Field(default=None, index=True)
    version: int
    kind: str = Field(sa_type=sa.String(32))
    push_id: str | None = Field(default=None, sa_type=sa.String(36))
    changed_at: dt.datetime = created_at()
