"""The ministry's decisions on pairs of activities reported as possible duplicates."""

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent
from service.models.types import UtcDateTime, enum_column


class DuplicateVerdict(StrEnum):
    """`confirmed`: the two are one activity (one side is then excluded from aggregates);
    `dismissed`: they are different activities."""

    confirmed = "confirmed"
    dismissed = "dismissed"


class DuplicateDecision(IdTable, table=True):
    """One decision on a pair of activity identifiers (`identifier_a` <= `identifier_b`).

    A decision is never changed: a later one on the same pair supersedes it
    (`superseded_at`), so the history stays. A confirmed pair names the side kept and the
    side `excluded` from aggregates; the same identifier reported by two organisations is
    the pair of that identifier with itself.
    """

    __tablename__ = "duplicate_decision"

    identifier_a: str = Field(index=True)
    identifier_b: str = Field(index=True)
    verdict: DuplicateVerdict = Field(sa_type=enum_column(DuplicateVerdict))
    keep: str | None = None
    excluded: str | None = Field(default=None, index=True)
    note: str | None = Field(default=None, sa_type=sa.Text)
    organisation_id: int = parent("organisation", ondelete="RESTRICT")
    api_key_id: int | None = parent("api_key", nullable=True, ondelete="SET NULL")
    decided_at: dt.datetime = created_at()
    superseded_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
