"""The job queue in the database: jobs enqueued, claimed under a lease, renewed, ended.

A claim takes the oldest claimable job — queued and due, or running under a lease that
ran out (its worker died) — with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
that workers never wait for one another nor take the same job; on SQLite the claim's
transaction holds the database's write lock, which does the same. Every change a worker
makes to its job names the worker: one that lost its lease changes nothing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, Table, and_, delete, or_, update
from sqlmodel import Session, col, select

from service.db import session_scope
from service.models import Job, JobFile, JobKind, JobStatus, utcnow

_JOBS: Table = Job.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """Leases, heartbeats, attempts and waits of the queue (see docs/jobs.md)."""

    lease_seconds: float = 60.0
    heartbeat_seconds: float = 15.0
    max_attempts: int = 3
    retry_seconds: float = 10.0
    poll_seconds: float = 1.0

    @classmethod
    def from_settings(cls) -> JobPolicy:
        from service.config import get_settings

        settings = get_settings()
        return cls(
            lease_seconds=settings.job_lease_seconds,
            heartbeat_seconds=settings.job_heartbeat_seconds,
            max_attempts=settings.job_max_attempts,
            retry_seconds=settings.job_retry_seconds,
            poll_seconds=settings.job_poll_seconds,
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job as its worker claimed it (`attempts` counts this claim)."""

    id: str
    kind: JobKind
    push_id: str | None
    payload: dict[str, Any]
    attempts: int
    worker: str
    last_error: str | None


def worker_name() -> str:
    """A name for a worker, unique among the processes of every machine."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


def new_job(
    session: Session, *, kind: JobKind, payload: dict[str, Any], policy: JobPolicy,
    push_id: str | None = None, worker: str | None = None,
) -> Job:
    """A job added in the caller's transaction: queued, or already claimed by `worker`."""
    job = Job(kind=kind, payload=payload, push_id=push_id)
    if worker is not None:
        now = utcnow()
        job.status, job.worker, job.attempts = JobStatus.running, worker, 1
        job.heartbeat_at, job.lease_until = now, now + timedelta(seconds=policy.lease_seconds)
    session.add(job)
    session.flush()
    return job


def claim(engine: Engine, *, worker: str, policy: JobPolicy) -> Claimed | None:
    """The oldest claimable job, now leased to `worker`; None when there is none."""
    now = utcnow()
    claimable = or_(
        and_(col(Job.status) == JobStatus.queued, col(Job.not_before) <= now),
        and_(col(Job.status) == JobStatus.running, col(Job.lease_until) < now),
    )
    with session_scope(engine, write=True) as session:
        job = session.exec(
            select(Job).where(claimable).order_by(col(Job.created_at)).limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return None
        job.status, job.worker, job.attempts = JobStatus.running, worker, job.attempts + 1
        job.heartbeat_at, job.lease_until = now, now + timedelta(seconds=policy.lease_seconds)
        session.add(job)
        return Claimed(job.id, job.kind, job.push_id, dict(job.payload), job.attempts, worker,
                       job.last_error)


def renew(engine: Engine, job_id: str, *, worker: str, policy: JobPolicy) -> bool:
    """Extend `worker`'s lease of the job; False if the job is no longer its."""
    now = utcnow()
    with session_scope(engine, write=True) as session:
        result = session.execute(
            update(_JOBS).where(*_held(job_id, worker))
            .values(heartbeat_at=now, lease_until=now + timedelta(seconds=policy.lease_seconds))
        )
        return bool(getattr(result, "rowcount", 0))


def finish(engine: Engine, job_id: str, *, worker: str, error: str | None = None) -> bool:
    """End `worker`'s job, done (or failed with `error`), and delete its file; False if
    the job was no longer its (nothing changed)."""
    with session_scope(engine, write=True) as session:
        return _end(session, job_id, worker=worker, error=error)


def _end(session: Session, job_id: str, *, worker: str, error: str | None) -> bool:
    status = JobStatus.done if error is None else JobStatus.failed
    result = session.execute(
        update(_JOBS).where(*_held(job_id, worker)).values(
            status=status, finished_at=utcnow(), lease_until=None, last_error=error,
        )
    )
    if not getattr(result, "rowcount", 0):
        return False
    session.execute(delete(JobFile).where(col(JobFile.job_id) == job_id))
    return True


def release(
    engine: Engine, job_id: str, *, worker: str, error: str, policy: JobPolicy,
    retry_at_once: bool = False,
) -> None:
    """Give `worker`'s job back to the queue after `error`, to be tried again after the
    policy's wait (the next claim gives up if it was the last attempt); or, with
    `retry_at_once`, at once and without counting this attempt (its worker is stopping)."""
    values: dict[Any, Any] = {
        "status": JobStatus.queued, "worker": None, "lease_until": None,
        "not_before": utcnow() + timedelta(seconds=policy.retry_seconds), "last_error": error,
    }
    if retry_at_once:
        values.update(not_before=utcnow(), attempts=_JOBS.c.attempts - 1)
        del values["last_error"]
    with session_scope(engine, write=True) as session:
        session.execute(update(_JOBS).where(*_held(job_id, worker)).values(values))


def job_status(engine: Engine, job_id: str) -> JobStatus | None:
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        return None if job is None else job.status


def _held(job_id: str, worker: str) -> tuple[Any, ...]:
    return (_JOBS.c.id == job_id, _JOBS.c.worker == worker,
            _JOBS.c.status == JobStatus.running)
