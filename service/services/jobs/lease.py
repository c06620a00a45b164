"""A worker's lease of its job, renewed by a heartbeat thread while the job runs."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from sqlalchemy import Engine

from service.services.jobs.queue import JobPolicy, renew

log = logging.getLogger(__name__)


class LeaseLostError(Exception):
    """Another worker took the job over (this one's heartbeats did not reach the store)."""


class StopRequestedError(Exception):
    """The worker is stopping: the job goes back to the queue where it stands."""


class Lease:
    """Renews `worker`'s lease of `job_id` every heartbeat while the block runs; `check`
    raises once the lease is lost or the worker is asked to stop."""

    def __init__(
        self, engine: Engine, job_id: str, *, worker: str, policy: JobPolicy,
        stopping: threading.Event | None = None,
    ) -> None:
        self.engine, self.job_id, self.worker, self.policy = engine, job_id, worker, policy
        self.lost = threading.Event()
        self.stopping = stopping or threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def check(self) -> None:
        """Raise if the job must stop here (see the class)."""
        if self.lost.is_set():
            raise LeaseLostError(f"job {self.job_id} was taken over by another worker")
        if self.stopping.is_set():
            raise StopRequestedError(f"job {self.job_id} stopped: its worker is stopping")

    def _beat(self) -> None:
        while not self._done.wait(self.policy.heartbeat_seconds):
            try:
                held = renew(self.engine, self.job_id, worker=self.worker, policy=self.policy)
            except Exception:  # a database that does not answer now may answer next time
                log.warning("job %s: the heartbeat failed", self.job_id, exc_info=True)
                continue
            if not held:
                self.lost.set()
                return
