"""The ingest benchmark still runs end to end (a real server, pushes over HTTP), on SQLite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.samples import SHARED

pytestmark = pytest.mark.bench  # a smoke run of a benchmark: `-m 'not bench'` leaves it out
REPO = Path(__file__).resolve().parents[1]
TOOLS = SHARED / "bench"
STEPS = ("read only", "read + validate", "first push", "re-push (unchanged)")


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def number(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_ingest_table_gives_every_step_its_throughput_and_the_pushes_their_memory(
    tmp_path: Path,
) -> None:
    if not (TOOLS / "make_corpus.py").exists():
        pytest.skip("the shared benchmark tools (../shared/bench) are not available")
    command = [
        sys.executable,
        "bench/ingest.py",
        "--sizes",
        "0.1",
        "--databases",
        "sqlite",
        "--poll",
        "0.2",
        "--corpus-dir",
        str(tmp_path),
        "--tools",
        str(TOOLS),
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr

    lines = done.stdout.splitlines()
    header = cells(next(line for line in lines if line.startswith("| corpus |")))
    rows = [
        dict(zip(header, cells(line), strict=True)) for line in lines if line.startswith("| 0.1 MB")
    ]
    assert [any(row["step"].startswith(step) for row in rows) for step in STEPS] == [True] * len(
        STEPS
    )
    assert all(number(row["activities/s"]) > 0 for row in rows)
    assert len({number(row["activities"]) for row in rows}) == 1  # the same corpus throughout
    pushes = [row for row in rows if row["database"] == "SQLite"]
    assert len(pushes) == 2
    assert all(
        number(row["peak RSS MiB"]) > 0 and number(row["server CPU s"]) >= 0 for row in pushes
    )
    assert "unchanged" in pushes[1]["outcomes"]
    assert "created" not in pushes[1]["outcomes"]
    assert any(line.startswith("| re-push of the unchanged file") for line in lines)
