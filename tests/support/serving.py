"""`iati-ec serve` as a real process: started on a free port, waited for, stopped."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment_without_database() -> dict[str, str]:
    """This process's environment, less DATABASE_URL: the service takes its default."""
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}


@contextlib.contextmanager
def serving(
    folder: Path, *, command: Sequence[str] = (sys.executable, "-m", "service"),
    environment: dict[str, str] | None = None, arguments: Sequence[str] = (),
    start_seconds: float = 30, output: list[str] | None = None,
) -> Iterator[str]:
    """`<command> serve <arguments>` run in `folder` until the block ends; its base URL,
    once it answers /health. Its output is printed when it stops, so that a failing test
    shows it, and its lines added to `output` when given."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), *arguments], cwd=folder,
        env=environment if environment is not None else environment_without_database(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, f"no answer in {start_seconds} s"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        printed = (process.communicate(timeout=10)[0] or b"").decode("utf-8", "replace")
        print(printed[-20_000:])
        if output is not None:
            output.extend(printed.splitlines())
