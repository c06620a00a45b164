"""`iati-ec` run in the test's process with Typer's runner, as a new process would run it.

Starting a Python process costs about three seconds of imports; a command run here costs
what it does. Each run starts from what a new process has — settings read from the
environment given, a new engine, nothing kept of any store — through `service.runtime`,
and leaves nothing behind. A few tests still start real processes: `serve`, a killed
import, the progress bar on a terminal.
"""

from __future__ import annotations

import contextlib
import traceback
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from service import runtime
from service.cli import app


@dataclass(frozen=True)
class Ran:
    """How a command ended, in the terms of a finished process."""

    returncode: int
    stdout: str
    stderr: str


def iati_ec(*arguments: str | Path, database: str | None = None,
            environment: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """`iati-ec arguments` on `database` (a URL; else the environment's, else the settings'
    default, a file in `cwd`)."""
    variables: dict[str, str | None] = {"DATABASE_URL": database, **(environment or {})}
    runtime.reset()
    try:
        with contextlib.chdir(cwd or Path.cwd()):
            result = CliRunner().invoke(app, [str(a) for a in arguments], env=variables)
    finally:
        runtime.reset()
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # A process would print the traceback and exit 1.
        stderr += "".join(traceback.format_exception(result.exception))
    return Ran(result.exit_code, result.stdout, stderr)
