"""`iati-ec serve` end to end: a real uvicorn process on the zero-set-up SQLite default."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.samples import sample


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_migrates_a_new_sqlite_file_and_answers_over_http(tmp_path: Path) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        assert (tmp_path / "iati-ec.db").exists()
        body = sample("real/usaid-bo.xml").read_bytes()
        report = httpx.post(f"{base}/api/v1/validate", content=body, timeout=60).json()
        assert report["valid"] is True
        assert report["recordCount"] == 63
    finally:
        server.terminate()
        server.communicate(timeout=10)
    current = subprocess.run(
        [sys.executable, "-m", "service", "db", "current"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, check=False,
    )
    assert current.returncode == 0, current.stdout + current.stderr
    assert "(latest)" in current.stdout
