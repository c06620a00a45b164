"""Time ingest through the HTTP API into SQLite and PostgreSQL, beside the read-only throughput.

For each corpus and database: a fresh database (a temporary SQLite file; a new PostgreSQL
database, dropped afterwards), a real `iati-ec serve` on it (uvicorn, migrations applied
at start-up), an organisation holding every reporting-org/@ref of the corpus and a
publish key made with the command line (`iati-ec orgs add`, `iati-ec keys create`). The
corpus is then pushed over HTTP twice: the first push creates its activities, the second
finds them all unchanged. A body above the service's background threshold is answered
with 202 and the push is polled at `GET /api/v1/pushes/{id}` until it ends; a smaller one
is answered when done. In the same run, fresh interpreters read the same file with
`iati.reader.read_activities` (read only) and `iati.validate.validate` (read + validate,
the checks every push makes), for reference.

Before the first push the server validates a few of the corpus's activities
(`POST /api/v1/validate`), so that no push pays for loading the schemas, codelists and
rulesets. A push's wall time runs from the request's first byte to the push's `finished_at`. The
server's CPU seconds come from /proc/<pid>/stat, its peak RSS from VmHWM in
/proc/<pid>/status, reset before each push through /proc/<pid>/clear_refs; both include
answering the polls (`--watch database` reads the push's status from the database
instead, leaving the polls out). One more GET of the finished push is then timed: what
each poll of a push that size costs.

`--workers 1 2` measures the job workers instead of the worker `serve` embeds (`0`, the
default): the server runs with `IATI_EC_EMBEDDED_WORKER=false` and
`IATI_EC_PUSH_BACKGROUND_BYTES=0` (every push is queued and answered 202) beside
`iati-ec worker --concurrency N`, each on a fresh database. A push is one job, processed by
one worker; `--parts 1 2` also cuts the corpus into that many files of consecutive
activities, pushed at once, so that several workers have work. The CPU seconds are then
given per process tree: the server, the workers, and, on PostgreSQL, the backends of the
benchmark's database (sampled from /proc while the push runs; PostgreSQL on this
machine). `--profile FILE` runs one more first push and re-push, not counted, with the
one worker under cProfile, and writes its statistics to FILE (and a summary to FILE.txt).

Run from the repository root:

    python bench/ingest.py --postgres-url postgresql+psycopg://user:pw@host/db
    python bench/ingest.py --sizes 10 --databases sqlite
    python bench/ingest.py --markdown figures.md    # also write the tables to a file
    python bench/ingest.py --sizes 10 --databases postgresql --workers 1 2 --parts 1 2 \
        --runs 2 --csv results.csv --profile worker.prof

The PostgreSQL server may also be given by IATI_EC_TEST_POSTGRES_URL; its role must be
allowed to create databases. Progress goes to standard error, the tables to standard
output.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import httpx
from lxml import etree
from parse import MIB, TOOLS, build_corpus, warm  # bench/parse.py, beside this script
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGET_RATE = 1000.0  # activities/s into PostgreSQL, from the issue
TARGET_REPUSH = 3.0  # a re-push of the unchanged file this many times faster than the first
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WATCHED = {
    "http": "polled at GET /api/v1/pushes/{id}",
    "database": "read from the database (no polls)",
}
Watch = Callable[[str], str]  # a push's id → its status
# How an idle worker polls for jobs: faster than the default (1 s), so that a queued push
# waits less for its worker than the pushes take.
WORKER_ENVIRONMENT = {"IATI_EC_JOB_POLL_SECONDS": "0.2", "IATI_EC_WARM_PAGES": "false"}

# Run in a fresh interpreter: activities, seconds and peak RSS (bytes) of the read alone.
READ = """\
import sys, time
from iati.reader import read_activities
start = time.perf_counter()
count = sum(1 for _ in read_activities(sys.argv[1]))
seconds = time.perf_counter() - start
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(count, seconds, int(peak) * 1024)
"""
VALIDATE = """\
import sys, time
from datetime import date
from iati.validate import validate
start = time.perf_counter()
report = validate(sys.argv[1], today=date.today(), on_record=lambda record: None)
seconds = time.perf_counter() - start
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(report.record_count, seconds, int(peak) * 1024)
"""
READERS = {
    "read only (`read_activities`)": READ,
    "read + validate (`validate`)": VALIDATE,
}


@dataclass(frozen=True)
class Measured:
    """One measured step: how long, how many activities, the server's CPU and peak RSS."""

    corpus: float
    database: str  # "" for the readers
    step: str
    wall: float
    activities: int
    cpu: float | None = None
    peak_rss: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    polls: int | None = None
    document_get: float | None = None  # seconds to GET the finished push's document
    setup: str = ""  # who processed the push: the embedded worker, or N workers and parts
    worker_cpu: float | None = None  # CPU seconds of the `iati-ec worker` processes
    worker_peak_rss: int | None = None  # the largest worker process's peak RSS
    database_cpu: float | None = None  # CPU seconds of the database's PostgreSQL backends
    load: float = 0.0  # the 1-minute load average when the step ended

    @property
    def rate(self) -> float:
        return self.activities / self.wall


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The code measured -----------------------------------------------------------------------

PACKAGES = ("iati", "mappings", "service", "migrations")


@dataclass(frozen=True)
class Code:
    """Where the measured processes import iati-ec from (None: as installed), and what it is."""

    folder: Path | None
    description: str

    def environment(self, **extra: str) -> dict[str, str]:
        """The environment of a measured process: imports from `folder`, plus `extra`."""
        found = {**os.environ, **extra}
        if self.folder is not None:
            found["PYTHONPATH"] = str(self.folder)
        return found


def code(commit: str | None, scratch: Path) -> Code:
    """The working tree, or `commit`'s packages exported to `scratch` (frozen while others
    edit the working tree)."""

    def git(*arguments: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(REPO), *arguments], capture_output=True, check=True
        ).stdout

    try:
        name = git("rev-parse", "--short", f"{commit or 'HEAD'}^{{commit}}").decode().strip()
        if commit is None:
            edited = git("status", "--porcelain", "--", *PACKAGES).strip()
            state = "with uncommitted changes" if edited else "unmodified"
            return Code(None, f"the working tree at commit {name}, {state}")
        exported = git("archive", name, *PACKAGES)
    except (OSError, subprocess.CalledProcessError) as error:
        if commit is None:
            return Code(None, f"the working tree {REPO}")
        sys.exit(f"cannot export {commit!r}: {getattr(error, 'stderr', error)!r}")
    with tarfile.open(fileobj=io.BytesIO(exported)) as archive:
        archive.extractall(scratch, filter="data")
    return Code(scratch, f"commit {name} (exported with git archive)")


# Databases, the server and its command line -------------------------------------------


@contextmanager
def database(kind: str, folder: Path, postgres_url: str | None) -> Iterator[str]:
    """The URL of a new, empty database of `kind`, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'ingest-{uuid4().hex[:8]}.db'}"
        return
    assert postgres_url is not None
    name = f"iati_ec_bench_{uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def cli(url: str, folder: Path, source: Code, *arguments: str) -> str:
    """Run `iati-ec ARGUMENTS` on the database `url`; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "service", *arguments],
        cwd=folder,
        env=source.environment(DATABASE_URL=url),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        sys.exit(f"iati-ec {' '.join(arguments[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def publish_key(url: str, folder: Path, source: Code, corpus: Path) -> str:
    """A publish key of one organisation holding every reporting-org/@ref of `corpus`."""
    refs: set[str] = set()
    for _, element in etree.iterparse(str(corpus), tag="reporting-org"):
        refs.add((element.get("ref") or "").strip())
        element.clear()
    arguments = [argument for ref in sorted(refs - {""}) for argument in ("--ref", ref)]
    cli(
        url,
        folder,
        source,
        "orgs",
        "add",
        *arguments,
        "--name",
        "Benchmark publisher",
        "--role",
        "donor",
    )
    created = cli(
        url, folder, source, "keys", "create", "--org", arguments[1], "--scope", "publish"
    )
    return created.split()[-1]


def process_cpu(pid: int) -> float:
    """The CPU seconds (user + system) process `pid` has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from the parent ids in /proc/*/stat."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        found.append(pending.pop())
        pending += parents.get(found[-1], [])
    return found


@dataclass
class Processes:
    """A running process and its descendants (`iati-ec serve`, `iati-ec worker`)."""

    process: subprocess.Popen[bytes]

    def cpu(self) -> float:
        """The CPU seconds (user + system) the process and its descendants have used."""
        return sum(process_cpu(pid) for pid in process_tree(self.process.pid))

    def reset_peak(self) -> None:
        """Start the peak RSS (VmHWM) of each process afresh from its current RSS."""
        for pid in process_tree(self.process.pid):
            Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak_rss(self) -> int:
        """The largest peak RSS of the process and its descendants (not their sum)."""
        peaks = [0]
        for pid in process_tree(self.process.pid):
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            peaks += [int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM")]
        return max(peaks)


@dataclass
class Server(Processes):
    """A running `iati-ec serve`: its process and base URL."""

    base: str


@contextmanager
def serve(url: str, folder: Path, source: Code, **environment: str) -> Iterator[Server]:
    """`iati-ec serve` on `url` (with `environment` added to its own), on a free port,
    stopped afterwards (killed if a long request keeps it from stopping)."""
    port = _free_port()
    with (folder / f"serve-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            cwd=folder,
            env=source.environment(DATABASE_URL=url, **environment),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = Server(process, f"http://127.0.0.1:{port}")
        try:
            _wait_until_up(server)
            yield server
        finally:
            _stop(process)


@contextmanager
def workers(
    url: str, folder: Path, source: Code, concurrency: int, profile: Path | None = None
) -> Iterator[Processes | None]:
    """`iati-ec worker --concurrency N` on `url` (None for 0: the worker `serve` embeds),
    stopped afterwards; with `profile`, the one worker runs under cProfile, whose
    statistics are written to `profile` when it stops."""
    if concurrency == 0:
        yield None
        return
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
    with (folder / f"worker-{uuid4().hex[:8]}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *profiler, "-m", "service", "worker",
             "--concurrency", str(concurrency)],
            cwd=folder,
            env=source.environment(DATABASE_URL=url, **WORKER_ENVIRONMENT),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield Processes(process)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process has not stopped within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{server.base}/health", timeout=1)
            return
        except httpx.TransportError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                sys.exit("iati-ec serve did not start; see its log")
            time.sleep(0.1)


# Measuring -------------------------------------------------------------------------------


class Backends:
    """The CPU seconds of the PostgreSQL backends of one database, sampled from /proc (the
    server runs on this machine). A backend that ends between two samples loses the CPU
    it used after the last one: sample often."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def sample(self, *, start: bool = False) -> None:
        statement = text(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as connection:
            pids = connection.execute(statement).scalars().all()
        for pid in pids:
            used = process_cpu(pid)
            if used:
                self.first.setdefault(pid, used if start else 0.0)
                self.last[pid] = used

    def used(self) -> float:
        return sum(self.last[pid] - first for pid, first in self.first.items())


def push(
    server: Server,
    key: str,
    parts: list[Path],
    step: str,
    *,
    size: float,
    database: str,
    poll: float,
    watch: Watch | None,
    worker: Processes | None = None,
    backends_url: str | None = None,
    setup: str = "",
) -> Measured:
    """Push the files `parts` at once over HTTP and wait for every push to end: polling it
    over HTTP, or with `watch`, reading its status from the database (the server then
    answers no polls)."""
    tree = [processes for processes in (server, worker) if processes is not None]
    for processes in tree:
        processes.reset_peak()
    cpu = [processes.cpu() for processes in tree]
    backends = Backends(backends_url) if backends_url is not None else None
    if backends is not None:
        backends.sample(start=True)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}
    documents: list[dict] = [{}] * len(parts)
    polled = [0] * len(parts)

    def one(index: int, http: httpx.Client) -> None:
        with parts[index].open("rb") as body:
            answer = http.post("/api/v1/activities", content=body)
        if answer.status_code not in (200, 202):
            sys.exit(f"push failed: {answer.status_code} {answer.text[:2000]}")
        document = answer.json()
        address = f"/api/v1/pushes/{document['id']}"
        while watch is not None and watch(document["id"]) == "running":
            time.sleep(poll)
        while watch is None and document["status"] == "running":
            time.sleep(poll)
            document = http.get(address).raise_for_status().json()
            polled[index] += 1
        documents[index] = document

    with httpx.Client(base_url=server.base, headers=headers, timeout=None) as http:
        started = time.time()
        threads = [threading.Thread(target=one, args=(index, http)) for index in range(len(parts))]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if backends is not None:
                backends.sample()
            time.sleep(min(poll, 0.5))
        for thread in threads:
            thread.join()
        if backends is not None:
            backends.sample()
            backends.engine.dispose()
        used = [processes.cpu() - before for processes, before in zip(tree, cpu, strict=True)]
        peak = [processes.peak_rss() for processes in tree]
        asked = time.perf_counter()
        final = [
            http.get(f"/api/v1/pushes/{document['id']}").raise_for_status().json()
            for document in documents
        ]  # what one more poll costs
        answered = (time.perf_counter() - asked) / len(final)
    counts: dict[str, int] = {}
    for document in final:
        if document["status"] != "completed":
            sys.exit(f"push {document['id']} ended {document['status']}: {document['findings']}")
        for name, count in document["counts"].items():
            if count:
                counts[name] = counts.get(name, 0) + count
    finished = max(datetime.fromisoformat(entry["finished_at"]).timestamp() for entry in final)
    return Measured(
        size,
        database,
        step,
        finished - started,
        sum(document["activities_seen"] for document in final),
        used[0],
        peak[0],
        counts,
        None if watch else sum(polled),
        answered,
        setup,
        used[1] if worker is not None else None,
        peak[1] if worker is not None else None,
        backends.used() if backends is not None else None,
        os.getloadavg()[0],
    )


@contextmanager
def watching(url: str) -> Iterator[Watch]:
    """A reader of a push's status straight from the database `url`."""
    engine = create_engine(url, poolclass=NullPool)
    statement = text("SELECT status FROM push WHERE id = :push")

    def status(push_id: str) -> str:
        with engine.connect() as connection:
            return str(connection.execute(statement, {"push": push_id}).scalar_one())

    try:
        yield status
    finally:
        engine.dispose()


def warm_up(server: Server, corpus: Path, count: int = 10) -> None:
    """Validate the first `count` activities of `corpus` through the server, so that no
    push pays for loading the schemas, codelists and rulesets (the server keeps them)."""
    root = None
    for _, element in etree.iterparse(str(corpus), tag="iati-activity"):
        if root is None:
            parent = element.getparent()
            assert parent is not None
            root = etree.Element(parent.tag, dict(parent.attrib))
        root.append(element)
        if len(root) == count:
            break
    if root is None:
        return  # no activities: nothing to load
    httpx.post(
        f"{server.base}/api/v1/validate", content=etree.tostring(root), timeout=None
    ).raise_for_status()


def split(corpus: Path, parts: int, folder: Path) -> list[Path]:
    """`corpus` cut into `parts` files of consecutive activities (the same numbers, give or
    take one), each under the corpus's root element; `[corpus]` for one part."""
    if parts == 1:
        return [corpus]
    total = sum(1 for _ in etree.iterparse(str(corpus), tag="iati-activity"))
    paths = [folder / f"{corpus.stem}-part-{n + 1}-of-{parts}.xml" for n in range(parts)]
    if all(path.exists() for path in paths):
        return paths
    files = [path.open("wb") for path in paths]
    try:
        root = None
        for seen, (_, element) in enumerate(etree.iterparse(str(corpus), tag="iati-activity")):
            if root is None:
                parent = element.getparent()
                assert parent is not None
                empty = etree.Element(parent.tag, dict(parent.attrib), nsmap=parent.nsmap)
                for file in files:
                    file.write(etree.tostring(empty).removesuffix(b"/>") + b">\n")
                root = parent.tag
            files[seen * parts // total].write(etree.tostring(element) + b"\n")
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
        for file in files:
            file.write(f"</{root}>\n".encode())
    finally:
        for file in files:
            file.close()
    return paths


def describe(concurrency: int, parts: int) -> str:
    """Who processed a push: the worker `serve` embeds, or `iati-ec worker` processes."""
    processed = (
        "serve (embedded worker)"
        if concurrency == 0
        else f"{concurrency} worker process{'es' if concurrency > 1 else ''}"
    )
    return processed if parts == 1 else f"{processed}, {parts} files at once"


def warm_up_workers(corpus: Path, concurrency: int, folder: Path, count: int = 5) -> list[Path]:
    """`concurrency` files of `corpus`'s first `count` activities, their identifiers given a
    suffix of their own: pushed at once before the measured pushes, so that each worker
    process loads the schemas, codelists, rulesets and mapping tables beforehand (adding
    that many activities of its own to the database)."""
    paths = []
    for n in range(concurrency):
        root = None
        for _, element in etree.iterparse(str(corpus), tag="iati-activity"):
            if root is None:
                parent = element.getparent()
                assert parent is not None
                root = etree.Element(parent.tag, dict(parent.attrib), nsmap=parent.nsmap)
            identifier = element.find("iati-identifier")
            if identifier is not None:
                identifier.text = f"{(identifier.text or '').strip()}-warm-up-{n + 1}"
            root.append(element)
            if len(root) == count:
                break
        if root is None:
            return []
        paths.append(folder / f"warm-up-{uuid4().hex[:8]}.xml")
        paths[-1].write_bytes(etree.tostring(root))
    return paths


def ingest(
    kind: str,
    corpus: Path,
    size: float,
    folder: Path,
    source: Code,
    args: argparse.Namespace,
    *,
    concurrency: int = 0,
    parts: int = 1,
    profile: Path | None = None,
) -> list[Measured]:
    """A fresh database of `kind`, a server on it (and `concurrency` workers), and
    `corpus` pushed twice (cut into `parts` files pushed at once)."""
    label = DATABASES[kind]
    setup = describe(concurrency, parts)
    files = split(corpus, parts, corpus.parent)
    queued = (
        {"IATI_EC_EMBEDDED_WORKER": "false", "IATI_EC_PUSH_BACKGROUND_BYTES": "0"}
        if concurrency
        else {"IATI_EC_EMBEDDED_WORKER": "true"}
    )
    with (
        database(kind, folder, args.postgres_url) as url,
        serve(url, folder, source, **WORKER_ENVIRONMENT, **queued) as server,
        workers(url, folder, source, concurrency, profile) as worker,
        watching(url) as watch,
    ):
        key = publish_key(url, folder, source, corpus)
        warm_up(server, corpus)
        if concurrency:
            files_of_warm_up = warm_up_workers(corpus, concurrency, folder)
            push(server, key, files_of_warm_up, "warm-up", size=size, database=label,
                 poll=args.poll, watch=watch)
        measured = []
        for step in ("first push", "re-push (unchanged)"):
            done = push(
                server,
                key,
                files,
                step,
                size=size,
                database=label,
                poll=args.poll,
                watch=watch if args.watch == "database" else None,
                worker=worker,
                backends_url=url if kind == "postgresql" else None,
                setup=setup,
            )
            progress(
                f"{size:g} MB {label:10} {setup:40} {step:20} {done.wall:8.2f} s "
                f"{done.rate:8.0f} act/s  {done.counts}  load {done.load:.2f}"
            )
            measured.append(done)
        return measured


def read(corpus: Path, size: float, step: str, script: str, source: Code) -> Measured:
    """Run a reader on `corpus` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(corpus)],
        cwd=source.folder or REPO,
        env=source.environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{step} failed:\n{done.stderr}")
    count, seconds, peak = done.stdout.split()
    progress(f"{size:g} MB {step:32} {float(seconds):8.2f} s")
    return Measured(
        size, "", step, float(seconds), int(count), peak_rss=int(peak), load=os.getloadavg()[0]
    )


def benchmark(
    corpora: dict[float, Path], args: argparse.Namespace, folder: Path, source: Code
) -> list[Measured]:
    """Readers and pushes for every corpus, `args.runs` rounds each (the readers, then each
    database, number of workers and of parts in turn), and the profiled push if asked."""
    measured: list[Measured] = []
    for size, corpus in corpora.items():
        warm(corpus)
        for _round in range(args.runs):
            for step, script in READERS.items():
                measured.append(read(corpus, size, step, script, source))
            for kind in args.databases:
                for concurrency in args.workers:
                    for parts in args.parts:
                        measured += ingest(
                            kind, corpus, size, folder, source, args,
                            concurrency=concurrency, parts=parts,
                        )
    if args.profile is not None:
        size, corpus = max(corpora.items())
        kind = "postgresql" if "postgresql" in args.databases else "sqlite"
        progress(f"profiling one worker (not counted): {size:g} MB, {DATABASES[kind]}")
        ingest(kind, corpus, size, folder, source, args, concurrency=1, profile=args.profile)
        summarise(args.profile)
    return measured


# Where a worker's push spends its time: (file ending, function) → stage, for the profile.
STAGES = {
    ("jobs/pushes.py", "run_push_job"): "the push jobs, whole",
    ("push/reading.py", "check"): "read + validate each activity",
    ("push/processing.py", "_check_window"): "look up each window's stored hashes, read + validate",
    ("push/processing.py", "_apply"): "store each activity in its own transaction",
    ("push/storage.py", "store"): "store: write the activity, its version, rows, view",
    ("push/rows.py", "insert_rows"): "store: the query tables' rows",
    ("budget/storage.py", "replace_views"): "store: the Ecuador budget view",
    ("push/partners.py", "link"): "store: link the partner organisations",
    ("push/processing.py", "_record"): "record the activity's outcome (the push's log)",
    ("orm/session.py", "commit"): "commit (every transaction)",
    ("psycopg/connection.py", "wait"): "waiting for PostgreSQL (every statement)",
}


def summarise(profile: Path, count: int = 40) -> None:
    """Write the stages of STAGES and the `count` functions of most cumulative and own time
    in `profile` to PROFILE.txt."""
    import pstats

    with Path(f"{profile}.txt").open("w", encoding="utf-8") as summary:
        statistics = pstats.Stats(str(profile), stream=summary)
        found: dict[str, tuple[int, float]] = {}
        for (file, _, function), row in statistics.stats.items():  # type: ignore[attr-defined]
            for (ending, name), stage in STAGES.items():
                if function == name and file.endswith(ending):
                    calls, cumulative = row[1], row[3]
                    if cumulative > found.get(stage, (0, 0.0))[1]:
                        found[stage] = (calls, cumulative)
        summary.write("| stage | calls | cumulative s |\n|---|--:|--:|\n")
        for stage in STAGES.values():
            calls, cumulative = found.get(stage, (0, 0.0))
            summary.write(f"| {stage} | {calls:,} | {cumulative:.2f} |\n")
        summary.write("\n")
        statistics.sort_stats("cumulative").print_stats(count)
        statistics.sort_stats("tottime").print_stats(count)


# Reporting ---------------------------------------------------------------------------------


def medians(measured: list[Measured]) -> list[Measured]:
    """One entry per corpus, database and step: the median wall time of its rounds."""
    groups: dict[tuple[float, str, str, str], list[Measured]] = {}
    for entry in measured:
        key = (entry.corpus, entry.database, entry.setup, entry.step)
        groups.setdefault(key, []).append(entry)
    return [
        sorted(group, key=lambda entry: entry.wall)[(len(group) - 1) // 2]
        for group in groups.values()
    ]


def _mib(value: int | None) -> str:
    return "—" if value is None else f"{value / MIB:.1f}"


def _figure(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


def results_table(entries: list[Measured]) -> list[str]:
    if any(entry.worker_cpu is not None for entry in entries):
        return workers_table(entries)
    lines = [
        "| corpus | database | step | wall s | activities | activities/s | × read-only time "
        "| server CPU s | peak RSS MiB | polls | GET push s | outcomes |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for entry in entries:
        floor = next(
            e
            for e in entries
            if e.corpus == entry.corpus and e.step in READERS and READERS[e.step] is READ
        )
        outcomes = ", ".join(f"{count:,} {name}" for name, count in entry.counts.items())
        lines.append(
            f"| {entry.corpus:g} MB | {entry.database or '—'} | {entry.step} | "
            f"{entry.wall:.2f} | {entry.activities:,} | {entry.rate:,.0f} | "
            f"{entry.wall / floor.wall:.1f} | {_figure(entry.cpu)} | {_mib(entry.peak_rss)} | "
            f"{'—' if entry.polls is None else entry.polls} | {_figure(entry.document_get)} | "
            f"{outcomes or '—'} |"
        )
    return lines


def workers_table(entries: list[Measured]) -> list[str]:
    """The results with who processed each push and the CPU seconds of each process tree."""
    lines = [
        "| corpus | database | processed by | step | wall s | activities | activities/s "
        "| × read + validate time | API CPU s | workers CPU s | PostgreSQL CPU s "
        "| worker peak RSS MiB | load | outcomes |",
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for entry in entries:
        floor = next(
            e
            for e in entries
            if e.corpus == entry.corpus and e.step in READERS and READERS[e.step] is VALIDATE
        )
        outcomes = ", ".join(f"{count:,} {name}" for name, count in entry.counts.items())
        lines.append(
            f"| {entry.corpus:g} MB | {entry.database or '—'} | {entry.setup or '—'} | "
            f"{entry.step} | {entry.wall:.2f} | {entry.activities:,} | {entry.rate:,.0f} | "
            f"{entry.wall / floor.wall:.1f} | {_figure(entry.cpu)} | "
            f"{_figure(entry.worker_cpu)} | {_figure(entry.database_cpu)} | "
            f"{_mib(entry.worker_peak_rss)} | {entry.load:.2f} | {outcomes or '—'} |"
        )
    return lines


CSV_FIELDS = (
    "commit", "date", "round", "corpus_mb", "database", "processed_by", "step", "wall_s",
    "activities", "activities_s", "api_cpu_s", "workers_cpu_s", "postgresql_cpu_s",
    "api_peak_rss_mib", "worker_peak_rss_mib", "polls", "load_1min", "outcomes",
)


def write_csv(measured: list[Measured], path: Path, source: Code, runs: int) -> None:
    """Every measured step of every round, one row each."""
    commit = source.description.split("commit ")[-1].split()[0].rstrip(",")
    today = datetime.now().date().isoformat()
    steps = len(measured) // runs if runs else len(measured)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_FIELDS)
        for index, entry in enumerate(measured):
            writer.writerow([
                commit, today, index // steps + 1, f"{entry.corpus:g}", entry.database,
                entry.setup, entry.step, f"{entry.wall:.2f}", entry.activities,
                f"{entry.rate:.0f}", _blank(entry.cpu), _blank(entry.worker_cpu),
                _blank(entry.database_cpu),
                "" if entry.peak_rss is None else f"{entry.peak_rss / MIB:.1f}",
                "" if entry.worker_peak_rss is None else f"{entry.worker_peak_rss / MIB:.1f}",
                "" if entry.polls is None else entry.polls, f"{entry.load:.2f}",
                ", ".join(f"{count} {name}" for name, count in entry.counts.items()),
            ])


def _blank(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.2f}"


def targets_table(entries: list[Measured]) -> list[str]:
    largest = max(entry.corpus for entry in entries)
    pushes = {(e.database, e.step): e for e in entries if e.corpus == largest and e.database}
    lines = [f"| target ({largest:g} MB corpus) | measured | met |", "|---|---|---|"]
    firsts = [e for e in entries
              if e.corpus == largest and e.database == "PostgreSQL" and e.step == "first push"]
    for first in firsts:
        met = "yes" if first.rate >= TARGET_RATE else "no"
        by = f" ({first.setup})" if first.setup else ""
        lines.append(
            f"| ≥ {TARGET_RATE:,.0f} activities/s into PostgreSQL{by} | "
            f"{first.rate:,.0f} activities/s | {met} |"
        )
    for label in DATABASES.values():
        once, again = pushes.get((label, "first push")), pushes.get((label, "re-push (unchanged)"))
        if once is not None and again is not None:
            ratio = once.wall / again.wall
            met = "yes" if ratio >= TARGET_REPUSH else "no"
            lines.append(
                f"| re-push of the unchanged file ≥ {TARGET_REPUSH:g}× faster than "
                f"the first ({label}) | {ratio:.2f}× | {met} |"
            )
    return lines


def machine(args: argparse.Namespace, load: tuple[float, float], source: Code) -> str:
    return (
        f"Code measured: {source.description}. "
        f"Machine: nproc {len(os.sched_getaffinity(0))}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.platform()}. {args.runs} round(s); "
        f"the status of a running push {WATCHED[args.watch]} every {args.poll:g} s. "
        f"Load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after."
    )


def report(
    measured: list[Measured], args: argparse.Namespace, load: tuple[float, float], source: Code
) -> str:
    entries = medians(measured)
    lines = [machine(args, load, source), "", *results_table(entries), "", *targets_table(entries)]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--sizes", type=float, nargs="+", default=[10.0, 100.0], help="corpus sizes in MB")
    add("--databases", nargs="+", choices=list(DATABASES), default=list(DATABASES))
    add(
        "--postgres-url",
        default=os.environ.get("IATI_EC_TEST_POSTGRES_URL"),
        help="PostgreSQL server to create the databases on (default: $IATI_EC_TEST_POSTGRES_URL)",
    )
    add("--runs", type=int, default=1, help="rounds per corpus; medians are reported")
    add("--poll", type=float, default=5.0, help="seconds between polls of a running push")
    add(
        "--watch",
        choices=list(WATCHED),
        default="http",
        help="poll a running push over HTTP (as a donor would), or read its status from the "
        "database, so that the server's figures leave out answering polls",
    )
    add(
        "--corpus-dir",
        type=Path,
        default=HERE / "corpus",
        help="where corpora are built and reused (default: bench/corpus/)",
    )
    add("--tools", type=Path, default=TOOLS, help="folder of the shared make_corpus.py")
    add("--markdown", type=Path, metavar="FILE", help="also write the Markdown report to FILE")
    add("--csv", type=Path, metavar="FILE", help="also write every round's figures to FILE")
    add(
        "--workers",
        type=int,
        nargs="+",
        default=[0],
        metavar="N",
        help="worker processes (`iati-ec worker --concurrency N`) beside a server that "
        "queues every push; 0 (the default): the worker `serve` embeds",
    )
    add(
        "--parts",
        type=int,
        nargs="+",
        default=[1],
        metavar="N",
        help="also cut the corpus into N files of consecutive activities pushed at once",
    )
    add(
        "--profile",
        type=Path,
        metavar="FILE",
        help="one more push and re-push, not counted, with one worker under cProfile; "
        "its statistics to FILE, a summary to FILE.txt",
    )
    add(
        "--commit",
        metavar="REV",
        help="measure this commit's code (exported to a temporary folder), not the working tree",
    )
    args = parser.parse_args(argv)
    if "postgresql" in args.databases and not args.postgres_url:
        parser.error("PostgreSQL needs --postgres-url (or IATI_EC_TEST_POSTGRES_URL)")
    if args.runs < 1 or min(args.sizes) <= 0 or args.poll <= 0 or min(args.parts) < 1:
        parser.error("--runs, --sizes, --parts and --poll must be positive")
    if min(args.workers) < 0:
        parser.error("--workers must be 0 (the embedded worker) or more")
    if "sqlite" in args.databases and max(args.workers) > 1:
        parser.error("SQLite takes one worker process: --workers above 1 needs PostgreSQL only")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpora = {
        size: build_corpus(size, args.corpus_dir, args.tools) for size in sorted(set(args.sizes))
    }
    with tempfile.TemporaryDirectory(prefix="iati-ec-ingest-") as scratch:
        source = code(args.commit, Path(scratch) / "code")
        before = os.getloadavg()[0]
        measured = benchmark(corpora, args, Path(scratch), source)
        load = (before, os.getloadavg()[0])
    text = report(measured, args, load, source)
    print(text, end="")
    if args.markdown is not None:
        args.markdown.write_text(text, encoding="utf-8")
    if args.csv is not None:
        write_csv(measured, args.csv, source, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
