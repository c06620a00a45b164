"""Scheduled jobs on the push queue: a sync of the sources file every period, and a
remap whenever the mapping version changes (new tables shipped, an override changed).

Idle workers call `schedule`: it adds the jobs that are due and not already queued,
under a lock (PostgreSQL's advisory lock; SQLite's write lock) so that two workers
never add the same one. Both jobs are safe to run again: a sync downloads only what
changed, and a remap computes only the views that are missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from service.db import session_scope
from service.models import Job, JobKind, JobStatus, utcnow
from service.services.jobs.lease import Lease
from service.services.jobs.queue import Claimed, JobPolicy, finish, new_job, release

log = logging.getLogger(__name__)
_LOCK = 7_236_911  # the advisory lock key of scheduling (any constant of the project's own)


@dataclass(frozen=True, slots=True)
class Schedule:
    """What to schedule: the sources file to sync (None: no sync) and how often."""

    sync_sources: Path | None = None
    sync_period: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls) -> Schedule:
        from service.config import get_settings

        settings = get_settings()
        return cls(settings.sync_sources, timedelta(hours=settings.sync_period_hours))


def current_mapping_version(engine: Engine) -> str:
    """The mapping version in effect: the shipped tables with the overrides in force."""
    from mappings.crosswalks import overridden
    from mappings.engine import mapping_version
    from service.services.mappings import active_overrides

    with engine.connect() as connection:
        overrides = active_overrides(connection)
    with overridden(overrides):
        return mapping_version()


def schedule(engine: Engine, *, plan: Schedule, policy: JobPolicy) -> list[JobKind]:
    """Add the scheduled jobs that are due and not queued yet; their kinds."""
    version = current_mapping_version(engine)
    added: list[JobKind] = []
    with session_scope(engine, write=True) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        last_remap = _latest(session, JobKind.remap)
        if last_remap is None or last_remap.payload.get("mapping_version") != version:
            new_job(session, kind=JobKind.remap, payload={"mapping_version": version},
                    policy=policy)
            added.append(JobKind.remap)
        if plan.sync_sources is not None:
            last_sync = _latest(session, JobKind.sync)
            if last_sync is None or last_sync.status not in (JobStatus.queued, JobStatus.running):
                job = new_job(session, kind=JobKind.sync,
                              payload={"sources": str(plan.sync_sources)}, policy=policy)
                if last_sync is not None:
                    job.not_before = max(utcnow(), last_sync.created_at + plan.sync_period)
                added.append(JobKind.sync)
    return added


def _latest(session: Session, kind: JobKind) -> Job | None:
    return session.exec(
        select(Job).where(Job.kind == kind).order_by(col(Job.created_at).desc()).limit(1)
    ).first()


def run_scheduled_job(engine: Engine, claimed: Claimed, *, policy: JobPolicy) -> None:
    """Run a claimed remap or sync job; an error gives it back to the queue (its attempts
    are counted, as a push's)."""
    if claimed.attempts > policy.max_attempts:
        finish(engine, claimed.id, worker=claimed.worker,
               error=f"attempts spent: {claimed.last_error or 'its worker stopped'}")
        return
    with Lease(engine, claimed.id, worker=claimed.worker, policy=policy):
        try:
            if claimed.kind is JobKind.remap:
                summary = _remap(engine)
            else:
                summary = _sync(engine, Path(claimed.payload["sources"]))
        except Exception as error:
            described = f"{type(error).__name__}: {str(error)[:300]}"
            log.warning("job %s (%s) failed: %s", claimed.id, claimed.kind, described,
                        exc_info=True)
            release(engine, claimed.id, worker=claimed.worker, error=described, policy=policy)
            return
    log.info("job %s (%s): %s", claimed.id, claimed.kind, summary)
    finish(engine, claimed.id, worker=claimed.worker)


def _remap(engine: Engine) -> str:
    from service.services.budget.views import remap
    from service.services.ledger import convert_transactions

    done = remap(engine)
    converted = convert_transactions(engine)
    return (f"mapping version {done.mapping_version}: {done.computed} views computed, "
            f"{converted} transactions converted")


def _sync(engine: Engine, sources: Path) -> str:
    from service.config import get_settings
    from service.services.sync import (
        FetchPolicy,
        Syncer,
        make_plan,
        new_client,
        read_sources,
    )

    settings = get_settings()
    policy = FetchPolicy.from_settings(settings)
    grace = settings.sync_gone_grace_days
    with new_client(policy, user_agent="iati-ec-sync") as client:
        plan = make_plan(engine, read_sources(sources), client=client, policy=policy,
                         only=None, directory=settings.spool_directory)
        syncer = Syncer(engine, client, policy, directory=settings.spool_directory,
                        gone_grace=None if grace is None else timedelta(days=grace))
        report = syncer.run(plan)
    failed = sum(1 for source in report.sources if source.error)
    return f"{len(report.sources)} sources synced, {failed} failed"
