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

Run from the repository root:

    python bench/ingest.py --postgres-url postgresql+psycopg://user:pw@host/db
    python bench/ingest.py --sizes 10 --databases sqlite
    python bench/ingest.py --markdown figures.md    # also write the tables to a file

The PostgreSQL server may also be given by IATI_EC_TEST_POSTGRES_URL; its role must be
allowed to create databases. Progress goes to standard error, the tables to standard
output.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
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


@dataclass
class Server:
    """A running `iati-ec serve`: its process and base URL."""

    process: subprocess.Popen[bytes]
    base: str

    def cpu(self) -> float:
        """The CPU seconds (user + system) the server has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def reset_peak(self) -> None:
        """Start the peak RSS (VmHWM) afresh from the current RSS."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def peak_rss(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM"))) * 1024


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


def push(
    server: Server,
    key: str,
    corpus: Path,
    step: str,
    *,
    size: float,
    database: str,
    poll: float,
    watch: Watch | None,
) -> Measured:
    """Push `corpus` once over HTTP and wait for the push to end: polling it over HTTP, or
    with `watch`, reading its status from the database (the server then answers no polls)."""
    server.reset_peak()
    cpu = server.cpu()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=None) as http:
        started = time.time()
        with corpus.open("rb") as body:
            answer = http.post("/api/v1/activities", content=body)
        if answer.status_code not in (200, 202):
            sys.exit(f"push failed: {answer.status_code} {answer.text[:2000]}")
        document, polls = answer.json(), 0
        address = f"/api/v1/pushes/{document['id']}"
        while watch is not None and watch(document["id"]) == "running":
            time.sleep(poll)
        while watch is None and document["status"] == "running":
            time.sleep(poll)
            document, polls = http.get(address).raise_for_status().json(), polls + 1
        used, peak = server.cpu() - cpu, server.peak_rss()
        asked = time.perf_counter()
        document = http.get(address).raise_for_status().json()  # what one more poll costs
        answered = time.perf_counter() - asked
    if document["status"] != "completed":
        sys.exit(f"push {document['id']} ended {document['status']}: {document['findings']}")
    finished = datetime.fromisoformat(document["finished_at"]).timestamp()
    counts = {name: count for name, count in document["counts"].items() if count}
    return Measured(
        size,
        database,
        step,
        finished - started,
        document["activities_seen"],
        used,
        peak,
        counts,
        None if watch else polls,
        answered,
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


def ingest(
    kind: str, corpus: Path, size: float, folder: Path, source: Code, args: argparse.Namespace
) -> list[Measured]:
    """A fresh database of `kind`, a server on it, and `corpus` pushed twice."""
    label = DATABASES[kind]
    with (
        database(kind, folder, args.postgres_url) as url,
        serve(url, folder, source, IATI_EC_WARM_PAGES="false",
              IATI_EC_EMBEDDED_WORKER="true") as server,
        watching(url) as watch,
    ):
        key = publish_key(url, folder, source, corpus)
        warm_up(server, corpus)
        measured = []
        for step in ("first push", "re-push (unchanged)"):
            done = push(
                server,
                key,
                corpus,
                step,
                size=size,
                database=label,
                poll=args.poll,
                watch=watch if args.watch == "database" else None,
            )
            progress(
                f"{size:g} MB {label:10} {step:20} {done.wall:8.2f} s "
                f"{done.rate:8.0f} act/s  {done.counts}"
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
    return Measured(size, "", step, float(seconds), int(count), peak_rss=int(peak))


def benchmark(
    corpora: dict[float, Path], args: argparse.Namespace, folder: Path, source: Code
) -> list[Measured]:
    """Readers and pushes for every corpus, `args.runs` rounds each."""
    measured: list[Measured] = []
    for size, corpus in corpora.items():
        warm(corpus)
        for _round in range(args.runs):
            for step, script in READERS.items():
                measured.append(read(corpus, size, step, script, source))
            for kind in args.databases:
                measured += ingest(kind, corpus, size, folder, source, args)
    return measured


# Reporting ---------------------------------------------------------------------------------


def medians(measured: list[Measured]) -> list[Measured]:
    """One entry per corpus, database and step: the median wall time of its rounds."""
    groups: dict[tuple[float, str, str], list[Measured]] = {}
    for entry in measured:
        groups.setdefault((entry.corpus, entry.database, entry.step), []).append(entry)
    return [
        sorted(group, key=lambda entry: entry.wall)[(len(group) - 1) // 2]
        for group in groups.values()
    ]


def _mib(value: int | None) -> str:
    return "—" if value is None else f"{value / MIB:.1f}"


def _figure(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


def results_table(entries: list[Measured]) -> list[str]:
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


def targets_table(entries: list[Measured]) -> list[str]:
    largest = max(entry.corpus for entry in entries)
    pushes = {(e.database, e.step): e for e in entries if e.corpus == largest and e.database}
    lines = [f"| target ({largest:g} MB corpus) | measured | met |", "|---|---|---|"]
    first = pushes.get(("PostgreSQL", "first push"))
    if first is not None:
        met = "yes" if first.rate >= TARGET_RATE else "no"
        lines.append(
            f"| ≥ {TARGET_RATE:,.0f} activities/s into PostgreSQL | "
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
    add(
        "--commit",
        metavar="REV",
        help="measure this commit's code (exported to a temporary folder), not the working tree",
    )
    args = parser.parse_args(argv)
    if "postgresql" in args.databases and not args.postgres_url:
        parser.error("PostgreSQL needs --postgres-url (or IATI_EC_TEST_POSTGRES_URL)")
    if args.runs < 1 or min(args.sizes) <= 0 or args.poll <= 0:
        parser.error("--runs, --sizes and --poll must be positive")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
