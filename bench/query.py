"""Time the query API at 100,000 activities on SQLite and PostgreSQL, beside its floors.

For each database: the corpus (`make_corpus.py`, about 124,000 activities at 1,300 MB, of
which about 104,000 are valid and stored) loaded with `iati-ec import` (see
`query_load.py`), or the database an earlier run loaded (`--reuse`); a real
`iati-ec serve` on it (uvicorn, one process); and this process as the client, driving it
with httpx from 1 and then 16 threads, one keep-alive connection each. Every level runs a
fixed mix — filtered activity lists (a reporting org, a DAC sector category, a recipient
country, a text search, `updated_since`, a second page through the cursor), two
aggregates and a change-feed page — `--requests` times per kind, interleaved, after
`--warmup` untimed rounds. Side by side in the same mix: `GET /health`, the floor of HTTP
and the framework, and two of the lists' own SQL statements (compiled by the service's
code) run through the database driver straight from the client, the floor of the
database. Then one full CSV export (`GET /api/v1/activities?format=csv`): time, bytes,
rows, and the server's RSS sampled from /proc/<pid>/status every 10 ms, against a
filtered export and the export's SQL read through the driver. Requests ask for
`Accept-Encoding: identity` (httpx asks for gzip by default; curl does not).

Run from the repository root:

    python bench/query.py --postgres-url postgresql+psycopg://user:pw@host/db
    python bench/query.py --reuse                  # the databases loaded by an earlier run
    python bench/query.py --load-only --databases postgresql
    python bench/query.py --size 0.3 --databases sqlite --requests 5   # a quick check

Progress goes to standard error, the Markdown tables to standard output.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from ingest import DATABASES, Server, code, progress, serve  # bench/, beside this script
from parse import MIB, TOOLS, build_corpus
from query_load import CHUNK, Loaded, chunks, copied, load, reused
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from service.services.query import ActivityFilter, activities_statement

HERE = Path(__file__).resolve().parent
# Filter values that exist in the corpus: the Asian Development Bank (about 3 % of the
# activities), DAC 122 basic health, Ecuador, and a word of about 7 % of the texts.
REPORTING_ORG, SECTOR, COUNTRY, WORD = "XM-DAC-46004", "122", "EC", "water"
TARGET_LIST_P95, TARGET_AGGREGATE_P95, TARGET_EXPORT = 0.050, 0.200, 30.0
HEADERS = {"Accept-Encoding": "identity"}


@dataclass
class Kind:
    """One kind of request in the mix: an HTTP GET, or a SQL statement through the driver."""

    name: str
    group: str  # "list", "aggregate", "changes", "floor"
    path: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    chosen: ActivityFilter | None = None  # the list's filter, for its SQL
    sql: tuple[str, Any] | None = None  # a statement and its parameters, for the driver
    answer: str = ""  # what one answer holds, for the table


@dataclass(frozen=True)
class Latency:
    database: str
    clients: int
    kind: Kind
    seconds: list[float]
    throughput: float  # requests/s of the whole level

    def percentile(self, share: int) -> float:
        if len(self.seconds) == 1:
            return self.seconds[0]
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[share - 1]


@dataclass(frozen=True)
class Export:
    database: str
    name: str
    seconds: float
    size: int  # bytes
    rows: int
    rss_before: int | None = None
    rss_peak: int | None = None


# Choosing the mix ---------------------------------------------------------------------------


def mix(loaded: Loaded, engine: Engine) -> list[Kind]:
    """The requests of the mix, with values from the loaded database."""
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT count(*) FROM activity WHERE deleted_at IS NULL")).scalar_one()
        recent = connection.execute(text(
            "SELECT updated_at FROM activity ORDER BY id LIMIT 1 OFFSET :skip"),
            {"skip": int(stored * 0.9)}).scalar_one()
        last_change = connection.execute(text("SELECT max(seq) FROM activity_change")).scalar()
    since = datetime.fromisoformat(recent) if isinstance(recent, str) else recent
    lists = [
        ("list · reporting_org", {"reporting_org": REPORTING_ORG},
         ActivityFilter(reporting_org=[REPORTING_ORG])),
        ("list · sector (DAC category)", {"sector": SECTOR}, ActivityFilter(sector=[SECTOR])),
        ("list · recipient_country", {"recipient_country": COUNTRY},
         ActivityFilter(recipient_country=[COUNTRY])),
        ("list · q (text search)", {"q": WORD}, ActivityFilter(q=WORD)),
        ("list · updated_since (newest 10 %)", {"updated_since": since.isoformat()},
         ActivityFilter(updated_since=since)),
    ]
    kinds = [Kind(name, "list", "/api/v1/activities", params, chosen)
             for name, params, chosen in lists]
    kinds += [
        Kind("list · reporting_org, page 2 (cursor)", "list", "/api/v1/activities",
             {"reporting_org": REPORTING_ORG}),
        Kind("aggregate · by reporting_org", "aggregate", "/api/v1/aggregates",
             {"group_by": "reporting_org"}),
        Kind("aggregate · by year and province, 2 measures", "aggregate", "/api/v1/aggregates",
             {"group_by": ["year", "province"], "measure": ["commitment", "disbursement"]}),
        Kind("changes · one page of 100", "changes", "/api/v1/changes",
             {"since": (last_change or 0) // 2, "limit": 100}),
        Kind("floor · GET /health", "floor", "/health"),
    ]
    for name in ("list · reporting_org", "list · sector (DAC category)"):
        listed = next(kind for kind in kinds if kind.name == name)
        kinds.append(Kind(f"floor · {name.removeprefix('list · ')}: its SQL via the driver",
                          "floor", chosen=listed.chosen,
                          sql=compiled(listed.chosen, engine, limit=101)))
    return kinds


def compiled(chosen: ActivityFilter | None, engine: Engine, *, limit: int | None,
             csv: bool = False) -> tuple[str, Any]:
    """The service's statement for `chosen` as SQL text and driver parameters."""
    statement = activities_statement(chosen or ActivityFilter(), dialect=engine.dialect.name)
    if limit is not None:
        statement = statement.limit(limit)
    made = statement.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = made.params
    if made.positional:
        params = tuple(made.params[name] for name in made.positiontup or ())
    return str(made), params


def describe(kinds: list[Kind], server: Server, key: str, engine: Engine) -> None:
    """Ask each request once: its answer's size for the table, and the page-2 cursor."""
    with httpx.Client(base_url=server.base, headers=_headers(key), timeout=None) as http:
        for kind in kinds:
            if kind.sql is not None:
                kind.answer = f"{len(run_sql(engine.raw_connection(), kind.sql))} rows"
                continue
            answer = http.get(kind.path, params=kind.params).raise_for_status().json()
            if kind.group == "list":
                kind.answer = f"{len(answer['activities'])} listed"
                if kind.name.endswith("(cursor)") and answer["next_cursor"]:
                    kind.params = {**kind.params, "cursor": answer["next_cursor"]}
            elif kind.group == "aggregate":
                kind.answer = f"{len(answer['rows'])} groups"
            elif kind.group == "changes":
                kind.answer = f"{len(answer['changes'])} changes"



def run_sql(connection: Any, statement: tuple[str, Any]) -> list[Any]:
    cursor = connection.cursor()
    try:
        cursor.execute(*statement)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _headers(key: str) -> dict[str, str]:
    return {**HEADERS, "Authorization": f"Bearer {key}"}


# Driving the server ---------------------------------------------------------------------------


def drive(kinds: list[Kind], server: Server, key: str, engine: Engine, *, clients: int,
          rounds: int, budget: float) -> tuple[dict[str, list[float]], float]:
    """`rounds` requests of every kind, interleaved, from `clients` threads; the seconds
    of each request by kind, and the wall time of them all. A kind stops being asked once
    its requests have taken `budget` seconds in all, so that a very slow one cannot hold
    up the run (the table then shows fewer requests for it)."""
    jobs = deque(kind for _ in range(rounds) for kind in kinds)
    timings: dict[str, list[float]] = {kind.name: [] for kind in kinds}

    def client() -> None:
        connection = engine.raw_connection()
        try:
            with httpx.Client(base_url=server.base, headers=_headers(key), timeout=None) as http:
                while jobs:
                    try:
                        kind = jobs.popleft()
                    except IndexError:  # another client took the last one
                        return
                    if sum(timings[kind.name]) < budget:
                        timings[kind.name].append(_timed(kind, http, connection))
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for running in [pool.submit(client) for _ in range(clients)]:
            running.result()  # a failed request fails the run
    return timings, time.perf_counter() - started


def _timed(kind: Kind, http: httpx.Client, connection: Any) -> float:
    started = time.perf_counter()
    if kind.sql is not None:
        run_sql(connection, kind.sql)
    else:
        http.get(kind.path, params=kind.params).raise_for_status()  # the body is read
    return time.perf_counter() - started


def latencies(kinds: list[Kind], server: Server, key: str, engine: Engine, label: str,
              args: argparse.Namespace) -> list[Latency]:
    found = []
    for clients in args.clients:
        drive(kinds, server, key, engine, clients=clients, rounds=args.warmup,
              budget=args.budget / 10)
        timings, wall = drive(kinds, server, key, engine, clients=clients, rounds=args.requests,
                              budget=args.budget)
        throughput = sum(map(len, timings.values())) / wall
        found += [Latency(label, clients, kind, timings[kind.name], throughput) for kind in kinds]
        progress(f"{label:10} {clients:2} client(s): {throughput:.0f} requests/s")
    return found


# The CSV export ---------------------------------------------------------------------------------


def rss(server: Server) -> int:
    """The server's resident set size now, in bytes."""
    status = Path(f"/proc/{server.process.pid}/status").read_text().splitlines()
    return int(next(line.split()[1] for line in status if line.startswith("VmRSS"))) * 1024


def export(server: Server, key: str, label: str, name: str,
           params: dict[str, Any]) -> Export:
    """One CSV export, streamed and counted, while a thread samples the server's RSS."""
    server.reset_peak()
    before, samples, done = rss(server), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            samples.append(rss(server))

    sampler = threading.Thread(target=sample)
    sampler.start()
    size = lines = 0
    started = time.perf_counter()
    try:
        with (httpx.Client(base_url=server.base, headers=_headers(key), timeout=None) as http,
              http.stream("GET", "/api/v1/activities",
                          params={**params, "format": "csv"}) as answer):
            answer.raise_for_status()
            for chunk in answer.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    finally:
        done.set()
        sampler.join()
    peak = max(max(samples), server.peak_rss())
    # Titles may hold line breaks (quoted): rows are counted by the line, an upper bound.
    progress(f"{label:10} {name}: {seconds:.1f} s, {size / MIB:.0f} MiB, "
             f"RSS {before / MIB:.0f} → {peak / MIB:.0f} MiB")
    return Export(label, name, seconds, size, lines - 1, before, peak)


def sql_export(engine: Engine, label: str) -> Export:
    """The export's statement, every row fetched through the driver (the database's floor)."""
    statement = compiled(None, engine, limit=None)
    connection = engine.raw_connection()
    started = time.perf_counter()
    try:
        cursor = connection.cursor()
        cursor.execute(*statement)
        rows = 0
        while batch := cursor.fetchmany(1000):
            rows += len(batch)
        cursor.close()
    finally:
        connection.close()
    return Export(label, "floor · its SQL via the driver, every row fetched",
                  time.perf_counter() - started, 0, rows)


def exports(server: Server, key: str, engine: Engine, label: str) -> list[Export]:
    return [
        sql_export(engine, label),
        export(server, key, label, f"filtered: reporting_org={REPORTING_ORG}",
               {"reporting_org": REPORTING_ORG}),
        export(server, key, label, "full: every activity", {}),
    ]


# One database ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    database: str
    stored: int
    loaded: Loaded
    size: int  # bytes on disk
    version: str


def facts(loaded: Loaded, engine: Engine) -> Facts:
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT count(*) FROM activity WHERE deleted_at IS NULL")).scalar_one()
        if engine.dialect.name == "sqlite":
            path = Path(str(engine.url.database))
            size = sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*"))
            version = f"SQLite {sqlite3.sqlite_version}"
        else:
            size = connection.execute(text(
                "SELECT pg_database_size(current_database())")).scalar_one()
            version = str(connection.execute(text("SHOW server_version")).scalar_one())
            version = f"PostgreSQL {version.split()[0]}"
    return Facts(DATABASES[loaded.kind], stored, loaded, size, version)


def measure(loaded: Loaded, folder: Path, args: argparse.Namespace
            ) -> tuple[Facts, list[Latency], list[Export]]:
    label = DATABASES[loaded.kind]
    engine = create_engine(loaded.url, poolclass=NullPool)
    source = code(None, folder / "code")
    try:
        # The API alone: no page warming competing with the measured requests.
        with serve(loaded.url, folder, source, IATI_EC_WARM_PAGES="false") as server:
            kinds = mix(loaded, engine)
            describe(kinds, server, loaded.read_key, engine)
            found = latencies(kinds, server, loaded.read_key, engine, label, args)
            exported = exports(server, loaded.read_key, engine, label)
        return facts(loaded, engine), found, exported
    finally:
        engine.dispose()


# Reporting ----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def latency_table(found: list[Latency]) -> list[str]:
    lines = [
        "| database | clients | request | one answer | requests | p50 ms | p95 ms | p99 ms "
        "| level's requests/s |",
        "|---|--:|---|---|--:|--:|--:|--:|--:|",
    ]
    for entry in found:
        lines.append(
            f"| {entry.database} | {entry.clients} | {entry.kind.name} | {entry.kind.answer} | "
            f"{len(entry.seconds)} | {_ms(entry.percentile(50))} | {_ms(entry.percentile(95))} "
            f"| {_ms(entry.percentile(99))} | {entry.throughput:,.0f} |"
        )
    return lines


def export_table(found: list[Export]) -> list[str]:
    lines = [
        "| database | CSV export | s | MiB | rows | rows/s | server RSS before MiB "
        "| server peak RSS MiB | growth MiB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for entry in found:
        memory = ["—", "—", "—"]
        if entry.rss_before is not None and entry.rss_peak is not None:
            growth = entry.rss_peak - entry.rss_before
            memory = [f"{entry.rss_before / MIB:.1f}", f"{entry.rss_peak / MIB:.1f}",
                      f"{growth / MIB:+.1f}"]
        size = f"{entry.size / MIB:,.1f}" if entry.size else "—"
        lines.append(
            f"| {entry.database} | {entry.name} | {entry.seconds:.2f} | {size} | "
            f"{entry.rows:,} | {entry.rows / entry.seconds:,.0f} | {' | '.join(memory)} |"
        )
    return lines


def targets_table(found: list[Latency], exported: list[Export]) -> list[str]:
    lines = ["| target | database | measured | met |", "|---|---|---|---|"]
    for database in dict.fromkeys(entry.database for entry in found):
        alone = [e for e in found if e.database == database and e.clients == 1]
        for group, limit, label in (("list", TARGET_LIST_P95, "filtered list p95"),
                                    ("aggregate", TARGET_AGGREGATE_P95, "aggregate p95")):
            worst = max((e for e in alone if e.kind.group == group),
                        key=lambda e: e.percentile(95), default=None)
            if worst is not None:
                p95 = worst.percentile(95)
                lines.append(
                    f"| {label} < {limit * 1000:.0f} ms at 1 client | {database} | "
                    f"{_ms(p95)} ms at worst ({worst.kind.name}) | "
                    f"{'yes' if p95 < limit else '**no**'} |")
        full = next((e for e in exported if e.database == database and e.name.startswith("full")),
                    None)
        if full is not None and full.rss_before and full.rss_peak:
            growth = (full.rss_peak - full.rss_before) / full.rss_before
            lines += [
                f"| full CSV export < {TARGET_EXPORT:.0f} s | {database} | "
                f"{full.seconds:.1f} s for {full.rows:,} rows | "
                f"{'yes' if full.seconds < TARGET_EXPORT else '**no**'} |",
                f"| flat server memory during it (peak within 10 % of before) | {database} | "
                f"{full.rss_before / MIB:.0f} → {full.rss_peak / MIB:.0f} MiB "
                f"({growth:+.0%}) | {'yes' if growth <= 0.10 else '**no**'} |",
            ]
    return lines


def facts_table(found: list[Facts]) -> list[str]:
    lines = [
        "| database | activities stored (live) | load: activities pushed | load time | "
        "pushed/s | on disk MiB |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for entry in found:
        counts = ", ".join(f"{count:,} {name}" for name, count in entry.loaded.counts.items())
        how = f"{entry.loaded.seconds / 60:.1f} min"
        rate = f"{entry.loaded.rate:.0f}"
        if entry.loaded.copied_from:
            how, rate = f"rows copied from {DATABASES[entry.loaded.copied_from]}: {how}", "—"
        lines.append(
            f"| {entry.version} | {entry.stored:,} | {entry.loaded.seen:,} ({counts}) | "
            f"{how} | {rate} | {entry.size / MIB:,.0f} |"
        )
    return lines


def report(found: list[Facts], timed: list[Latency], exported: list[Export],
           args: argparse.Namespace, load: tuple[float, float]) -> str:
    head = (
        f"Machine: nproc {len(os.sched_getaffinity(0))}, Python {platform.python_version()}, "
        f"{platform.platform()}. Server: one `iati-ec serve` process (uvicorn); client: this "
        f"process, {' then '.join(map(str, args.clients))} thread(s), {args.requests} timed "
        f"requests per kind and level after {args.warmup} untimed. "
        f"Load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after."
    )
    return "\n".join([head, "", *facts_table(found), "", *latency_table(timed), "",
                      *export_table(exported), "", *targets_table(timed, exported)]) + "\n"


# The command line ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--size", type=float, default=1300.0,
        help="corpus size in MB (default 1300: about 124,000 activities, 104,000 stored)")
    add("--databases", nargs="+", choices=list(DATABASES), default=list(DATABASES))
    add("--postgres-url", default=os.environ.get("IATI_EC_TEST_POSTGRES_URL"),
        help="PostgreSQL server to create the database on (default: "
        "$IATI_EC_TEST_POSTGRES_URL); its role must be allowed to create databases")
    add("--reuse", action="store_true",
        help="use the databases an earlier run loaded, if there (the load takes 15-35 min)")
    add("--postgres-from-sqlite", action="store_true",
        help="load PostgreSQL by copying the rows the SQLite load stored, table by table, "
        "instead of pushing the corpus again (much faster on a busy machine)")
    add("--load-only", action="store_true", help="load the databases, measure nothing")
    add("--clients", type=int, nargs="+", default=[1, 16], help="concurrent clients per level")
    add("--requests", type=int, default=200, help="timed requests per kind and level")
    add("--warmup", type=int, default=10, help="untimed rounds of the mix before each level")
    add("--budget", type=float, default=60.0,
        help="seconds of requests at most per kind and level (a very slow kind is cut short)")
    add("--chunk", type=int, default=CHUNK, help="activities per imported file")
    add("--corpus-dir", type=Path, default=HERE / "corpus",
        help="where the corpus and the databases are kept (default: bench/corpus/)")
    add("--tools", type=Path, default=TOOLS, help="folder of the shared make_corpus.py")
    add("--markdown", type=Path, metavar="FILE", help="also write the Markdown report to FILE")
    args = parser.parse_args(argv)
    if "postgresql" in args.databases and not args.postgres_url:
        parser.error("PostgreSQL needs --postgres-url (or IATI_EC_TEST_POSTGRES_URL)")
    if min(args.clients) < 1 or args.requests < 1 or args.warmup < 0 or args.size <= 0:
        parser.error("--clients, --requests and --size must be positive")
    return args


def loaded_database(kind: str, corpus: Path, folder: Path, args: argparse.Namespace,
                    scratch: Path) -> Loaded:
    found = reused(kind, args.corpus_dir, corpus) if args.reuse else None
    if found is not None:
        progress(f"{DATABASES[kind]}: reusing {found.stored:,} activities loaded earlier")
        return found
    source = code(None, scratch / "code")
    if kind == "postgresql" and args.postgres_from_sqlite:
        sqlite = reused("sqlite", args.corpus_dir, corpus)
        if sqlite is None:
            sys.exit("--postgres-from-sqlite needs the SQLite database loaded first")
        return copied(sqlite, folder, corpus, source, args.postgres_url)
    files = chunks(corpus, args.tools, args.chunk)
    return load(kind, corpus, files, folder, source, args.postgres_url)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = build_corpus(args.size, args.corpus_dir, args.tools)
    found: list[Facts] = []
    timed: list[Latency] = []
    exported: list[Export] = []
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="iati-ec-query-") as scratch:
        for kind in args.databases:
            loaded = loaded_database(kind, corpus, args.corpus_dir, args, Path(scratch))
            if args.load_only:
                continue
            facts_of, latency_of, exports_of = measure(loaded, Path(scratch), args)
            found.append(facts_of)
            timed += latency_of
            exported += exports_of
    if args.load_only:
        return 0
    text_ = report(found, timed, exported, args, (before, os.getloadavg()[0]))
    print(text_, end="")
    if args.markdown is not None:
        args.markdown.write_text(text_, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
