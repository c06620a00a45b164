"""Push jobs: a pushed file and its push record stored with a job, then processed by a
worker — the pushing process itself, or any other once queued or left by a dead one.

A worker that takes a push over reads the push's recorded outcomes first and skips the
activities they name: each activity is stored with its outcome in one transaction, so
those are exactly the activities already done.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Engine
from sqlmodel import select

from service.db import session_scope
from service.errors import DomainError
from service.models import JobKind, Outcome, PushActivity, PushMode, PushScope
from service.services.jobs.files import fetch_file, spooled_path, store_file
from service.services.jobs.lease import Lease, LeaseLostError, StopRequestedError
from service.services.jobs.queue import Claimed, JobPolicy, finish, new_job, release
from service.services.push import Publisher, PushOptions, ReceivedFile
from service.services.push.processing import Progress
from service.services.push.run import fail_push, new_push, process_push

log = logging.getLogger(__name__)


class PushDeferredError(DomainError):
    """The push stopped on an error that may pass (a lost connection, a full disk): its
    job is queued to be tried again, from where it stopped."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "push.deferred"
    title: ClassVar[str] = "The push will be finished later"


@dataclass(frozen=True, slots=True)
class PushWork:
    """What processing a push job needs besides the job: the limits of the settings."""

    max_bytes: int
    spool_directory: Path | None = None
    today: date | None = None


def enqueue_push(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile, options: PushOptions,
    policy: JobPolicy, worker: str | None = None,
) -> Claimed | str:
    """Store a new push of `received` with its job and file, in one transaction: the
    push's id if queued; the claim if `worker` claims it at once."""
    payload = {
        "organisation_id": publisher.organisation_id, "refs": sorted(publisher.refs),
        "api_key_id": publisher.api_key_id, "mode": options.mode.value,
        "scope": options.scope.value, "only": options.only, "keep": sorted(options.keep),
    }
    push = new_push(publisher=publisher, received=received, options=options)
    with session_scope(engine, write=True) as session:
        session.add(push)
        session.flush()
        job = new_job(session, kind=JobKind.push, payload=payload, policy=policy,
                      push_id=push.id, worker=worker)
        store_file(session, job.id, received.path)
    if worker is None:
        return push.id
    return Claimed(job.id, JobKind.push, push.id, payload, 1, worker, None)


def push_now(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile, options: PushOptions,
    work: PushWork, policy: JobPolicy, worker: str, progress: Progress | None = None,
) -> str:
    """Push `received` in this process, as a job claimed at once (a worker finishes it if
    this process dies); the push's id. Raises `PushDeferredError` if an error stopped it."""
    claimed = enqueue_push(engine, publisher=publisher, received=received, options=options,
                           policy=policy, worker=worker)
    assert isinstance(claimed, Claimed)
    run_push_job(engine, claimed, work=work, policy=policy, received=received,
                 progress=progress)
    assert claimed.push_id is not None
    return claimed.push_id


def run_push_job(
    engine: Engine, claimed: Claimed, *, work: PushWork, policy: JobPolicy,
    received: ReceivedFile | None = None, progress: Progress | None = None,
    stopping: threading.Event | None = None,
) -> None:
    """Process the claimed push job to its end, resuming where the push stands; its file
    is read from the job unless this process has it (`received`).

    The job ends done, or failed if the file is unusable (`DomainError`, raised again) or
    its attempts are spent; an error that may pass gives it back to the queue
    (`PushDeferredError`); a lost lease leaves it to the worker that took it.
    """
    assert claimed.push_id is not None
    push_id = claimed.push_id
    if claimed.attempts > policy.max_attempts:
        error = claimed.last_error or "a worker that stopped while processing it"
        fail_push(engine, push_id, error=f"{error}, {policy.max_attempts} times")
        finish(engine, claimed.id, worker=claimed.worker, error=f"attempts spent: {error}")
        return
    with Lease(engine, claimed.id, worker=claimed.worker, policy=policy,
               stopping=stopping) as lease:

        def advance(bytes_read: int) -> None:
            lease.check()
            if progress is not None:
                progress(bytes_read)

        fetched = received is None
        try:
            if received is None:
                target = spooled_path(work.spool_directory, claimed.id)
                received = fetch_file(engine, claimed.id, target)
            publisher, options = _decoded(claimed.payload)
            done, deleted = _recorded(engine, push_id)
            process_push(
                engine, push_id, publisher=publisher, received=received, options=options,
                max_bytes=work.max_bytes, today=work.today, progress=advance, done=done,
                deleted=deleted, retried=True,
            )
        except (LeaseLostError, StopRequestedError) as stopped:
            if isinstance(stopped, StopRequestedError):
                release(engine, claimed.id, worker=claimed.worker, error=str(stopped),
                        policy=policy, retry_at_once=True)
            log.info("push %s: %s", push_id, stopped)
            return
        except DomainError as error:
            finish(engine, claimed.id, worker=claimed.worker, error=f"{error.code}: {error.detail}")
            raise
        except Exception as error:
            described = f"an error ({type(error).__name__}: {str(error)[:300]})"
            log.warning("push %s stopped on %s; it will be tried again", push_id, described,
                        exc_info=True)
            release(engine, claimed.id, worker=claimed.worker, error=described, policy=policy)
            raise PushDeferredError(
                f"The push stopped on {described}; it is queued to be finished from where it"
                f" stopped: follow it at /api/v1/pushes/{push_id}.", push_id=push_id,
            ) from error
        finally:
            if fetched and received is not None:
                received.discard()
        finish(engine, claimed.id, worker=claimed.worker)


def _decoded(payload: dict[str, Any]) -> tuple[Publisher, PushOptions]:
    publisher = Publisher(
        organisation_id=payload["organisation_id"], refs=frozenset(payload["refs"]),
        api_key_id=payload.get("api_key_id"),
    )
    options = PushOptions(
        mode=PushMode(payload["mode"]), scope=PushScope(payload["scope"]),
        only=payload.get("only"), keep=frozenset(payload.get("keep") or ()),
    )
    return publisher, options


def _recorded(engine: Engine, push_id: str) -> tuple[frozenset[int], int]:
    """The positions of the push's recorded outcomes, and how many are deletions."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(PushActivity.position, PushActivity.outcome)
            .where(PushActivity.push_id == push_id)
        ).all()
    return frozenset(position for position, _ in rows), sum(
        1 for _, outcome in rows if outcome is Outcome.deleted
    )
