"""`iati-ec import` pushes a file through the same service as the API.

Each test has its own SQLite file, set up by the command line itself (`orgs add` migrates
it), as an operator would; the commands run in the test's process (`tests.support.cli`),
but for the progress bar, drawn by a real process on a pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from service.db import create_db_engine
from service.models import Activity, Push
from tests.support import clock_guard
from tests.support.cli import Ran, iati_ec
from tests.support.publishing import USAID, USAID_EC, set_reporting_org, variant
from tests.support.samples import sample


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    added = _iati_ec(url, "orgs", "add", "--ref", USAID, "--name", "USAID", "--role", "donor")
    assert added.returncode == 0, added.stdout + added.stderr
    return url


def _iati_ec(database: str, *arguments: str) -> Ran:
    return iati_ec(*arguments, database=database)


def test_import_pushes_a_file_and_prints_the_counts(database: str) -> None:
    done = _iati_ec(database, "import", str(sample(USAID_EC)), "--org", USAID)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "250 activities: 250 created, 0 updated, 0 unchanged" in done.stdout
    again = _iati_ec(database, "import", str(sample(USAID_EC)), "--org", USAID)
    assert "250 unchanged" in again.stdout
    engine = create_db_engine(database)
    try:
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Activity)).one() == 250
            pushes = session.exec(select(Push)).all()
    finally:
        engine.dispose()
    assert len(pushes) == 2
    assert {push.api_key_id for push in pushes} == {None}


def test_import_exits_1_when_an_activity_is_rejected_and_2_when_unusable(
    database: str, tmp_path: Path
) -> None:
    mixed = variant(USAID_EC, tmp_path / "mixed.xml", keep=3, a2=set_reporting_org("GB-1"))
    rejected = _iati_ec(database, "import", str(mixed), "--org", USAID, "--mode", "atomic")
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "3 rejected" in rejected.stdout
    assert "push.not-your-activity" in rejected.stdout
    unknown = _iati_ec(database, "import", str(mixed), "--org", "XX-NOBODY")
    assert unknown.returncode == 2
    assert "no organisation XX-NOBODY" in unknown.stderr
    unreadable = _iati_ec(
        database, "import", str(sample("invalid/not-xml.xml")), "--org", USAID
    )
    assert unreadable.returncode == 2
    assert "input.not-xml" in unreadable.stderr


def test_remap_computes_the_missing_views_and_says_how_many(
    database: str, tmp_path: Path
) -> None:
    few = variant(USAID_EC, tmp_path / "few.xml", keep=5)
    assert _iati_ec(database, "import", str(few), "--org", USAID).returncode == 0
    nothing = _iati_ec(database, "remap")
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.strip().endswith(": 0 views computed")
    engine = create_db_engine(database)
    try:
        # as if the mappings had changed since: a hand-made past, not a write path
        with clock_guard.expected(), engine.begin() as connection:
            connection.execute(text("UPDATE budget_view SET mapping_version = '0ld0ld0ld0ld'"))
            stale = connection.execute(text(
                "UPDATE \"transaction\" SET usd_rates = '0.0-old', usd_cents = NULL "
                "WHERE position = 1")).rowcount
    finally:
        engine.dispose()
    done = _iati_ec(database, "remap")
    assert done.returncode == 0, done.stderr
    assert f": 5 views computed\n{stale} transactions converted" in done.stdout
    engine = create_db_engine(database)
    try:
        with engine.connect() as connection:
            assert connection.execute(text(
                "SELECT count(*) FROM \"transaction\" WHERE usd_rates = '0.0-old' "
                "OR usd_cents IS NULL")).scalar_one() == 0
    finally:
        engine.dispose()


def test_import_shows_a_progress_bar_on_a_terminal_and_none_when_piped(
    database: str, tmp_path: Path
) -> None:
    """A real process whose standard error is a terminal (a pseudo-terminal here) draws the
    bar there; run in-process, as piped output, it draws none."""
    file = variant(USAID_EC, tmp_path / "ten.xml", keep=10)
    primary, secondary = pty.openpty()
    environment = {**os.environ, "DATABASE_URL": database, "TERM": "xterm-256color",
                   "COLUMNS": "100"}
    chunks: list[bytes] = []

    def read_terminal() -> None:  # as it is drawn, so that a full terminal never blocks it
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closes once the process has ended
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "service", "import", str(file), "--org", USAID],
            env=environment, stdout=subprocess.PIPE, stderr=secondary, timeout=120,
            check=False,
        )
    finally:
        os.close(secondary)
        reader.join(timeout=30)
        os.close(primary)
    drawn = b"".join(chunks)
    assert done.returncode == 0, done.stdout.decode() + drawn.decode(errors="replace")
    assert "10 activities: 10 created" in done.stdout.decode()
    shown = drawn.decode("utf-8", errors="replace")
    assert "━" in shown  # the bar
    assert "kB" in shown or "MB" in shown  # how much of the file is read
    piped = _iati_ec(database, "import", str(file), "--org", USAID)
    assert piped.returncode == 0
    assert "━" not in piped.stderr + piped.stdout
