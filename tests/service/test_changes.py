"""The change feed and conditional requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, text
from sqlmodel import Session

from service.db import downgrade_database, upgrade_database
from service.models import KeyScope
from service.services.changes import changes_since
from tests.support.publishing import (
    PARSER,
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    push,
    set_first_transaction,
    variant,
)
from tests.support.samples import sample


@pytest.fixture
def keys(store: Engine) -> tuple[str, str]:
    add_publisher(store, USAID)
    return new_key(store, USAID, KeyScope.publish), new_key(store, USAID, KeyScope.read)


def _follow(api: Api, key: str, *, since: str = "0", limit: int = 100) -> list[dict[str, Any]]:
    """Every change after `since`, page by page as a client follows the feed."""
    found: list[dict[str, Any]] = []
    while True:
        page = api.request("GET", "/api/v1/changes", key=key,
                           params={"since": since, "limit": limit}).json()
        found += page["changes"]
        assert page["next"] == (str(page["changes"][-1]["seq"]) if page["changes"] else since)
        since = page["next"]
        if not page["more"]:
            return found


def test_the_feed_lists_creations_updates_and_deletions_in_order_once(
    store: Engine, keys: tuple[str, str], tmp_path: Path
) -> None:
    api = Api(store)
    five = variant(USAID_EC, tmp_path / "five.xml", keep=5)
    api.request("POST", "/api/v1/activities", key=keys[0], content=five.read_bytes())
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=1,
                      a1=set_first_transaction("99.00", "2030-01-01T00:00:00Z"))
    api.request("POST", "/api/v1/activities", key=keys[0], content=changed.read_bytes())
    second = identifier_of(USAID_EC, 2)
    assert api.request("DELETE", f"/api/v1/activities/{second}", key=keys[0]).status_code == 204
    api.request("POST", "/api/v1/activities", key=keys[0], content=five.read_bytes())  # unchanged

    changes = _follow(api, keys[1], limit=2)
    assert [(c["kind"], c["version"]) for c in changes] == [
        *[("created", 1)] * 5, ("updated", 2), ("deleted", 2), ("restored", 3),
    ]
    assert [c["iati_identifier"] for c in changes[:5]] == [
        identifier_of(USAID_EC, n) for n in range(1, 6)
    ]
    assert changes[5]["iati_identifier"] == identifier_of(USAID_EC, 1)
    assert changes[6]["iati_identifier"] == changes[7]["iati_identifier"] == second
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(set(seqs))
    assert _follow(api, keys[1], since=str(seqs[-1])) == []
    assert _follow(api, keys[1], since=str(seqs[4])) == changes[5:]
    assert {c["reporting_org"] for c in changes} == {USAID}
    others = api.request("GET", "/api/v1/changes", key=keys[1],
                         params={"reporting_org": "GB-1"}).json()
    assert others["changes"] == []


def test_an_unchanged_feed_page_answers_304_to_its_etag(
    store: Engine, keys: tuple[str, str], tmp_path: Path
) -> None:
    api = Api(store)
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1)
    api.request("POST", "/api/v1/activities", key=keys[0], content=one.read_bytes())
    first = api.request("GET", "/api/v1/changes", key=keys[1])
    tag = first.headers["etag"]
    again = api.request("GET", "/api/v1/changes", key=keys[1], headers={"If-None-Match": tag})
    assert again.status_code == 304
    two = variant(USAID_EC, tmp_path / "two.xml", keep=2)
    api.request("POST", "/api/v1/activities", key=keys[0], content=two.read_bytes())
    later = api.request("GET", "/api/v1/changes", key=keys[1], headers={"If-None-Match": tag})
    assert later.status_code == 200
    assert len(later.json()["changes"]) == 2


def test_an_activity_answers_304_to_its_etag_or_an_unchanged_date(
    store: Engine, keys: tuple[str, str], tmp_path: Path
) -> None:
    api = Api(store)
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1)
    api.request("POST", "/api/v1/activities", key=keys[0], content=one.read_bytes())
    url = f"/api/v1/activities/{identifier_of(USAID_EC, 1)}"
    full = api.request("GET", url, key=keys[1])
    assert full.status_code == 200
    tag, modified = full.headers["etag"], full.headers["last-modified"]
    assert api.request("GET", url, key=keys[1],
                       headers={"If-None-Match": tag}).status_code == 304
    assert api.request("GET", url, key=keys[1],
                       headers={"If-Modified-Since": modified}).status_code == 304
    old = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert api.request("GET", url, key=keys[1],
                       headers={"If-Modified-Since": old}).status_code == 200
    xml = api.request("GET", url, key=keys[1], params={"format": "xml"},
                      headers={"If-None-Match": tag})
    assert xml.status_code == 200  # another representation, another tag
    assert xml.headers["etag"] != tag


def test_a_follower_misses_nothing_while_pushes_commit_concurrently(
    store: Engine, tmp_path: Path
) -> None:
    publisher = add_publisher(store, USAID)
    parts = [_slice(tmp_path / f"part{n}.xml", range(n * 10, n * 10 + 10)) for n in range(4)]
    followed: list[int] = []
    done = threading.Event()

    def follow() -> None:
        since = 0
        while True:
            finished = done.is_set()
            with Session(store) as session:
                page = changes_since(session, since, limit=7)
            followed.extend(change.seq for change in page.changes)
            since = int(page.next)
            if finished and not page.more and not page.changes:
                return
            if not page.changes:
                # As a client polls: a loop that never waits would hold the interpreter
                # lock and slow the pushers' threads a hundredfold.
                time.sleep(0.002)

    follower = threading.Thread(target=follow)
    follower.start()
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        pushes = [pool.submit(push, store, publisher, part) for part in parts]
        try:
            for pushed in pushes:
                pushed.result()  # a push that failed raises its error here
        finally:
            done.set()
    follower.join(timeout=60)
    with store.connect() as connection:
        logged = list(connection.execute(
            text("SELECT seq FROM activity_change ORDER BY seq")).scalars())
    assert len(logged) == 40
    assert followed == logged  # every change, once, in order


def _slice(target: Path, positions: range) -> Path:
    """The real USAID file's activities at `positions` (from 0), written to `target`."""
    tree = etree.parse(str(sample(USAID_EC)), PARSER)
    root = tree.getroot()
    for position, activity in enumerate(root.findall("iati-activity")):
        if position not in positions:
            root.remove(activity)
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def test_the_migration_logs_the_versions_already_stored(
    store_url: str, store: Engine, tmp_path: Path
) -> None:
    publisher = add_publisher(store, USAID)
    push(store, publisher, variant(USAID_EC, tmp_path / "three.xml", keep=3))
    with store.begin() as connection:
        versions = connection.execute(text(
            "SELECT v.id, a.iati_identifier FROM activity_version v "
            "JOIN activity a ON a.id = v.activity_id ORDER BY v.id")).all()
    store.dispose()
    downgrade_database(store_url, "0004")
    upgrade_database(store_url)
    with store.connect() as connection:
        logged = connection.execute(text(
            "SELECT seq, iati_identifier, kind FROM activity_change ORDER BY seq")).all()
        counter = connection.execute(text("SELECT value FROM change_counter")).scalar_one()
    assert [(seq, identifier) for seq, identifier, _ in logged] == [tuple(v) for v in versions]
    assert {kind for *_, kind in logged} == {"created"}
    assert counter == versions[-1][0]


def test_a_cursor_beyond_the_head_is_refused_not_answered_empty(
    store: Engine, keys: tuple[str, str], tmp_path: Path
) -> None:
    api = Api(store)
    two = variant(USAID_EC, tmp_path / "two.xml", keep=2)
    api.request("POST", "/api/v1/activities", key=keys[0], content=two.read_bytes())
    head = int(api.request("GET", "/api/v1/changes", key=keys[1]).json()["next"])
    at_head = api.request("GET", "/api/v1/changes", key=keys[1], params={"since": head})
    assert at_head.json() == {"changes": [], "next": str(head), "more": False}
    ahead = api.request("GET", "/api/v1/changes", key=keys[1], params={"since": head + 1})
    assert ahead.status_code == 400
    assert ahead.headers["content-type"] == "application/problem+json"
    problem = ahead.json()
    assert (problem["code"], problem["since"], problem["head"]) == (
        "changes.cursor-ahead", head + 1, head)
    filtered = api.request("GET", "/api/v1/changes", key=keys[1],
                           params={"since": head + 5, "reporting_org": "GB-1"})
    assert filtered.json()["code"] == "changes.cursor-ahead"
