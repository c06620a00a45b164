"""`iati-ec sync` against a real local HTTP server: its output and exit status, as an
operator (or cron) sees them. Each test has its own SQLite file; the command runs in the
test's process (`tests.support.cli`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Ran, iati_ec
from tests.support.publishing import USAID, USAID_EC, variant
from tests.support.sync_server import SourceServer

QUICK = {
    "IATI_EC_SYNC_RETRIES": "1", "IATI_EC_SYNC_RETRY_BASE_SECONDS": "0",
    "IATI_EC_SYNC_READ_TIMEOUT_SECONDS": "5",
}


@pytest.fixture
def server() -> Iterator[SourceServer]:
    serving = SourceServer()
    yield serving
    serving.close()


@pytest.fixture
def database(sqlite_database: str) -> str:
    added = _iati_ec(sqlite_database, "orgs", "add", "--ref", USAID, "--name", "USAID",
                     "--role", "donor")
    assert added.returncode == 0, added.stdout + added.stderr
    return sqlite_database


def _iati_ec(database: str, *arguments: str) -> Ran:
    return iati_ec(*arguments, database=database, environment=QUICK)


def _sources(tmp_path: Path, ref: str, *urls: str) -> str:
    path = tmp_path / "sources.toml"
    listed = ", ".join(f'"{url}"' for url in urls)
    path.write_text(f'[[publisher]]\norg = "{ref}"\ndatasets = [{listed}]\n', encoding="utf-8")
    return str(path)


def test_sync_pushes_then_finds_nothing_modified(
    database: str, server: SourceServer, tmp_path: Path
) -> None:
    body = variant(USAID_EC, tmp_path / "three.xml", keep=3).read_bytes()
    url = server.serve("/usaid.xml", body, etag='"one"')
    sources = _sources(tmp_path, USAID, url)
    done = _iati_ec(database, "sync", sources)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{USAID} {url}: pushed " in done.stderr
    assert "3 created" in done.stdout
    assert "1 sources: 0 failed, 0 activities rejected" in done.stdout
    again = _iati_ec(database, "sync", sources)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "not-modified" in again.stdout
    planned = _iati_ec(database, "sync", sources, "--dry-run")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "not-modified 20" in planned.stdout  # the last sync's status and time


def test_sync_exits_1_when_a_source_fails_and_still_syncs_the_others(
    database: str, server: SourceServer, tmp_path: Path
) -> None:
    good = server.serve("/good.xml", variant(USAID_EC, tmp_path / "g.xml", keep=2).read_bytes())
    bad = server.serve("/bad.xml", b"", statuses=[500] * 2)
    done = _iati_ec(database, "sync", _sources(tmp_path, USAID, bad, good))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed: HTTP 500 (after 2 attempts)" in done.stdout
    assert "2 created" in done.stdout
    assert f"{USAID}: no activity deleted, because {bad} failed" in done.stdout


def test_sync_exits_2_on_an_unusable_sources_file_or_publisher(
    database: str, server: SourceServer, tmp_path: Path
) -> None:
    unknown = _iati_ec(database, "sync", _sources(tmp_path, "XM-DAC-1", server.base + "/x"))
    assert unknown.returncode == 2
    assert "no organisation XM-DAC-1; register it with `iati-ec orgs add" in unknown.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[[publisher]\n")
    assert _iati_ec(database, "sync", str(broken)).returncode == 2
    missing = _iati_ec(database, "sync", str(tmp_path / "absent.toml"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    other = _iati_ec(database, "sync", _sources(tmp_path, USAID, server.base + "/x"),
                     "--only", "GB-GOV-1")
    assert other.returncode == 2
    assert "no organisation GB-GOV-1 is registered" in other.stderr
    assert not server.requests


def test_only_a_registered_publisher_that_left_the_listing_says_so(
    database: str, server: SourceServer, tmp_path: Path
) -> None:
    url = server.serve("/usaid.xml", variant(USAID_EC, tmp_path / "u.xml", keep=2).read_bytes())
    assert _iati_ec(database, "sync", _sources(tmp_path, USAID, url)).returncode == 0
    _iati_ec(database, "orgs", "add", "--ref", "GB-GOV-1", "--name", "FCDO", "--role", "donor")
    others = _sources(tmp_path, "GB-GOV-1", server.base + "/fcdo.xml")
    never = _iati_ec(database, "sync", others, "--only", "GB-GOV-1", "--dry-run")
    assert never.returncode == 0, never.stdout + never.stderr  # it is named: a plan
    left = _iati_ec(database, "sync", others, "--only", USAID)
    assert left.returncode == 2
    said = " ".join(left.stderr.split())
    assert f"{USAID} is registered, but neither the sources file nor its listings name it" in said
    assert "its 1 datasets, last pushed 20" in said
    assert "have left them" in said
    listed = _iati_ec(database, "sync", _sources(tmp_path, USAID, url))
    assert listed.returncode == 0, listed.stdout + listed.stderr


def test_a_dry_run_lists_the_datasets_and_downloads_nothing(
    database: str, server: SourceServer, tmp_path: Path
) -> None:
    url = server.serve("/usaid.xml", b"<never-read/>")
    done = _iati_ec(database, "sync", _sources(tmp_path, USAID, url), "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert url in done.stdout
    assert not server.requests
