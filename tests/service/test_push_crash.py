"""Nothing lost: pushes killed mid-way, and parallel clients pushing the same activities.

Real processes on the session's SQLite file and PostgreSQL database. `iati-ec import` is
killed with SIGKILL while it updates a real file's activities, caught inside an
activity's transaction (on PostgreSQL held at its last statement by a lock on the push
row; on SQLite stopped while it holds the write lock). Every activity must then be whole
at its old or its new version and the push `running`, its job leased to the dead
process; `iati-ec serve` started afterwards (its embedded worker) takes the job over
once the lease runs out and finishes it, skipping the activities already stored. Then
`iati-ec serve` is killed while its worker processes a queued push, and `iati-ec worker`
finishes that. Then several HTTP clients push different versions of the same activities
to `iati-ec serve` at once: the latest last-updated-datetime must win and the versions
stay consecutive.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from lxml import etree
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from service.db import create_db_engine, for_writing, session_scope
from service.models import (
    Activity,
    ActivityVersion,
    Job,
    JobFile,
    JobStatus,
    KeyScope,
    Outcome,
    Push,
    PushActivity,
    PushStatus,
    Transaction,
)
from service.services.keys import create_key
from service.services.push import Publisher
from tests.support.publishing import (
    PARSER,
    USAID,
    USAID_EC,
    add_publisher,
    push,
    set_first_transaction,
    stored_activity,
    variant,
)
from tests.support.samples import sample

LATER = "2026-02-01T00:00:00Z"
KILL_AFTER = 40  # activities updated before the kill: well inside the file's 250
TIMEOUT = 120.0  # seconds any one process may take before the test gives up on it
# Short leases, so that a dead process's job is taken over within seconds.
LEASE = {"IATI_EC_JOB_LEASE_SECONDS": "2", "IATI_EC_JOB_HEARTBEAT_SECONDS": "0.4",
         "IATI_EC_JOB_POLL_SECONDS": "0.1"}
WORKING = {"IATI_EC_EMBEDDED_WORKER": "true"}

T = TypeVar("T")

# Each activity's transaction amounts, in file order, by its identifier.
Amounts = dict[str, list[Decimal | None]]



@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


@pytest.fixture
def environment(store_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of the `iati-ec` processes: the test database as DATABASE_URL,
    short job leases, and a spool folder of the test's own."""
    spool = tmp_path / "spool"
    spool.mkdir()
    return {**os.environ, "DATABASE_URL": store_url, "IATI_EC_SPOOL_DIRECTORY": str(spool),
            **LEASE}


def test_a_push_killed_mid_way_is_finished_by_the_next_worker(
    store: Engine, usaid: Publisher, environment: dict[str, str], tmp_path: Path
) -> None:
    if store.dialect.name == "sqlite" and not hasattr(os, "waitid"):
        pytest.skip("catching the importer inside a SQLite transaction needs os.waitid")
    original = sample(USAID_EC)
    first = push(store, usaid, original)
    assert first.counts.created == 250
    newer = _bumped(original, tmp_path / "usaid-ec-newer.xml")
    expected = {1: _amounts(original), 2: _amounts(newer)}

    killed = _kill_mid_way(environment, tmp_path, newer, store, after=first.id)
    versions = _assert_whole(store, expected)
    moved = {identifier for identifier, version in versions.items() if version == 2}
    assert KILL_AFTER <= len(moved) < 250, "the kill did not land in the middle of the push"
    assert _progress(store, killed) == (PushStatus.running, len(moved))
    assert _outcomes(store, killed) == dict.fromkeys(moved, (Outcome.updated, 2))
    assert _job_of(store, killed) == (JobStatus.running, 1)

    # A restart: its worker takes the job over once the dead process's lease runs out.
    with _serving({**environment, **WORKING}, tmp_path):
        _until(lambda: _ended(store, killed), "the push left by the killed import never ended")
    assert set(_assert_whole(store, expected).values()) == {2}
    assert _progress(store, killed) == (PushStatus.completed, 250)
    assert _outcomes(store, killed) == dict.fromkeys(expected[2], (Outcome.updated, 2))
    assert _job_of(store, killed) == (JobStatus.done, 2)
    _assert_nothing_spooled(store, tmp_path)


def test_a_push_whose_service_is_killed_is_finished_by_a_worker(
    store: Engine, usaid: Publisher, environment: dict[str, str], tmp_path: Path
) -> None:
    count = 120
    file = variant(USAID_EC, tmp_path / "usaid-ec-120.xml", keep=count)
    with session_scope(store, write=True) as session:
        secret = create_key(session, organisation_ref=USAID, scopes=[KeyScope.publish])[1]
    queued = {**environment, **WORKING, "IATI_EC_PUSH_BACKGROUND_BYTES": "1000"}
    service = _start(queued, tmp_path, "serve", "--port", str(_free_port()))
    try:
        base = _base_of(service)
        accepted = httpx.post(f"{base}/api/v1/activities", content=file.read_bytes(),
                              headers={"Authorization": f"Bearer {secret}"}, timeout=TIMEOUT)
        assert accepted.status_code == 202, accepted.text
        push_id = accepted.json()["id"]

        def stored_some() -> bool | None:
            assert service.poll() is None, "the service ended before it could be killed"
            with Session(store) as session:
                record = session.get(Push, push_id, populate_existing=True)
            assert record is not None
            return True if record.created >= KILL_AFTER else None

        _until(stored_some, f"the service's worker did not store {KILL_AFTER} activities")
        os.kill(service.pid, signal.SIGKILL)
        assert service.wait(timeout=TIMEOUT) == -signal.SIGKILL
    finally:
        _stop(service)
    with Session(store) as session:
        record = session.get(Push, push_id)
    assert record is not None
    assert record.status is PushStatus.running
    assert KILL_AFTER <= record.created < count, "the kill did not land mid-way"

    # On PostgreSQL two worker processes, of which one takes the job over.
    workers = "2" if store.dialect.name == "postgresql" else "1"
    worker = _start(queued, tmp_path, "worker", "--concurrency", workers)
    try:
        _until(lambda: _ended(store, push_id), "the worker did not finish the push")
    finally:
        _stop(worker)
    with Session(store) as session:
        record = session.get(Push, push_id)
        activities = session.exec(select(Activity)).all()
    assert record is not None
    assert (record.status, record.created, record.activities_seen) == (
        PushStatus.completed, count, count)
    assert {a.version for a in activities} == {1}
    assert len(activities) == count
    assert set(_outcomes(store, push_id).values()) == {(Outcome.created, 1)}
    _assert_rows_match_documents(store)
    assert _job_of(store, push_id) == (JobStatus.done, 2)
    _assert_nothing_spooled(store, tmp_path)


def test_parallel_http_clients_never_lose_an_update(
    store: Engine, usaid: Publisher, environment: dict[str, str], tmp_path: Path
) -> None:
    clients, kept = 6, 20
    baseline = variant(USAID_EC, tmp_path / "baseline.xml", keep=kept)
    first = push(store, usaid, baseline)
    assert first.counts.created == kept
    with session_scope(store, write=True) as session:
        secret = create_key(session, organisation_ref=USAID, scopes=[KeyScope.publish])[1]
    # Client n sends every activity with amount n and last-updated-datetime January n.
    bodies = {
        n: _shuffled(
            variant(USAID_EC, tmp_path / f"client-{n}.xml", keep=kept, **{
                f"a{position}": set_first_transaction(f"{n}.00", _january(n))
                for position in range(1, kept + 1)
            }),
            seed=n,
        )
        for n in range(1, clients + 1)
    }
    answers: dict[int, httpx.Response] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(clients)

    with _serving(environment, tmp_path) as base:

        def send(n: int) -> None:
            headers = {"Authorization": f"Bearer {secret}"}
            try:
                with httpx.Client(base_url=base, headers=headers, timeout=TIMEOUT) as http:
                    start.wait(timeout=TIMEOUT)
                    answers[n] = http.post("/api/v1/activities", content=bodies[n])
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                failures.append(error)

        threads = [threading.Thread(target=send, args=(n,)) for n in reversed(bodies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=TIMEOUT)
    assert failures == []
    assert {n: answer.status_code for n, answer in answers.items()} == dict.fromkeys(bodies, 200)
    assert _overlapping(store, besides=first.id), "the pushes did not run at the same time"

    history = _history(store)
    assert len(history) == kept
    for identifier, dates in history.items():
        stored = stored_activity(store, identifier)
        # The latest last-updated-datetime wins, whatever order the pushes ran in …
        assert stored.document["transactions"][0]["value"]["amount"] == f"{clients}.00"
        assert dates[-1] == _january(clients)
        # … and every version stored was newer than the one before it.
        assert dates == sorted(dates), f"{identifier}: an older version came after a newer"
        assert len(set(dates)) == len(dates)
        told = [
            (outcome["outcome"], outcome["version"])
            for answer in answers.values()
            for outcome in answer.json()["activities"]
            if outcome["iati_identifier"] == identifier
        ]
        # Each update was given its own next version; every other push was stale.
        updates = sorted(version for outcome, version in told if outcome == "updated")
        assert updates == list(range(2, len(dates) + 1)), identifier
        others = [outcome for outcome, _version in told if outcome != "updated"]
        assert others == ["stale"] * (clients - len(updates)), identifier
    _assert_rows_match_documents(store)


# The killed push -----------------------------------------------------------------------


def _kill_mid_way(
    environment: dict[str, str], folder: Path, file: Path, store: Engine, *, after: str
) -> str:
    """Start importing `file` and, once it has updated `KILL_AFTER` activities, SIGKILL the
    process while it is inside an activity's transaction; the push it left behind."""
    with (folder / "killed-import.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "import", str(file), "--org", USAID],
            cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            push_id = _wait_for_updates(store, process, after=after)
            caught = _blocked if store.dialect.name == "postgresql" else _frozen
            with caught(store, process, push_id):
                os.kill(process.pid, signal.SIGKILL)
                assert process.wait(timeout=TIMEOUT) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)
    return push_id


def _wait_for_updates(store: Engine, process: subprocess.Popen[bytes], *, after: str) -> str:
    def updating() -> str | None:
        assert process.poll() is None, "the import ended before it could be killed"
        with Session(store) as session:
            running = session.exec(select(Push).where(Push.id != after)).first()
        return running.id if running is not None and running.updated >= KILL_AFTER else None

    return _until(updating, f"the import did not update {KILL_AFTER} activities")


@contextmanager
def _blocked(store: Engine, process: subprocess.Popen[bytes], push_id: str) -> Iterator[None]:
    """PostgreSQL: the importer held at the last statement of an activity's transaction.

    Counting the outcome on the push row comes after every other write of the activity,
    so a lock on that row stops the importer with all of them done but not committed.
    FOR NO KEY UPDATE, not FOR UPDATE: the rows that refer to the push (its activities,
    versions and outcomes) must still be written, the update of its counters not.
    """
    with store.connect() as holder:
        holder.begin()
        holder.execute(
            select(Push.id).where(Push.id == push_id).with_for_update(key_share=True)
        )
        me = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()

        def waiting() -> int | None:
            assert process.poll() is None, "the import ended before it could be killed"
            return _server_activity(
                store, "SELECT pid FROM pg_stat_activity WHERE :me = ANY(pg_blocking_pids(pid))",
                me=me,
            )

        importer = _until(waiting, "the import never waited for the locked push row")
        yield
        holder.rollback()

    def ended() -> bool | None:
        # Its client gone, the importer's server process rolls back and ends.
        found = _server_activity(store, "SELECT pid FROM pg_stat_activity WHERE pid = :pid",
                                 pid=importer)
        return True if found is None else None

    _until(ended, "the killed importer's transaction lingers on the server")


def _server_activity(store: Engine, query: str, **parameters: object) -> int | None:
    """The first pid `query` finds, in a transaction of its own: PostgreSQL shows a
    transaction the same statistics until it ends."""
    with store.connect() as connection:
        found = connection.execute(text(query), parameters).scalar()
    return None if found is None else int(found)


def _until(found: Callable[[], T | None], failure: str) -> T:
    """What `found` returns once it is not None, asked every 10 ms for `TIMEOUT` seconds."""
    deadline = time.monotonic() + TIMEOUT
    while (result := found()) is None:
        assert time.monotonic() < deadline, f"{failure} within {TIMEOUT:.0f} s"
        time.sleep(0.01)
    return result


@contextmanager
def _frozen(store: Engine, process: subprocess.Popen[bytes], _push_id: str) -> Iterator[None]:
    """SQLite: the importer stopped (SIGSTOP) at a moment it holds the write lock, that is
    inside an activity's transaction."""
    probe = create_db_engine(store.url.render_as_string(hide_password=False), busy_timeout_ms=0)
    pause = random.Random(KILL_AFTER)

    def caught() -> bool | None:
        os.kill(process.pid, signal.SIGSTOP)
        stopped = os.waitid(os.P_PID, process.pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
        assert stopped is not None
        assert stopped.si_code == os.CLD_STOPPED, "the import ended before it could be killed"
        if _writing(probe):
            return True
        os.kill(process.pid, signal.SIGCONT)
        time.sleep(pause.uniform(0, 0.02))
        return None

    try:
        _until(caught, "the import was never caught inside a transaction")
        yield
    finally:
        probe.dispose()


def _writing(probe: Engine) -> bool:
    """Whether another process holds the SQLite write lock (`probe` waits for nothing)."""
    try:
        with for_writing(probe).connect() as connection:
            connection.begin()
            connection.rollback()
    except OperationalError as error:
        if "database is locked" not in str(error):
            raise
        return True
    return False


def _progress(store: Engine, push_id: str) -> tuple[PushStatus, int]:
    """The push's status and how many activities it updated (checked against its other
    counts and its finishing time)."""
    with Session(store) as session:
        record = session.get(Push, push_id)
    assert record is not None
    assert (record.finished_at is None) == (record.status is PushStatus.running)
    assert record.created == record.stale == record.rejected == record.deleted == 0
    assert record.activities_seen == record.updated + record.unchanged
    return record.status, record.updated


def _outcomes(store: Engine, push_id: str) -> dict[str | None, tuple[Outcome, int | None]]:
    with Session(store) as session:
        rows = session.exec(select(PushActivity).where(PushActivity.push_id == push_id)).all()
    return {row.iati_identifier: (row.outcome, row.version) for row in rows}


def _assert_whole(store: Engine, expected: dict[int, Amounts]) -> dict[str, int]:
    """Assert each activity is exactly one of its `expected` versions; each one's version."""
    _assert_rows_match_documents(store)
    with Session(store) as session:
        activities = session.exec(select(Activity)).all()
    found: dict[str, int] = {}
    for activity in activities:
        identifier = activity.iati_identifier
        assert activity.version in expected, f"{identifier} is at version {activity.version}"
        assert _document_amounts(activity) == expected[activity.version][identifier]
        found[identifier] = activity.version
    assert found.keys() == expected[1].keys()
    return found


def _assert_rows_match_documents(store: Engine) -> None:
    """Each activity's query rows are its stored document's, and its versions run 1 … n,
    the last one being the stored one."""
    with Session(store) as session:
        activities = session.exec(select(Activity)).all()
        versions = session.exec(select(ActivityVersion)).all()
        transactions = session.exec(select(Transaction).order_by(col(Transaction.position))).all()
    numbers: dict[int | None, list[int]] = {}
    latest: dict[int | None, ActivityVersion] = {}
    for version in sorted(versions, key=lambda row: row.version):
        numbers.setdefault(version.activity_id, []).append(version.version)
        latest[version.activity_id] = version
    amounts: dict[int | None, list[Decimal | None]] = {}
    for row in transactions:
        amounts.setdefault(row.activity_id, []).append(row.amount)
    assert numbers.keys() == {activity.id for activity in activities}
    for activity in activities:
        identifier = activity.iati_identifier
        assert numbers[activity.id] == list(range(1, activity.version + 1)), identifier
        assert latest[activity.id].content_hash == activity.content_hash, identifier
        assert latest[activity.id].push_id == activity.last_push_id, identifier
        assert amounts.get(activity.id, []) == _document_amounts(activity), identifier


def _document_amounts(activity: Activity) -> list[Decimal | None]:
    amounts = [
        (transaction.get("value") or {}).get("amount")
        for transaction in activity.document.get("transactions", [])
    ]
    return [None if amount is None else Decimal(amount) for amount in amounts]


def _job_of(store: Engine, push_id: str) -> tuple[JobStatus, int]:
    """The status of the push's job and how many times it was claimed."""
    with Session(store) as session:
        job = session.exec(select(Job).where(Job.push_id == push_id)).one()
    return job.status, job.attempts


def _ended(store: Engine, push_id: str) -> bool | None:
    with Session(store) as session:
        record = session.get(Push, push_id)
    assert record is not None
    return True if record.status is not PushStatus.running else None


def _assert_nothing_spooled(store: Engine, folder: Path) -> None:
    """No copy of a pushed file is left: neither in the spool folder nor in the store."""
    assert list((folder / "spool").iterdir()) == []
    with Session(store) as session:
        assert session.exec(select(JobFile)).first() is None


# The parallel clients ------------------------------------------------------------------


def _history(store: Engine) -> dict[str, list[str]]:
    """Each activity's last-updated-datetimes, version by version, as received."""
    with Session(store) as session:
        rows = session.exec(
            select(Activity.iati_identifier, ActivityVersion.received_xml)
            .join(ActivityVersion, col(ActivityVersion.activity_id) == col(Activity.id))
            .order_by(col(Activity.iati_identifier), col(ActivityVersion.version))
        ).all()
    history: dict[str, list[str]] = {}
    for identifier, received in rows:
        assert received is not None
        element = etree.fromstring(received.encode("utf-8"), PARSER)
        history.setdefault(identifier, []).append(str(element.get("last-updated-datetime")))
    return history


def _overlapping(store: Engine, *, besides: str) -> bool:
    """Whether some two pushes (other than `besides`) were being processed at once."""
    with Session(store) as session:
        pushes = session.exec(
            select(Push).where(Push.id != besides).order_by(col(Push.received_at))
        ).all()
    spans = [(push.received_at, push.finished_at or push.received_at) for push in pushes]
    return any(later[0] < earlier[1] for earlier, later in pairwise(spans))


def _january(day: int) -> str:
    return f"2026-01-{day:02d}T00:00:00Z"


def _shuffled(file: Path, *, seed: int) -> bytes:
    """The bytes of `file` with its activities in an order of their own, so that
    concurrent pushes reach the same activities at different moments."""
    tree = etree.parse(str(file), PARSER)
    root = tree.getroot()
    activities = root.findall("iati-activity")
    random.Random(seed).shuffle(activities)
    for activity in activities:
        root.remove(activity)
        root.append(activity)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


# Files and processes -------------------------------------------------------------------


def _bumped(source: Path, target: Path) -> Path:
    """`source` with every transaction one unit larger and last-updated-datetime `LATER`:
    each of its activities a new version."""
    tree = etree.parse(str(source), PARSER)
    for activity in tree.getroot().iterfind("iati-activity"):
        activity.set("last-updated-datetime", LATER)
        for value in activity.iterfind("transaction/value"):
            value.text = str(Decimal(str(value.text)) + 1)
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def _amounts(file: Path) -> Amounts:
    found: Amounts = {}
    for activity in etree.parse(str(file), PARSER).getroot().iterfind("iati-activity"):
        identifier = str(activity.findtext("iati-identifier")).strip()
        found[identifier] = [
            None if value is None else Decimal(str(value.text).strip())
            for value in (t.find("value") for t in activity.iterfind("transaction"))
        ]
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(environment: dict[str, str], folder: Path, *arguments: str) -> subprocess.Popen[bytes]:
    """`iati-ec arguments` started in `folder`, its output to a log file there."""
    with (folder / f"{arguments[0]}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "service", *arguments], cwd=folder, env=environment,
            stdout=log, stderr=subprocess.STDOUT,
        )


def _base_of(service: subprocess.Popen[bytes]) -> str:
    """The base URL of the started `serve`, once it answers."""
    port = service.args[service.args.index("--port") + 1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool | None:
        assert service.poll() is None, "the service ended before it answered"
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200 or None
        except httpx.TransportError:
            return None

    _until(answering, "the server did not start")
    return base


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop `process` (SIGTERM, then SIGKILL) unless it has ended."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@contextmanager
def _serving(environment: dict[str, str], folder: Path) -> Iterator[str]:
    """`iati-ec serve` on the test database, until the block ends; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with (folder / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"

        def answering() -> bool | None:
            assert process.poll() is None, (folder / "serve.log").read_text()
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200 or None
            except httpx.TransportError:
                return None

        try:
            _until(answering, "the server did not start")
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
