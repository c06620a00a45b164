"""Workers: claim jobs from the queue and process them, one at a time each; idle, they
add the scheduled jobs that are due (see `scheduled`).

`iati-ec worker --concurrency N` runs N worker processes; `iati-ec serve` runs one in a
thread (the `embedded_worker` setting). Stopping a worker gives its job back to the
queue where it stands; a worker that dies leaves its lease to run out.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from types import FrameType

from sqlalchemy import Engine

from service.errors import DomainError
from service.models import JobKind
from service.services.jobs.files import sweep
from service.services.jobs.pushes import PushDeferredError, PushWork, run_push_job
from service.services.jobs.queue import JobPolicy, claim, worker_name
from service.services.jobs.scheduled import Schedule, run_scheduled_job, schedule

log = logging.getLogger(__name__)
SWEEP_SECONDS = 300.0  # how often an idle worker deletes files dead workers left


class Worker:
    """One worker: `run` until stopped, or `run_until_idle` (tests, one-off runs)."""

    def __init__(
        self, engine: Engine, *, policy: JobPolicy, work: PushWork,
        plan: Schedule | None = None, schedule_seconds: float = 60.0,
    ) -> None:
        self.engine, self.policy, self.work = engine, policy, work
        self.plan, self.schedule_seconds = plan, schedule_seconds  # None: schedules nothing
        self.name = worker_name()
        self.stopping = threading.Event()
        self._swept = self._scheduled = -float("inf")

    def run_once(self) -> bool:
        """Claim one job and process it; whether there was one."""
        claimed = claim(self.engine, worker=self.name, policy=self.policy)
        if claimed is None:
            return False
        log.info("job %s (%s, attempt %d) claimed by %s", claimed.id, claimed.kind,
                 claimed.attempts, self.name)
        if claimed.kind is JobKind.push:
            try:
                run_push_job(self.engine, claimed, work=self.work, policy=self.policy,
                             stopping=self.stopping)
            except PushDeferredError:
                pass  # logged, and queued again
            except DomainError as error:  # recorded in the push (an unreadable file …)
                log.info("job %s ended with %s: %s", claimed.id, error.code, error.detail)
        else:
            run_scheduled_job(self.engine, claimed, policy=self.policy)
        return True

    def run_until_idle(self) -> int:
        """Process jobs until none is claimable; how many were."""
        count = 0
        while not self.stopping.is_set() and self.run_once():
            count += 1
        return count

    def run(self) -> None:
        """Process jobs until `stopping` is set, looking for one every poll when idle."""
        while not self.stopping.is_set():
            try:
                self._schedule()
                if self.run_once():
                    continue
                if time.monotonic() - self._swept > SWEEP_SECONDS:
                    self._swept = time.monotonic()
                    sweep(self.engine, self.work.spool_directory)
            except Exception:  # the database may be back at the next poll
                log.exception("worker %s: looking for a job failed", self.name)
            self.stopping.wait(self.policy.poll_seconds)

    def _schedule(self) -> None:
        """Add the scheduled jobs that are due, every `schedule_seconds` at most."""
        if self.plan is None or time.monotonic() - self._scheduled < self.schedule_seconds:
            return
        self._scheduled = time.monotonic()
        for kind in schedule(self.engine, plan=self.plan, policy=self.policy):
            log.info("worker %s scheduled a %s job", self.name, kind)

    def start(self) -> threading.Thread:
        """Run in a thread of this process (the service's embedded worker)."""
        thread = threading.Thread(target=self.run, name="job-worker", daemon=True)
        thread.start()
        return thread


def configured_worker(engine: Engine) -> Worker:
    """A worker with the settings' policy and limits."""
    from service.config import get_settings

    settings = get_settings()
    return Worker(
        engine, policy=JobPolicy.from_settings(),
        work=PushWork(max_bytes=settings.max_upload_bytes,
                      spool_directory=settings.spool_directory),
        plan=Schedule.from_settings(), schedule_seconds=settings.schedule_check_seconds,
    )


def _work_in_process() -> None:
    """A worker process: until SIGTERM or SIGINT, which let the current job stop where it
    stands."""
    from service.db import get_engine

    worker = configured_worker(get_engine())

    def stop(_signal: int, _frame: FrameType | None) -> None:
        worker.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run()


def run_workers(concurrency: int) -> None:
    """Run `concurrency` worker processes until this one is stopped (SIGTERM, SIGINT):
    one is this process itself; the others are started afresh ("spawn"), each with its
    own connections."""
    context = multiprocessing.get_context("spawn")
    others = [context.Process(target=_work_in_process, name=f"iati-ec-worker-{n}")
              for n in range(1, concurrency)]
    for process in others:
        process.start()
    try:
        _work_in_process()
    finally:
        for process in others:
            if process.is_alive() and process.pid is not None:
                process.terminate()
        for process in others:
            process.join()
