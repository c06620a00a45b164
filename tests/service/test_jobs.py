"""The job queue on both databases, in-process: claims and leases, take-over from where a
push stopped, attempts, unreadable files, errors that pass, and queued pushes of the same
activity. (Killed processes are in test_push_crash.)"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select

from service.models import (
    Activity,
    ActivityVersion,
    Job,
    JobFile,
    JobKind,
    JobStatus,
    Outcome,
    Push,
    PushActivity,
    PushStatus,
)
from service.services.jobs import (
    Claimed,
    JobPolicy,
    PushDeferredError,
    PushWork,
    Worker,
    claim,
    enqueue_push,
    finish,
    renew,
    run_push_job,
)
from service.services.jobs.scheduled import Schedule, current_mapping_version, schedule
from service.services.push import Publisher, PushOptions, ReceivedFile, push_document
from tests.support.cli import iati_ec
from tests.support.publishing import (
    USAID,
    USAID_EC,
    add_publisher,
    identifier_of,
    push,
    set_first_transaction,
    stored_activity,
    variant,
)

SHORT = JobPolicy(lease_seconds=0.2, heartbeat_seconds=0.05, max_attempts=3, retry_seconds=0,
                  poll_seconds=0.05)
WORK = PushWork(max_bytes=1 << 31)


@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


def _queued(store: Engine, usaid: Publisher, path: Path, **options: object) -> str:
    queued = enqueue_push(store, publisher=usaid, received=ReceivedFile.of_path(path),
                          options=PushOptions(**options), policy=SHORT)  # type: ignore[arg-type]
    assert isinstance(queued, str)
    return queued


def _job(store: Engine, push_id: str) -> Job:
    with Session(store) as session:
        return session.exec(select(Job).where(Job.push_id == push_id)).one()


def _chunks(store: Engine) -> int:
    with Session(store) as session:
        return int(session.exec(select(func.count()).select_from(JobFile)).one())


def _push(store: Engine, push_id: str) -> Push:
    with Session(store) as session:
        found = session.get(Push, push_id)
    assert found is not None
    return found


def test_a_queued_push_is_stored_with_its_file_and_done_by_a_worker(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    file = variant(USAID_EC, tmp_path / "five.xml", keep=5)
    push_id = _queued(store, usaid, file)
    assert _push(store, push_id).status is PushStatus.running
    with Session(store) as session:
        stored = b"".join(session.exec(select(JobFile.content).order_by(col(JobFile.seq))).all())
    assert stored == file.read_bytes()
    spool = tmp_path / "spool"
    spool.mkdir()
    worker = Worker(store, policy=SHORT, work=PushWork(max_bytes=1 << 31, spool_directory=spool))
    assert worker.run_until_idle() == 1
    record = _push(store, push_id)
    assert (record.status, record.created) == (PushStatus.completed, 5)
    job = _job(store, push_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.done, 1, None)
    assert _chunks(store) == 0
    assert list(spool.iterdir()) == []


def test_two_workers_never_claim_one_job_and_a_lost_lease_changes_nothing(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push_id = _queued(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    claims: list[Claimed | None] = []
    start = threading.Barrier(4)

    def take(name: str) -> None:
        start.wait(timeout=30)
        claims.append(claim(store, worker=name, policy=SHORT))

    threads = [threading.Thread(target=take, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    taken = [found for found in claims if found is not None]
    assert len(claims) == 4
    assert len(taken) == 1
    first = taken[0]
    assert first.push_id == push_id
    assert claim(store, worker="other", policy=SHORT) is None  # leased
    time.sleep(SHORT.lease_seconds + 0.05)
    second = claim(store, worker="other", policy=SHORT)  # the lease ran out: taken over
    assert second is not None
    assert (second.id, second.attempts) == (first.id, 2)
    assert not renew(store, first.id, worker=first.worker, policy=SHORT)
    assert not finish(store, first.id, worker=first.worker)
    assert _job(store, push_id).status is JobStatus.running
    assert finish(store, second.id, worker="other")
    assert _job(store, push_id).status is JobStatus.done


class _Died(BaseException):
    """Stands for the death of a worker: nothing of the worker's own runs after it."""


def test_a_push_taken_over_is_finished_from_where_it_stopped(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    count = 40  # two windows of activities: 32, then 8
    push(store, usaid, variant(USAID_EC, tmp_path / "original.xml", keep=count))
    newer = variant(USAID_EC, tmp_path / "newer.xml", keep=count, **{
        f"a{n}": set_first_transaction(f"{n}.00", "2027-01-01T00:00:00Z")
        for n in range(1, count + 1)
    })
    push_id = _queued(store, usaid, newer)
    first = claim(store, worker="dies", policy=SHORT)
    assert first is not None

    def die(_bytes_read: int) -> None:
        raise _Died

    with pytest.raises(_Died):  # after the first window, as a kill would
        run_push_job(store, first, work=WORK, policy=SHORT, progress=die)
    stored_first = _outcomes(store, push_id)
    assert len(stored_first) == 32
    assert set(stored_first.values()) == {(Outcome.updated, 2)}
    assert _push(store, push_id).status is PushStatus.running
    assert _job(store, push_id).status is JobStatus.running

    time.sleep(SHORT.lease_seconds + 0.05)
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1
    record = _push(store, push_id)
    assert (record.status, record.updated, record.activities_seen) == (
        PushStatus.completed, count, count)
    assert _outcomes(store, push_id) == {
        identifier_of(USAID_EC, n): (Outcome.updated, 2) for n in range(1, count + 1)
    }
    with Session(store) as session:
        versions = session.exec(
            select(ActivityVersion.activity_id, func.count()).group_by(
                col(ActivityVersion.activity_id))
        ).all()
        amounts = {activity.iati_identifier: activity.document["transactions"][0]["value"]
                   ["amount"] for activity in session.exec(select(Activity)).all()}
    assert sorted(n for _, n in versions) == [2] * count  # none stored twice
    assert amounts == {identifier_of(USAID_EC, n): f"{n}.00" for n in range(1, count + 1)}
    job = _job(store, push_id)
    assert (job.status, job.attempts) == (JobStatus.done, 2)
    assert _chunks(store) == 0


def _outcomes(store: Engine, push_id: str) -> dict[str | None, tuple[Outcome, int | None]]:
    with Session(store) as session:
        rows = session.exec(select(PushActivity).where(PushActivity.push_id == push_id)).all()
    return {row.iati_identifier: (row.outcome, row.version) for row in rows}


def test_a_stopping_worker_gives_its_job_back_at_once_without_counting_the_attempt(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    count = 40
    push_id = _queued(store, usaid, variant(USAID_EC, tmp_path / "forty.xml", keep=count))
    claimed = claim(store, worker="stopping", policy=SHORT)
    assert claimed is not None
    stopping = threading.Event()
    # Asked to stop (SIGTERM, a deployment) after the first window: it stops at the next.
    run_push_job(store, claimed, work=WORK, policy=SHORT, stopping=stopping,
                 progress=lambda _bytes_read: stopping.set())
    job = _job(store, push_id)
    assert (job.status, job.attempts, job.worker, job.last_error) == (
        JobStatus.queued, 0, None, None)
    assert _push(store, push_id).status is PushStatus.running
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1  # no wait
    record = _push(store, push_id)
    assert (record.status, record.created) == (PushStatus.completed, count)
    assert _job(store, push_id).attempts == 1


def test_a_job_that_keeps_dying_is_failed_after_its_attempts_with_its_error(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push_id = _queued(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    for attempt in range(1, SHORT.max_attempts + 1):
        claimed = claim(store, worker=f"dies-{attempt}", policy=SHORT)  # … and dies
        assert claimed is not None
        assert claimed.attempts == attempt
        time.sleep(SHORT.lease_seconds + 0.05)
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1
    record = _push(store, push_id)
    assert record.status is PushStatus.failed
    assert record.created == 0
    [finding] = record.findings
    assert finding["code"] == "push.internal-error"
    assert "a worker that stopped while processing it, 3 times" in finding["message"]
    job = _job(store, push_id)
    assert job.status is JobStatus.failed
    assert job.last_error is not None
    assert "attempts spent" in job.last_error
    assert _chunks(store) == 0


def test_a_queued_file_that_cannot_be_read_fails_its_push_saying_why(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<iati-activities version='2.03'><iati-activity>")
    push_id = _queued(store, usaid, broken)
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1
    with Session(store) as session:
        document = push_document(session, push_id)
    assert document.status is PushStatus.failed
    assert document.findings[0].code == "input.not-xml"
    job = _job(store, push_id)
    assert job.status is JobStatus.failed
    assert job.last_error is not None
    assert job.last_error.startswith("input.not-xml")
    assert _chunks(store) == 0


def test_an_error_that_may_pass_gives_the_job_back_and_it_is_finished_later(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push_id = _queued(store, usaid, variant(USAID_EC, tmp_path / "two.xml", keep=2))
    # The worker's spool folder is missing (as a full or unmounted disk): writing the
    # job's file there fails with an OSError.
    missing = PushWork(max_bytes=1 << 31, spool_directory=tmp_path / "missing")
    claimed = claim(store, worker="unlucky", policy=SHORT)
    assert claimed is not None
    with pytest.raises(PushDeferredError) as deferred:
        run_push_job(store, claimed, work=missing, policy=SHORT)
    assert deferred.value.extra["push_id"] == push_id
    job = _job(store, push_id)
    assert (job.status, job.attempts) == (JobStatus.queued, 1)
    assert job.last_error is not None
    assert "FileNotFoundError" in job.last_error
    assert _push(store, push_id).status is PushStatus.running
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1
    record = _push(store, push_id)
    assert (record.status, record.created) == (PushStatus.completed, 2)
    assert _job(store, push_id).status is JobStatus.done


def test_a_lost_database_connection_gives_the_job_back_and_it_is_finished_later(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("the server ends the connections: PostgreSQL")
    count = 40  # two windows: the connections are ended after the first
    push_id = _queued(store, usaid, variant(USAID_EC, tmp_path / "forty.xml", keep=count))
    claimed = claim(store, worker="cut-off", policy=SHORT)
    assert claimed is not None
    ended: list[int] = []

    def cut_off(_bytes_read: int) -> None:
        if not ended:  # every other connection to the test's database, the push's too
            with store.connect() as connection:
                ended.extend(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )).scalars())

    with pytest.raises(PushDeferredError):
        run_push_job(store, claimed, work=WORK, policy=SHORT, progress=cut_off)
    assert ended
    job = _job(store, push_id)
    assert (job.status, job.attempts) == (JobStatus.queued, 1)
    assert job.last_error is not None
    assert "OperationalError" in job.last_error
    record = _push(store, push_id)
    assert (record.status, record.created) == (PushStatus.running, 32)
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1
    record = _push(store, push_id)
    assert (record.status, record.created, record.activities_seen) == (
        PushStatus.completed, count, count)
    with Session(store) as session:
        versions = session.exec(select(func.count()).select_from(ActivityVersion)).one()
    assert versions == count
    assert _chunks(store) == 0


def test_queued_pushes_of_the_same_activity_keep_the_newest(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    newest = variant(USAID_EC, tmp_path / "newest.xml", keep=1,
                     a1=set_first_transaction("9.00", "2026-03-01T00:00:00Z"))
    older = variant(USAID_EC, tmp_path / "older.xml", keep=1,
                    a1=set_first_transaction("1.00", "2026-02-01T00:00:00Z"))
    first, second = _queued(store, usaid, newest), _queued(store, usaid, older)
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 2
    assert _outcomes(store, first) == {identifier_of(USAID_EC, 1): (Outcome.created, 1)}
    assert _outcomes(store, second) == {identifier_of(USAID_EC, 1): (Outcome.stale, 1)}
    stored = stored_activity(store, identifier_of(USAID_EC, 1))
    assert stored.document["transactions"][0]["value"]["amount"] == "9.00"
    assert stored.version == 1


def test_scheduled_jobs_are_added_once_when_due_and_run_by_workers(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push(store, usaid, variant(USAID_EC, tmp_path / "two.xml", keep=2))
    plan = Schedule(sync_sources=tmp_path / "missing-sources.toml",
                    sync_period=timedelta(hours=6))
    assert schedule(store, plan=plan, policy=SHORT) == [JobKind.remap, JobKind.sync]
    assert schedule(store, plan=plan, policy=SHORT) == []  # the same version; a sync queued
    # The remap is done; the sync fails on its missing sources file until its attempts
    # are spent (one claim more, which gives up).
    assert Worker(store, policy=SHORT, work=WORK).run_until_idle() == 1 + 4
    with Session(store) as session:
        jobs = {job.kind: job for job in session.exec(select(Job))}
    assert (jobs[JobKind.remap].status, jobs[JobKind.remap].payload) == (
        JobStatus.done, {"mapping_version": current_mapping_version(store)})
    failed = jobs[JobKind.sync]
    assert (failed.status, failed.attempts) == (JobStatus.failed, 4)
    assert failed.last_error is not None
    assert failed.last_error.startswith("attempts spent: SourcesFileError")
    # The next sync is due a period after the last one started.
    assert schedule(store, plan=plan, policy=SHORT) == [JobKind.sync]
    with Session(store) as session:
        queued = session.exec(select(Job).where(Job.status == JobStatus.queued)).one()
    assert queued.not_before == failed.created_at + timedelta(hours=6)


def test_the_worker_command_runs_one_worker_only_on_sqlite(tmp_path: Path) -> None:
    done = iati_ec("worker", "--concurrency", "2", database=f"sqlite:///{tmp_path / 'one.db'}")
    assert done.returncode == 2
    assert "SQLite takes one writer at a time" in done.stderr
