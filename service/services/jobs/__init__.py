"""The job queue: durable pushes and the workers that process them (see docs/jobs.md)."""

from service.services.jobs.files import fetch_file, store_file, sweep
from service.services.jobs.lease import Lease, LeaseLostError, StopRequestedError
from service.services.jobs.pushes import (
    PushDeferredError,
    PushWork,
    enqueue_push,
    push_now,
    run_push_job,
)
from service.services.jobs.queue import (
    Claimed,
    JobPolicy,
    claim,
    finish,
    job_status,
    release,
    renew,
    worker_name,
)
from service.services.jobs.worker import Worker, run_workers

__all__ = [
    "Claimed",
    "JobPolicy",
    "Lease",
    "LeaseLostError",
    "PushDeferredError",
    "PushWork",
    "StopRequestedError",
    "Worker",
    "claim",
    "enqueue_push",
    "fetch_file",
    "finish",
    "job_status",
    "push_now",
    "release",
    "renew",
    "run_push_job",
    "run_workers",
    "store_file",
    "sweep",
    "worker_name",
]
