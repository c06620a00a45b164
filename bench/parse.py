"""Time iati-ec's streaming reader and validator against the lxml floor, side by side in one run.

Each reader runs in a fresh interpreter, one process at a time, the readers interleaved
round after round (floor, full read, read + validate, naive, floor, …) so that a busy
moment on a shared machine hits all of them alike. Medians are reported, with each
reader's ratio to the floor measured in the same run.

Run from the repository root:

    python bench/parse.py                          # 10 and 100 MB, 5 rounds
    python bench/parse.py --sizes 1000 --runs 1    # the 1 GB memory check
    python bench/parse.py --markdown figures.md    # also write the tables to a file
    python bench/parse.py --csv runs.csv           # and every run's raw figures
    python bench/parse.py --commit HEAD            # measure a commit, not the working tree

Corpora are built on demand by the shared `make_corpus.py` and reused (`bench/corpus/`
is git-ignored). Progress goes to standard error, the Markdown tables to standard output.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# The shared benchmark tools beside the checkout (../shared), or where IATI_EC_SHARED points.
TOOLS = Path(os.environ.get("IATI_EC_SHARED", HERE.parents[1] / "shared")) / "bench"
GNU_TIME = Path("/usr/bin/time")
MEGABYTE = 1_000_000
MIB = 1024 * 1024
FLAT = 0.10  # "memory flat": peak RSS at the largest corpus within 10 % of the smallest's
TARGETS = {"read": 4.0, "validate": 6.0}  # ratio to the floor's wall time, from the issue

READ = """\
import sys
from iati.reader import read_activities
count = 0
for record in read_activities(sys.argv[1]):
    count += 1  # the record is dropped when the next one is read
print(count)
"""

VALIDATE = """\
import json, os, sys
from datetime import date
from iati.validate import validate
# As `iati-ec validate --json` does: every record's findings serialised as they are found.
with open(os.devnull, "w") as sink:
    report = validate(
        sys.argv[1], today=date(2026, 11, 27),
        on_record=lambda record: sink.write(json.dumps(record.as_dict())),
    )
if report.fatal:
    sys.exit(f"unreadable: {report.fatal}")
print(report.record_count, "activities,", report.summary_total(), "findings")
"""

# The reader's own rusage, as GNU time gives it. Not the parent's wait4 nor RUSAGE_CHILDREN:
# a child spawned by this script inherits its ~20 MiB high-water mark through exec, and
# RUSAGE_CHILDREN keeps the largest of all children so far. This wrapper is ~8 MiB.
RUSAGE = """\
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    report.write(f"{wall} {usage.ru_utime} {usage.ru_stime} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Source:
    """The iati-ec code the readers import: a folder holding `iati/`, and what it is."""

    folder: Path
    description: str


@dataclass(frozen=True)
class Contender:
    """One way of reading a corpus: a command to which the corpus path is appended."""

    key: str
    label: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """What one process cost: wall and CPU seconds, peak resident memory in bytes."""

    wall: float
    user: float
    system: float
    peak_rss: int
    activities: int


@dataclass(frozen=True)
class Summary:
    """One reader on one corpus over all rounds, next to the floor of the same rounds."""

    contender: Contender
    megabytes: float
    size: int
    runs: list[Run]
    floor: list[Run]

    @property
    def wall(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def user(self) -> float:
        return statistics.median(run.user for run in self.runs)

    @property
    def ratio(self) -> float:
        return self.wall / statistics.median(run.wall for run in self.floor)

    @property
    def cpu_ratio(self) -> float:
        return self.user / statistics.median(run.user for run in self.floor)

    @property
    def best_ratio(self) -> float:
        """Fastest run over the floor's fastest: what the code costs when nothing interferes."""
        return min(run.wall for run in self.runs) / min(run.wall for run in self.floor)

    @property
    def peak_rss(self) -> int:
        return max(run.peak_rss for run in self.runs)

    @property
    def spread(self) -> float:
        walls = [run.wall for run in self.runs]
        return (max(walls) - min(walls)) / self.wall


def contenders(tools: Path) -> list[Contender]:
    python = sys.executable
    return [
        Contender("floor", "floor (lxml iterparse, count only)", (python, str(tools / "floor.py"))),
        Contender("read", "full model read (iati-ec)", (python, "-c", READ)),
        Contender("validate", "read + validate, 3 stages (iati-ec)", (python, "-c", VALIDATE)),
        Contender("naive", "naive full model, dicts (reference)",
                  (python, str(tools / "naive_full_model.py"))),
    ]


def source(commit: str | None, scratch: Path) -> Source:
    """The working tree, or `commit`'s `iati/` exported to `scratch` (frozen while others edit)."""
    if commit is None:
        try:
            head = _git("rev-parse", "--short", "HEAD").decode().strip()
            edited = _git("status", "--porcelain", "--", "iati").strip()
        except (OSError, subprocess.CalledProcessError):
            return Source(REPO, f"the working tree {REPO} (not a git checkout)")
        state = "with uncommitted changes in iati/" if edited else "iati/ unmodified"
        return Source(REPO, f"the working tree at commit {head}, {state}")
    try:
        name = _git("rev-parse", "--short", f"{commit}^{{commit}}").decode().strip()
        exported = _git("archive", name, "iati")
    except (OSError, subprocess.CalledProcessError) as error:
        sys.exit(f"cannot export iati/ at {commit!r}: {getattr(error, 'stderr', error)!r}")
    with tarfile.open(fileobj=io.BytesIO(exported)) as archive:
        archive.extractall(scratch, filter="data")
    return Source(scratch, f"commit {name} (its iati/ exported with git archive)")


def _git(*arguments: str) -> bytes:
    return subprocess.run(["git", "-C", str(REPO), *arguments], capture_output=True,
                          check=True).stdout


def build_corpus(megabytes: float, folder: Path, tools: Path) -> Path:
    """The corpus of about `megabytes` MB in `folder`, built by make_corpus.py if absent."""
    path = folder / f"corpus-{megabytes:g}.xml"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"building {path} …", file=sys.stderr)
        command = [sys.executable, str(tools / "make_corpus.py"), "--size", f"{megabytes:g}",
                   "--output", str(path)]
        built = subprocess.run(command, capture_output=True, text=True, check=False)
        if built.returncode != 0:
            sys.exit(f"make_corpus.py failed:\n{built.stderr}")
    return path


def warm(path: Path) -> None:
    """Read the file once so that no contender pays for the first read from disk."""
    with path.open("rb") as corpus:
        while corpus.read(MIB):
            pass


def measure(reader: Contender, corpus: Path, method: str, code: Source) -> Run:
    """Run `reader` on `corpus` once, alone, in `code.folder` (so `-c` imports its `iati`).

    A wrapper forks the reader and reports the reader's own rusage: GNU `time -v`, or
    else RUSAGE, a few lines of Python doing the same.
    """
    command = [*reader.command, str(corpus)]
    with tempfile.TemporaryDirectory() as scratch:
        usage = Path(scratch) / "usage"
        if method == "time":
            wrapped = [str(GNU_TIME), "-v", "-o", str(usage), *command]
        else:
            wrapped = [sys.executable, "-S", "-c", RUSAGE, str(usage), *command]
        start = time.perf_counter()
        done = subprocess.run(wrapped, capture_output=True, text=True, cwd=code.folder,
                              check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{reader.label} failed on {corpus} (exit {done.returncode}):\n"
                     f"{done.stderr}")
        activities = int(re.search(r"\d+", done.stdout).group())  # type: ignore[union-attr]
        if method == "python":
            wall, user, system, peak = (float(field) for field in usage.read_text().split())
            return Run(wall, user, system, int(peak) * 1024, activities)
        fields = _time_fields(usage.read_text())
        return Run(wall, float(fields["User time (seconds)"]),
                   float(fields["System time (seconds)"]),
                   int(fields["Maximum resident set size (kbytes)"]) * 1024, activities)


def _time_fields(report: str) -> dict[str, str]:
    """GNU time -v's report as {label: value}."""
    pairs = (line.strip().rpartition(": ") for line in report.splitlines())
    return {label: value for label, _, value in pairs if label}


def benchmark(corpora: dict[float, Path], readers: list[Contender], runs: int,
              method: str, code: Source) -> list[Summary]:
    """Every reader on every corpus, `runs` interleaved rounds per corpus."""
    summaries = []
    for megabytes, path in corpora.items():
        warm(path)
        measured: dict[str, list[Run]] = {reader.key: [] for reader in readers}
        for round_ in range(1, runs + 1):
            for reader in readers:
                run = measure(reader, path, method, code)
                measured[reader.key].append(run)
                print(f"{megabytes:g} MB round {round_}/{runs} {reader.key:8} {run.wall:7.2f} s "
                      f"user {run.user:7.2f} s  {run.peak_rss / MIB:7.1f} MiB", file=sys.stderr)
        counts = {run.activities for series in measured.values() for run in series}
        if len(counts) != 1:
            sys.exit(f"the readers disagree on the number of activities in {path}: {counts}")
        size = path.stat().st_size
        summaries += [Summary(reader, megabytes, size, measured[reader.key], measured["floor"])
                      for reader in readers]
    return summaries


def results_table(summaries: list[Summary]) -> list[str]:
    lines = [
        "| corpus | reader | wall s (median) | × floor | user CPU s (median) | CPU × floor "
        "| MB/s | activities/s | peak RSS MiB | wall spread |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for entry in summaries:
        activities = entry.runs[0].activities
        lines.append(
            f"| {entry.megabytes:g} MB ({activities:,} act.) | {entry.contender.label} "
            f"| {entry.wall:.2f} | {entry.ratio:.2f} | {entry.user:.2f} | {entry.cpu_ratio:.2f} "
            f"| {entry.size / MEGABYTE / entry.wall:.1f} | {activities / entry.wall:,.0f} "
            f"| {entry.peak_rss / MIB:.1f} | {entry.spread:.0%} |"
        )
    return lines


def growth_table(small: list[Summary], large: list[Summary]) -> list[str]:
    lines = [
        f"| reader | peak RSS {small[0].megabytes:g} MB | peak RSS {large[0].megabytes:g} MB "
        "| growth | flat (≤ 10 %) |",
        "|---|--:|--:|--:|---|",
    ]
    for before, after in zip(small, large, strict=True):
        growth = after.peak_rss - before.peak_rss
        flat = growth <= FLAT * before.peak_rss
        lines.append(
            f"| {before.contender.label} | {before.peak_rss / MIB:.1f} MiB "
            f"| {after.peak_rss / MIB:.1f} MiB | {growth / MIB:+.1f} MiB "
            f"({growth / before.peak_rss:+.0%}) | {'yes' if flat else 'no'} |"
        )
    return lines


def targets_table(small: list[Summary], large: list[Summary]) -> list[str]:
    """The issue's targets, judged on the largest corpus (start-up weighs least there)."""
    lines = [f"| target ({large[0].megabytes:g} MB corpus) | measured | met |", "|---|---|---|"]
    for entry in large:
        limit = TARGETS.get(entry.contender.key)
        if limit is not None:
            met = "yes" if entry.ratio <= limit else "no"
            lines.append(f"| {entry.contender.label} within {limit:g}× the floor "
                         f"| {entry.ratio:.2f}× wall ({entry.best_ratio:.2f}× fastest runs), "
                         f"{entry.cpu_ratio:.2f}× user CPU | {met} |")
    for before, after in zip(small, large, strict=True):
        if before is not after and after.contender.key in TARGETS:
            flat = after.peak_rss - before.peak_rss <= FLAT * before.peak_rss
            lines.append(f"| {after.contender.label}: peak RSS flat "
                         f"from {before.megabytes:g} to {after.megabytes:g} MB "
                         f"| {before.peak_rss / MIB:.1f} → {after.peak_rss / MIB:.1f} MiB "
                         f"| {'yes' if flat else 'no'} |")
    return lines


def machine(method: str, runs: int, load: tuple[float, float], code: Source) -> list[str]:
    how = "GNU `/usr/bin/time -v`" if method == "time" else "a Python `wait4` wrapper"
    return [
        f"Command: `{' '.join(['python', 'bench/parse.py', *sys.argv[1:]])}`",
        "",
        f"Code measured: {code.description}.",
        "",
        f"Machine: nproc {len(os.sched_getaffinity(0))}, "
        f"Python {platform.python_version()}, lxml {etree.__version__} "
        f"(libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}), {platform.platform()}. "
        f"{runs} interleaved rounds; wall time by `perf_counter` around each reader process, "
        f"peak RSS and user CPU by {how}. "
        f"Load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after.",
    ]


def report(summaries: list[Summary], method: str, runs: int,
           load: tuple[float, float], code: Source) -> str:
    sizes = sorted({entry.megabytes for entry in summaries})
    small = [entry for entry in summaries if entry.megabytes == sizes[0]]
    large = [entry for entry in summaries if entry.megabytes == sizes[-1]]
    lines = [*machine(method, runs, load, code), "", *results_table(summaries)]
    if len(sizes) > 1:
        lines += ["", *growth_table(small, large)]
    lines += ["", *targets_table(small, large)]
    return "\n".join(lines) + "\n"


def write_csv(summaries: list[Summary], path: Path, code: Source) -> None:
    """Every run of every reader, one row each, in the order of the rounds."""
    with path.open("w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["code", "corpus_mb", "corpus_bytes", "activities", "reader", "round",
                         "wall_s", "user_s", "system_s", "peak_rss_bytes"])
        for entry in summaries:
            for round_, run in enumerate(entry.runs, start=1):
                writer.writerow([code.description, f"{entry.megabytes:g}", entry.size,
                                 run.activities, entry.contender.key, round_, f"{run.wall:.3f}",
                                 f"{run.user:.3f}", f"{run.system:.3f}", run.peak_rss])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--sizes", type=float, nargs="+", default=[10.0, 100.0], help="corpus sizes in MB")
    add("--runs", type=int, default=5, help="interleaved rounds per corpus (default: 5)")
    add("--corpus-dir", type=Path, default=HERE / "corpus",
        help="where corpora are built and reused (default: bench/corpus/)")
    add("--markdown", type=Path, metavar="FILE", help="also write the Markdown report to FILE")
    add("--csv", type=Path, metavar="FILE", help="also write every run's raw figures to FILE")
    add("--tools", type=Path, default=TOOLS,
        help="folder of make_corpus.py, floor.py, naive_full_model.py "
             "(default: $IATI_EC_SHARED/bench or ../shared/bench)")
    add("--commit", metavar="REV",
        help="measure this commit's iati/ (exported to a temporary folder), not the working tree")
    add("--measure", choices=["auto", "time", "python"], default="auto",
        help="wrapper reporting each reader's rusage: GNU time -v, or a Python one "
             "(auto: time when /usr/bin/time exists)")
    args = parser.parse_args(argv)
    if args.runs < 1 or min(args.sizes) <= 0:
        parser.error("--runs and --sizes must be positive")
    if args.measure == "auto":
        args.measure = "time" if shutil.which(str(GNU_TIME)) else "python"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpora = {size: build_corpus(size, args.corpus_dir, args.tools)
               for size in sorted(set(args.sizes))}
    with tempfile.TemporaryDirectory(prefix="iati-ec-bench-") as scratch:
        code = source(args.commit, Path(scratch))
        before = os.getloadavg()[0]
        summaries = benchmark(corpora, contenders(args.tools), args.runs, args.measure, code)
        load = (before, os.getloadavg()[0])
    text = report(summaries, args.measure, args.runs, load, code)
    print(text, end="")
    if args.markdown is not None:
        args.markdown.write_text(text, encoding="utf-8")
    if args.csv is not None:
        write_csv(summaries, args.csv, code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
