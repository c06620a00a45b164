"""Load the query benchmark's corpus into a SQLite file or a PostgreSQL database, kept for reuse.

The corpus (`make_corpus.py`) is cut into files of `CHUNK` activities, byte for byte, and
each file is pushed with `iati-ec import FILE --org REF`, the service's own push, in a
fresh process: no push document grows with the whole corpus, and a failure costs one file.
One organisation holds every reporting-org/@ref of the corpus. What was loaded (the
database URL, the activities stored, the time taken, a read key) is written beside the
database as JSON, so that `--reuse` can skip the load next time.
"""

from __future__ import annotations

import importlib.util
import json
import mmap
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

from ingest import Code, progress  # bench/ingest.py, beside this script
from lxml import etree
from sqlalchemy import Integer, create_engine, make_url
from sqlalchemy.pool import NullPool

CHUNK = 10_000  # activities per imported file
PUSHED = re.compile(r"push \S+: (\d+) activities: (.*)")


@dataclass(frozen=True)
class Loaded:
    """A loaded database: where it is, what it holds, what loading it cost."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    corpus: str
    seen: int
    stored: int
    counts: dict[str, int]
    seconds: float
    org: str
    read_key: str
    copied_from: str | None = None  # loaded by copying this database's rows, not by pushes

    @property
    def rate(self) -> float:
        return self.seen / self.seconds


def _make_corpus(tools: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", tools / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def chunks(corpus: Path, tools: Path, size: int = CHUNK) -> list[Path]:
    """`corpus` cut into files of `size` activities (made once, beside it), in order."""
    folder = corpus.parent / f"{corpus.stem}-chunks-{size}"
    done = folder / "complete"
    if done.exists():
        return sorted(folder.glob("chunk-*.xml"))
    progress(f"cutting {corpus.name} into files of {size:,} activities …")
    folder.mkdir(parents=True, exist_ok=True)
    splitter = _make_corpus(tools)
    with corpus.open("rb") as raw, mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as xml:
        # make_corpus writes the declaration and the root's start tag on the first two lines.
        header = xml[: xml.find(b"\n", xml.find(b"<iati-activities")) + 1]
        written: list[Path] = []
        batch: list[bytes] = []
        for activity in splitter.split_activities(xml):
            batch.append(b"  " + activity + b"\n")
            if len(batch) == size:
                written.append(_write(folder, len(written), header, batch))
                batch = []
        if batch:
            written.append(_write(folder, len(written), header, batch))
    done.write_text(f"{len(written)}\n")
    return written


def _write(folder: Path, number: int, header: bytes, batch: list[bytes]) -> Path:
    path = folder / f"chunk-{number:03d}.xml"
    path.write_bytes(header + b"".join(batch) + b"</iati-activities>\n")
    return path


def reporting_orgs(chunk: Path) -> list[str]:
    """The reporting-org/@ref values of `chunk` (the corpus cycles through every source
    activity within its first few thousand, so the first chunk has them all)."""
    refs: set[str] = set()
    for _, element in etree.iterparse(str(chunk), tag="reporting-org"):
        refs.add((element.get("ref") or "").strip())
        element.clear()
    return sorted(refs - {""})


def cli(url: str, folder: Path, source: Code, *arguments: str,
        accept: tuple[int, ...] = (0,)) -> str:
    """Run `iati-ec ARGUMENTS` on the database `url`; its output. (`import` exits 1 when
    some activity is rejected, as some of the corpus's are.)"""
    done = subprocess.run(
        [sys.executable, "-m", "service", *arguments], cwd=folder,
        env=source.environment(DATABASE_URL=url), capture_output=True, text=True, check=False,
    )
    if done.returncode not in accept:
        sys.exit(f"iati-ec {' '.join(arguments[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def stamp_path(folder: Path, corpus: Path, kind: str) -> Path:
    return folder / f"query-{corpus.stem}-{kind}.json"


def database_url(kind: str, folder: Path, corpus: Path, postgres_url: str | None) -> str:
    """The URL of the benchmark's database of `kind` for `corpus`, made new and empty."""
    if kind == "sqlite":
        path = folder / f"query-{corpus.stem}.sqlite"
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    assert postgres_url is not None
    name = f"iati_ec_bench_query_{corpus.stem.replace('-', '_').replace('.', '_')}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def load(kind: str, corpus: Path, files: list[Path], folder: Path, source: Code,
         postgres_url: str | None) -> Loaded:
    """A new database of `kind` holding `files`, pushed one by one; its stamp written."""
    url = database_url(kind, folder, corpus, postgres_url)
    refs = reporting_orgs(files[0])
    cli(url, folder, source, "db", "upgrade")
    cli(url, folder, source, "orgs", "add", *[f"--ref={ref}" for ref in refs],
        "--name", "Benchmark publisher", "--role", "donor")
    read_key = cli(url, folder, source, "keys", "create", "--org", refs[0],
                   "--scope", "read").split()[-1]
    seen, counts, started = 0, dict[str, int](), time.perf_counter()
    for number, path in enumerate(files):
        done = cli(url, folder, source, "import", str(path), "--org", refs[0], accept=(0, 1))
        line = next(match for match in map(PUSHED.match, done.splitlines()) if match)
        seen += int(line.group(1))
        for part in line.group(2).split(", "):
            count, outcome = part.split(" ", 1)
            counts[outcome] = counts.get(outcome, 0) + int(count)
        elapsed = time.perf_counter() - started
        progress(f"{kind:10} file {number + 1}/{len(files)}: {seen:,} activities in "
                 f"{elapsed:.0f} s ({seen / elapsed:.0f}/s) {counts}")
    loaded = Loaded(kind, url, corpus.name, seen, counts.get("created", 0),
                    {name: count for name, count in counts.items() if count},
                    time.perf_counter() - started, refs[0], read_key)
    stamp_path(folder, corpus, kind).write_text(json.dumps(asdict(loaded), indent=1))
    return loaded


def reused(kind: str, folder: Path, corpus: Path) -> Loaded | None:
    """The database of `kind` loaded by an earlier run, if its stamp is there."""
    stamp = stamp_path(folder, corpus, kind)
    if not stamp.exists():
        return None
    return Loaded(**json.loads(stamp.read_text()))


def copied(sqlite: Loaded, folder: Path, corpus: Path, source: Code,
           postgres_url: str) -> Loaded:
    """A new PostgreSQL database holding the rows `sqlite`'s load stored, copied table by
    table through the service's own table definitions (the push into PostgreSQL, at about
    100 activities/s on a quiet machine and 20/s on a busy one, is measured by ingest.py)."""
    from service.models import Activity  # registers every table of the service


    url = database_url("postgresql", folder, corpus, postgres_url)
    cli(url, folder, source, "db", "upgrade")
    reader = create_engine(sqlite.url, poolclass=NullPool)
    writer = create_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    try:
        with reader.connect() as origin, writer.begin() as target:
            for table in Activity.metadata.sorted_tables:
                target.execute(table.delete())  # rows the migrations seeded (counters)
                rows = origin.execution_options(yield_per=2000).execute(table.select())
                for batch in rows.mappings().partitions():
                    target.execute(table.insert(), [dict(row) for row in batch])
                # the keys the database gives (`read_event`'s is `seq`) go on after the rows
                for key in ("id", "seq"):
                    if key in table.c and table.c[key].primary_key and isinstance(
                            table.c[key].type, Integer):
                        target.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key}'), "
                            f"(SELECT coalesce(max({key}), 1) FROM \"{table.name}\"))")
                progress(f"copied {table.name}")
            target.exec_driver_sql("ANALYZE")
    finally:
        reader.dispose()
        writer.dispose()
    loaded = Loaded("postgresql", url, corpus.name, sqlite.seen, sqlite.stored, sqlite.counts,
                    time.perf_counter() - started, sqlite.org, sqlite.read_key,
                    copied_from="sqlite")
    stamp_path(folder, corpus, "postgresql").write_text(json.dumps(asdict(loaded), indent=1))
    return loaded
