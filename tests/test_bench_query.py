"""The query benchmark still runs end to end, so bench/query.py cannot rot unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.samples import SHARED

pytestmark = pytest.mark.bench  # a smoke run of a benchmark: `-m 'not bench'` leaves it out
REPO = Path(__file__).resolve().parents[1]
TOOLS = SHARED / "bench"
GROUPS = ("list · ", "aggregate · ", "changes · ", "floor · GET /health", "floor · ")


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(lines: list[str], first: str) -> list[dict[str, str]]:
    """The rows of the Markdown table whose header starts with `first`."""
    start = next(number for number, line in enumerate(lines) if line.startswith(f"| {first} |"))
    header = cells(lines[start])
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, cells(line), strict=True)))
    return rows


def test_query_benchmark_times_every_kind_at_each_level_and_the_export(tmp_path: Path) -> None:
    if not (TOOLS / "make_corpus.py").exists():
        pytest.skip("the shared benchmark tools (../shared/bench) are not available")
    report = tmp_path / "report.md"
    command = [sys.executable, "bench/query.py", "--size", "0.3", "--databases", "sqlite",
               "--clients", "1", "2", "--requests", "3", "--warmup", "1",
               "--corpus-dir", str(tmp_path), "--tools", str(TOOLS), "--markdown", str(report)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr

    lines = done.stdout.splitlines()
    assert report.read_text(encoding="utf-8") == done.stdout
    timed = table(lines, "database | clients")
    assert {row["clients"] for row in timed} == {"1", "2"}
    assert all(any(row["request"].startswith(group) for row in timed) for group in GROUPS)
    assert all(row["requests"] == "3" and float(row["p50 ms"]) > 0 for row in timed)
    exports = table(lines, "database | CSV export")
    full = next(row for row in exports if row["CSV export"].startswith("full"))
    stored = table(lines, "database | activities stored (live)")[0]["activities stored (live)"]
    assert full["rows"] == stored
    targets = table(lines, "target")
    assert len(targets) == 4
