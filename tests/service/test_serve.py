"""`iati-ec serve` end to end: a real uvicorn process on the zero-set-up SQLite default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.samples import sample
from tests.support.serving import environment_without_database, serving


def test_serve_migrates_a_new_sqlite_file_and_answers_over_http(tmp_path: Path) -> None:
    environment = environment_without_database()
    with serving(tmp_path, environment=environment) as base:
        health = httpx.get(f"{base}/health", timeout=5)
        assert health.json()["status"] == "ok"
        assert (tmp_path / "iati-ec.db").exists()
        body = sample("real/usaid-bo.xml").read_bytes()
        report = httpx.post(f"{base}/api/v1/validate", content=body, timeout=60).json()
        assert report["valid"] is True
        assert report["recordCount"] == 63
    current = subprocess.run(
        [sys.executable, "-m", "service", "db", "current"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, check=False,
    )
    assert current.returncode == 0, current.stdout + current.stderr
    assert "(latest)" in current.stdout
