"""The job queue: work any worker process may claim (a push, a scheduled task), and the
files of push jobs, stored in the database so that a worker on any machine can read them.

A claimed job carries a lease (`lease_until`) that its worker renews while it works; a
job whose lease ran out was left by a worker that died, and the next worker takes it
over. See docs/jobs.md.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.models.types import JSONDocument, UtcDateTime, enum_column, utcnow


class JobStatus(StrEnum):
    """`queued` waits for a worker; `running` is leased to one; `done` and `failed` ended."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class JobKind(StrEnum):
    """What a job does."""

    push = "push"
    remap = "remap"  # budget views for a new mapping version
    sync = "sync"  # the sources file of the `sync_sources` setting


def _job_id() -> str:
    return str(uuid4())


class Job(SQLModel, table=True):
    """One unit of queued work: its kind, what it needs (`payload`), its lease and attempts."""

    __table_args__ = (sa.Index("ix_job_claimable", "status", "not_before"),)

    id: str = Field(default_factory=_job_id, primary_key=True, sa_type=sa.String(36))
    kind: JobKind = Field(sa_type=enum_column(JobKind))
    status: JobStatus = Field(default=JobStatus.queued, sa_type=enum_column(JobStatus))
    # The push a push job processes (its record says how far it got).
    push_id: str | None = Field(
        default=None, foreign_key="push.id", ondelete="CASCADE", sa_type=sa.String(36),
        index=True,
    )
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Not claimed before this moment (a retry waits a little).
    not_before: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    attempts: int = 0  # claims so far, the current one included
    worker: str | None = Field(default=None, sa_type=sa.String(120))
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = None


class JobFile(SQLModel, table=True):
    """One chunk of a push job's file (`seq` from 0), deleted when the job ends."""

    __tablename__ = "job_file"

    job_id: str = Field(
        foreign_key="job.id", ondelete="CASCADE", primary_key=True, sa_type=sa.String(36)
    )
    seq: int = Field(primary_key=True)
    content: bytes = Field(sa_type=sa.LargeBinary)
