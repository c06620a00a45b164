"""Every push of a file is a record: who sent what, when, and what became of each activity."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.models.base import IdTable, parent
from service.models.types import JSONDocument, UtcDateTime, enum_column, utcnow


class PushStatus(StrEnum):
    """Where a push stands; `incomplete` marks one left by a process that died before
    pushes were jobs (see docs/jobs.md): a push now stays `running` until a worker ends it."""

    running = "running"
    completed = "completed"
    failed = "failed"
    incomplete = "incomplete"


class PushMode(StrEnum):
    """`default` rejects only offending activities; `atomic` applies all or nothing."""

    default = "default"
    atomic = "atomic"


class PushScope(StrEnum):
    """`dataset` declares the file to be the publisher's complete set of activities."""

    activities = "activities"
    dataset = "dataset"


class Outcome(StrEnum):
    """What a push did to one activity (each has a count column on `push`)."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    stale = "stale"
    rejected = "rejected"
    deleted = "deleted"


def _push_id() -> str:
    return str(uuid4())


class Push(SQLModel, table=True):
    """One file pushed by an organisation, with its fingerprint, progress and counts."""

    id: str = Field(default_factory=_push_id, primary_key=True, sa_type=sa.String(36))
    organisation_id: int = parent("organisation", ondelete="RESTRICT")
    api_key_id: int | None = parent("api_key", nullable=True, ondelete="SET NULL")
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: PushStatus = Field(
        default=PushStatus.running, sa_type=enum_column(PushStatus), index=True
    )
    mode: PushMode = Field(default=PushMode.default, sa_type=enum_column(PushMode))
    scope: PushScope = Field(default=PushScope.activities, sa_type=enum_column(PushScope))
    sha256: str | None = Field(default=None, sa_type=sa.String(64), index=True)
    # The id of the HTTP request that made the push (its X-Request-ID), for its log lines.
    request_id: str | None = Field(default=None, sa_type=sa.String(64), index=True)
    size_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    bytes_read: int = Field(default=0, sa_type=sa.BigInteger)
    activities_seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    deleted: int = 0
    findings: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )

    def count(self, outcome: Outcome, by: int = 1) -> None:
        """Add `by` to the count of `outcome`."""
        setattr(self, outcome.value, getattr(self, outcome.value) + by)


class PushActivity(IdTable, table=True):
    """The outcome of one activity of a push, in file order (`position` from 1)."""

    __tablename__ = "push_activity"
    __table_args__ = (sa.UniqueConstraint("push_id", "position"),)

    # Indexed by the unique constraint, whose first column it is.
    push_id: str = Field(foreign_key="push.id", ondelete="CASCADE", sa_type=sa.String(36))
    position: int
    iati_identifier: str | None = Field(default=None, index=True)
    outcome: Outcome = Field(sa_type=enum_column(Outcome), index=True)
    version: int | None = None
    findings: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
