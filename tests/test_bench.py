"""The parsing benchmark still runs end to end, so bench/parse.py cannot rot unnoticed."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.samples import SHARED

pytestmark = pytest.mark.bench  # a smoke run of a benchmark: `-m 'not bench'` leaves it out
REPO = Path(__file__).resolve().parents[1]
TOOLS = SHARED / "bench"
READERS = ("floor", "full model read", "read + validate", "naive full model")


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_benchmark_table_lists_every_reader_with_its_ratio_to_the_floor(tmp_path: Path) -> None:
    if not (TOOLS / "make_corpus.py").exists():
        pytest.skip("the shared benchmark tools (../shared/bench) are not available")
    command = [sys.executable, "bench/parse.py", "--sizes", "0.3", "--runs", "1",
               "--corpus-dir", str(tmp_path), "--tools", str(TOOLS),
               "--csv", str(tmp_path / "runs.csv")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr

    lines = done.stdout.splitlines()
    header = cells(next(line for line in lines if line.startswith("| corpus |")))
    rows = [dict(zip(header, cells(line), strict=True))
            for line in lines if line.startswith("| 0.3 MB")]
    ratios = {row["reader"]: float(row["× floor"]) for row in rows}
    assert [any(label.startswith(reader) for label in ratios) for reader in READERS] == [
        True
    ] * len(READERS)
    assert len(ratios) == len(READERS)
    assert all(ratio > 0 for ratio in ratios.values())
    assert next(ratio for label, ratio in ratios.items() if label.startswith("floor")) == 1.0

    with (tmp_path / "runs.csv").open(encoding="utf-8") as table:
        runs = list(csv.DictReader(table))
    assert [run["reader"] for run in runs] == ["floor", "read", "validate", "naive"]
    assert {run["activities"] for run in runs} == {rows[0]["corpus"].split("(")[1].split()[0]}
    assert all(float(run["user_s"]) > 0 and int(run["peak_rss_bytes"]) > 0 for run in runs)
