"""`iati-ec demo` and `serve --demo`: the package's real Ecuador activities, each pushed as
its publisher, into an empty store only."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager, closing
from pathlib import Path

import httpx
from lxml import etree
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from service.models import Activity, PushActivity
from service.services.demo import demo_files
from tests.support.cli import iati_ec
from tests.support.samples import PARSER
from tests.support.serving import environment_without_database, serving


def _published() -> dict[str, int]:
    """Activities per reporting-org in the demo's files."""
    counts: dict[str, int] = {}
    for path in demo_files():
        for ref in etree.parse(str(path), PARSER).xpath("iati-activity/reporting-org/@ref"):
            counts[str(ref)] = counts.get(str(ref), 0) + 1
    return counts


def test_the_demo_pushes_every_file_as_its_publisher_into_an_empty_store_only(
    store: Engine,
) -> None:
    url = store.url.render_as_string(hide_password=False)
    done = iati_ec("demo", database=url)
    assert done.returncode == 0, done.stdout + done.stderr
    with Session(store) as session:
        live = dict(session.exec(
            select(Activity.reporting_org_ref, func.count()).where(
                col(Activity.deleted_at).is_(None)).group_by(Activity.reporting_org_ref)
        ).all())
        refused = session.exec(select(PushActivity.findings).where(
            PushActivity.outcome == "rejected")).all()
    published = _published()
    assert set(live) == set(published)
    assert sum(published.values()) - sum(live.values()) == len(refused)
    assert live["XM-DAC-46008"] == published["XM-DAC-46008"] == 27  # CAF's loans, all taken
    assert live["US-GOV-1"] == published["US-GOV-1"] == 250
    # Those refused break the schema (a sector without a code), as the validator says.
    assert all({f["code"] for f in findings if f["severity"] == "critical"} == {"0.3.1"}
               for findings in refused)
    assert f"demo loaded: {sum(live.values())} activities of {len(live)} publishers" in done.stdout
    again = iati_ec("demo", database=url)
    assert again.returncode == 2
    assert "demo.store-not-empty" in again.stderr


def test_serve_demo_shows_real_ecuador_activities_at_once(tmp_path: Path) -> None:
    def demo() -> AbstractContextManager[str]:  # loading takes seconds before it answers
        return serving(tmp_path, environment=environment_without_database(),
                       arguments=["--demo"], start_seconds=120)

    with demo() as base:
        page = httpx.get(f"{base}/actividades", timeout=30)
        assert page.status_code == 200
        assert "XM-DAC-46008-" in page.text  # a CAF loan
    loaded = _activities(tmp_path / "iati-ec.db")
    assert loaded == sum(_published().values()) - 3
    with demo() as base:
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
    assert _activities(tmp_path / "iati-ec.db") == loaded  # not loaded twice


def _activities(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM activity").fetchone()[0])
