"""Pull sync against a real local HTTP server serving the real USAID sample: new, unchanged
and changed datasets, deletions across several datasets, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from service.models import Activity, KeyScope, Push, PushScope, SyncSource, SyncStatus
from service.services.sync import (
    FetchPolicy,
    SourcesFile,
    SourcesFileError,
    Syncer,
    SyncReport,
    UnknownPublisherError,
    make_plan,
    new_client,
    read_sources,
)
from tests.support.publishing import (
    PARSER,
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    set_first_transaction,
    variant,
)
from tests.support.sync_server import SourceServer

POLICY = FetchPolicy(
    connect_timeout=2.0, read_timeout=2.0, retries=2, retry_base=0.01, retry_cap=0.05,
    max_bytes=50_000_000,
)


@pytest.fixture
def server() -> Iterator[SourceServer]:
    serving = SourceServer()
    yield serving
    serving.close()


def sources_file(tmp_path: Path, text: str) -> SourcesFile:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return read_sources(path)


def publisher_toml(ref: str, *urls: str, complete: bool = True) -> str:
    listed = ", ".join(f'"{url}"' for url in urls)
    return (f'[[publisher]]\norg = "{ref}"\ndatasets = [{listed}]\n'
            f"complete = {str(complete).lower()}\n")


def run_sync(engine: Engine, sources: SourcesFile, *, policy: FetchPolicy = POLICY,
             directory: Path | None = None) -> SyncReport:
    with new_client(policy, user_agent="iati-ec-test") as client:
        plan = make_plan(engine, sources, client=client, policy=policy, directory=directory)
        return Syncer(engine, client, policy, directory=directory, sleep=lambda _: None).run(
            plan
        )


def usaid(tmp_path: Path, name: str, positions: list[int], **edits: object) -> bytes:
    """The USAID sample's activities at `positions` (from 1), as a file's bytes."""
    path = variant(USAID_EC, tmp_path / name, keep=max(positions), **edits)  # type: ignore[arg-type]
    tree = etree.parse(str(path), PARSER)
    root = tree.getroot()
    for position, activity in enumerate(root.findall("iati-activity"), start=1):
        if position not in positions:
            root.remove(activity)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="utf-8"))


def live(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(
            select(Activity.iati_identifier).where(col(Activity.deleted_at).is_(None))
        ).all())


def pushes(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Push)).one()


def source_row(engine: Engine, url: str) -> SyncSource:
    with Session(engine) as session:
        return session.exec(select(SyncSource).where(SyncSource.url == url)).one()


def ids(*positions: int) -> set[str]:
    return {identifier_of(USAID_EC, position) for position in positions}


def test_a_new_dataset_is_pushed_then_304_then_its_changes_and_deletions(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    url = server.serve("/usaid/ec.xml", usaid(tmp_path, "v1.xml", [1, 2, 3, 4, 5]), etag='"v1"',
                       last_modified="Fri, 27 Nov 2026 10:00:00 GMT")
    sources = sources_file(tmp_path, publisher_toml(USAID, url))

    first = run_sync(store, sources)
    [result] = first.sources
    assert result.status is SyncStatus.pushed
    assert result.push is not None
    assert result.push.counts.created == 5
    assert live(store) == ids(1, 2, 3, 4, 5)
    row = source_row(store, url)
    assert (row.etag, row.last_modified, row.push_id) == (
        '"v1"', "Fri, 27 Nov 2026 10:00:00 GMT", result.push.id
    )

    again = run_sync(store, sources)
    assert [r.status for r in again.sources] == [SyncStatus.not_modified]
    conditional = server.requests_to("/usaid/ec.xml")[-1].headers
    assert conditional["if-none-match"] == '"v1"'
    assert conditional["if-modified-since"] == "Fri, 27 Nov 2026 10:00:00 GMT"
    assert pushes(store) == 1

    changed = usaid(tmp_path, "v2.xml", [1, 2, 3], a2=set_first_transaction("1234.56", None))
    server.serve("/usaid/ec.xml", changed, etag='"v2"')
    [third] = run_sync(store, sources).sources
    assert third.push is not None
    counts = third.push.counts
    assert (counts.updated, counts.unchanged, counts.deleted) == (1, 2, 2)
    assert third.push.scope is PushScope.dataset
    assert live(store) == ids(1, 2, 3)
    assert source_row(store, url).status is SyncStatus.pushed


def test_the_same_content_without_validators_is_unchanged_and_not_pushed(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    url = server.serve("/plain.xml", usaid(tmp_path, "plain.xml", [1, 2]))
    sources = sources_file(tmp_path, publisher_toml(USAID, url))
    run_sync(store, sources)
    [again] = run_sync(store, sources).sources
    assert again.status is SyncStatus.unchanged
    assert "if-none-match" not in server.requests_to("/plain.xml")[-1].headers
    assert pushes(store) == 1


def test_one_dataset_never_deletes_another_datasets_activities(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    a = server.serve("/a.xml", usaid(tmp_path, "a1.xml", [1, 2, 3]))
    b = server.serve("/b.xml", usaid(tmp_path, "b1.xml", [4, 5]))
    sources = sources_file(tmp_path, publisher_toml(USAID, a, b))
    first = run_sync(store, sources)
    assert [r.push.counts.created for r in first.sources if r.push] == [3, 2]
    assert live(store) == ids(1, 2, 3, 4, 5)

    # Activity 3 moves from A to B: both change, nothing is deleted.
    server.serve("/a.xml", usaid(tmp_path, "a2.xml", [1, 2]))
    server.serve("/b.xml", usaid(tmp_path, "b2.xml", [3, 4, 5]))
    moved = run_sync(store, sources)
    assert [r.push.counts.deleted for r in moved.sources if r.push] == [0, 0]
    assert live(store) == ids(1, 2, 3, 4, 5)

    # Only B changes, dropping 5: 5 goes; A's activities stay although B lacks them.
    server.serve("/b.xml", usaid(tmp_path, "b3.xml", [3, 4]))
    dropped = run_sync(store, sources)
    assert [r.status for r in dropped.sources] == [SyncStatus.unchanged, SyncStatus.pushed]
    assert live(store) == ids(1, 2, 3, 4)

    # Only A changes, dropping 1.
    server.serve("/a.xml", usaid(tmp_path, "a3.xml", [2]))
    run_sync(store, sources)
    assert live(store) == ids(2, 3, 4)


def test_a_publisher_not_declared_complete_keeps_what_disappears(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    url = server.serve("/partial.xml", usaid(tmp_path, "p1.xml", [1, 2]))
    sources = sources_file(tmp_path, publisher_toml(USAID, url, complete=False))
    run_sync(store, sources)
    server.serve("/partial.xml", usaid(tmp_path, "p2.xml", [2]))
    [result] = run_sync(store, sources).sources
    assert result.push is not None
    assert result.push.scope is PushScope.activities
    assert live(store) == ids(1, 2)


def test_a_5xx_is_retried_and_a_permanent_failure_stops_neither_others_nor_keeps_deleting(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    flaky = server.serve("/flaky.xml", usaid(tmp_path, "f.xml", [1, 2]), statuses=[500])
    broken = server.serve("/broken.xml", usaid(tmp_path, "b.xml", [3]), statuses=[503] * 3)
    sources = sources_file(tmp_path, publisher_toml(USAID, flaky, broken))
    report = run_sync(store, sources)
    retried, failed = report.sources
    assert retried.status is SyncStatus.pushed
    assert retried.attempts == 2
    assert failed.status is SyncStatus.failed
    assert failed.error == "HTTP 503 (after 3 attempts)"
    assert report.failed
    assert USAID in report.held  # one dataset failed: nothing may be deleted
    row = source_row(store, broken)
    assert (row.status, row.error, row.consecutive_failures) == (
        SyncStatus.failed, "HTTP 503 (after 3 attempts)", 1
    )
    assert row.push_id is None

    # The flaky dataset shrinks while the other still fails: nothing is deleted.
    server.serve("/flaky.xml", usaid(tmp_path, "f2.xml", [1]))
    server.routes["/broken.xml"].statuses = [500] * 3
    [shrunk, still] = run_sync(store, sources).sources
    assert shrunk.push is not None
    assert shrunk.push.counts.deleted == 0
    assert still.status is SyncStatus.failed
    assert source_row(store, broken).consecutive_failures == 2
    assert live(store) == ids(1, 2)


def test_429_waits_as_retry_after_says_within_the_cap(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    url = server.serve("/busy.xml", usaid(tmp_path, "busy.xml", [1]), statuses=[429, 429],
                       retry_after="1")
    policy = FetchPolicy(retries=2, retry_base=0.0, retry_cap=0.2, read_timeout=2.0)
    waits: list[float] = []
    sources = sources_file(tmp_path, publisher_toml(USAID, url))
    with new_client(policy, user_agent="iati-ec-test") as client:
        plan = make_plan(store, sources, client=client, policy=policy)
        report = Syncer(store, client, policy, sleep=waits.append).run(plan)
    assert report.sources[0].status is SyncStatus.pushed
    assert waits == [0.2, 0.2]  # Retry-After: 1, capped at 0.2


def test_a_slow_source_times_out_and_the_next_is_synced(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    slow = server.serve("/slow.xml", usaid(tmp_path, "s.xml", [1]), delay=1.5)
    quick = server.serve("/quick.xml", usaid(tmp_path, "q.xml", [2]))
    policy = FetchPolicy(connect_timeout=1.0, read_timeout=0.3, retries=0)
    report = run_sync(store, sources_file(tmp_path, publisher_toml(USAID, slow, quick)),
                      policy=policy)
    timed_out, synced = report.sources
    assert timed_out.status is SyncStatus.failed
    assert timed_out.error is not None
    assert timed_out.error.startswith("timed out (ReadTimeout)")
    assert synced.status is SyncStatus.pushed
    assert live(store) == ids(2)


def test_gzip_transfer_and_gzip_files_are_unpacked(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    encoded = server.serve("/encoded.xml", usaid(tmp_path, "e.xml", [1, 2]), gzip=True)
    packed = server.serve("/packed.xml.gz", gzip.compress(usaid(tmp_path, "p.xml", [3])))
    report = run_sync(store, sources_file(tmp_path, publisher_toml(USAID, encoded, packed)))
    assert [r.status for r in report.sources] == [SyncStatus.pushed, SyncStatus.pushed]
    assert server.requests_to("/encoded.xml")[0].headers["accept-encoding"] == "gzip"
    assert live(store) == ids(1, 2, 3)


def test_an_oversize_file_is_refused_and_leaves_no_temporary_file(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    body = usaid(tmp_path, "big.xml", [1, 2, 3])
    big = server.serve("/big.xml", body)
    bomb = server.serve("/bomb.xml.gz", gzip.compress(body))
    spool = tmp_path / "spool"
    spool.mkdir()
    policy = FetchPolicy(max_bytes=len(body) - 1, retries=0)
    report = run_sync(store, sources_file(tmp_path, publisher_toml(USAID, big, bomb)),
                      policy=policy, directory=spool)
    assert [r.error for r in report.sources] == [
        f"the file is larger than the limit of {len(body) - 1:,} bytes"
    ] * 2
    assert list(spool.iterdir()) == []
    assert live(store) == set()


def test_an_unreadable_file_fails_its_push_and_is_tried_again_next_time(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    url = server.serve("/junk.xml", b"this is not XML", etag='"junk"')
    sources = sources_file(tmp_path, publisher_toml(USAID, url))
    [failed] = run_sync(store, sources).sources
    assert failed.status is SyncStatus.failed
    assert failed.error is not None
    assert failed.error.startswith("input.not-xml")
    row = source_row(store, url)
    assert row.push_id is not None  # the failed push is recorded
    assert row.etag is None
    [again] = run_sync(store, sources).sources
    assert again.status is SyncStatus.failed
    assert "if-none-match" not in server.requests_to("/junk.xml")[-1].headers


def test_redirects_are_followed_but_only_to_http(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    target = server.serve("/current.xml", usaid(tmp_path, "c.xml", [1]))
    moved = server.serve("/moved.xml", b"", location=target)
    elsewhere = server.serve("/ftp.xml", b"", location="ftp://127.0.0.1/file.xml")
    report = run_sync(store, sources_file(tmp_path, publisher_toml(USAID, moved, elsewhere)))
    followed, refused = report.sources
    assert followed.status is SyncStatus.pushed
    assert refused.error is not None
    assert refused.error.startswith("not an http(s) URL")


def test_an_unregistered_publisher_is_an_error_saying_what_to_do(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    sources = sources_file(tmp_path, publisher_toml("XM-DAC-0000", server.base + "/x.xml"))
    with pytest.raises(UnknownPublisherError, match="iati-ec orgs add --ref XM-DAC-0000"):
        run_sync(store, sources)


def _package(name: str, urls: list[str], *, organisation: dict[str, str],
             extras: dict[str, str] | None = None) -> dict[str, object]:
    """A package as the IATI Registry's package_search gives it (the fields sync reads)."""
    return {
        "name": name, "organization": organisation,
        "extras": [{"key": key, "value": value} for key, value in (extras or {}).items()],
        "resources": [{"url": url, "format": "IATI-XML"} for url in urls],
    }


def test_a_ckan_listing_is_paged_through_and_its_publishers_synced(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    a = server.serve("/files/a.xml", usaid(tmp_path, "a.xml", [1]))
    b = server.serve("/files/b.xml", usaid(tmp_path, "b.xml", [2]))
    c = server.serve("/files/c.xml", usaid(tmp_path, "c.xml", [3]))
    packages = [
        _package("usaid-a", [a], organisation={"name": "usaid"},
                 extras={"publisher_iati_id": USAID, "filetype": "activity"}),
        _package("usaid-org", [server.base + "/files/org.xml"], organisation={"name": "usaid"},
                 extras={"publisher_iati_id": USAID, "filetype": "organisation"}),
        _package("usaid-b", [b], organisation={"name": "usaid", "publisher_iati_id": USAID}),
        _package("wb-sv", [server.base + "/files/wb.xml"], organisation={"name": "worldbank"},
                 extras={"publisher_iati_id": "44000"}),
        _package("mission-c", [c], organisation={"name": "usaid-mission"}),
    ]

    def package_search(query: dict[str, list[str]]) -> bytes:
        start, rows = int(query["start"][0]), int(query["rows"][0])
        result = {"count": len(packages), "results": packages[start:start + rows]}
        return json.dumps({"success": True, "result": result}).encode()

    server.serve("/api/3/action/package_search", package_search)
    sources = sources_file(tmp_path, (
        f'[[ckan]]\nurl = "{server.base}/?fq=organization:usaid"\nrows = 2\n'
        'publishers = { usaid-mission = "US-GOV-1" }\n'
    ))
    report = run_sync(store, sources)
    pages = [r.path for r in server.requests_to("/api/3/action/package_search")]
    assert [parse_qs(urlsplit(p).query)["start"] for p in pages] == [["0"], ["2"], ["4"]]
    assert all(parse_qs(urlsplit(p).query)["fq"] == ["organization:usaid"] for p in pages)
    assert [(r.url, r.status) for r in report.sources] == [
        (a, SyncStatus.pushed), (b, SyncStatus.pushed), (c, SyncStatus.pushed)
    ]
    assert live(store) == ids(1, 2, 3)
    assert report.notes == [
        "publisher 44000 (1 datasets) is not registered; add it with "
        "`iati-ec orgs add --ref 44000` to sync it"
    ]
    assert source_row(store, a).dataset == "usaid-a"
    assert not server.requests_to("/files/org.xml")


def test_a_failed_listing_holds_back_every_deletion(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    url = server.serve("/own.xml", usaid(tmp_path, "own1.xml", [1, 2]))
    server.serve("/api/3/action/package_search", b"{}", statuses=[500] * 3)
    toml = publisher_toml(USAID, url) + f'\n[[ckan]]\nurl = "{server.base}"\n'
    sources = sources_file(tmp_path, toml)
    first = run_sync(store, sources)
    assert first.listing_errors == [
        f"{server.base}/api/3/action/package_search: HTTP 500 (after 3 attempts)"
    ]
    assert first.failed
    server.serve("/own.xml", usaid(tmp_path, "own2.xml", [2]))
    server.routes["/api/3/action/package_search"].statuses = [500] * 3
    second = run_sync(store, sources)
    assert second.held == {USAID: "a CKAN listing failed"}
    assert live(store) == ids(1, 2)


def test_sources_files_in_json_and_saved_package_search_answers(tmp_path: Path) -> None:
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"publisher": [
        {"org": USAID, "datasets": ["https://example.org/a.xml"], "complete": False}
    ]}))
    [publisher] = read_sources(path).publishers
    assert (publisher.ref, publisher.complete) == (USAID, False)
    saved = tmp_path / "registry.json"
    saved.write_text(json.dumps({"success": True, "result": {"count": 1, "results": [
        _package("usaid-a", ["https://example.org/a.xml"], organisation={"name": "usaid"},
                 extras={"publisher_iati_id": USAID}),
    ]}}))
    assert read_sources(saved).packages[0]["name"] == "usaid-a"


@pytest.mark.parametrize(("text", "message"), [
    ("not = [valid", "neither valid TOML nor JSON"),
    ('[[publisher]]\norg = "X"\ndatasets = ["file:///etc/passwd"]\n', "is not an http(s) URL"),
    ('[[publisher]]\ndatasets = ["https://example.org/a.xml"]\n', "needs org ="),
    ('[[publisher]]\norg = "X"\ndatasets = []\n', "datasets must be a list of URLs"),
    ('[[ckan]]\nurl = "https://example.org"\nrows = 5000\n', "rows must be"),
    ('[[dataset]]\nurl = "https://example.org"\n', "unknown keys ['dataset']"),
    ("", "names no [[publisher]] and no [[ckan]]"),
])
def test_an_unusable_sources_file_says_what_to_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(SourcesFileError) as raised:
        sources_file(tmp_path, text)
    assert message in raised.value.message


def test_admins_see_each_sources_state_over_http(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    good = server.serve("/good.xml", usaid(tmp_path, "g.xml", [1]), etag='"g1"')
    bad = server.serve("/bad.xml", b"", statuses=[404])
    run_sync(store, sources_file(tmp_path, publisher_toml(USAID, good, bad)))
    api = Api(store)
    admin = new_key(store, USAID, KeyScope.admin)
    answer = api.request("GET", "/api/v1/sync/sources", key=admin)
    assert answer.status_code == 200, answer.text
    shown = {source["url"]: source for source in answer.json()}
    assert shown[good]["status"] == "pushed"
    assert shown[good]["etag"] == '"g1"'
    assert shown[good]["organisation"] == "USAID"
    assert (shown[bad]["status"], shown[bad]["error"]) == ("failed", "HTTP 404")
    failing = api.request("GET", "/api/v1/sync/sources", key=admin, params={"status": "failed"})
    assert [source["url"] for source in failing.json()] == [bad]
    publisher = new_key(store, USAID, KeyScope.publish)
    refused = api.request("GET", "/api/v1/sync/sources", key=publisher)
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.insufficient-scope")


def test_a_dataset_dropped_from_the_sources_loses_its_activities_until_added_back(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    a = server.serve("/a.xml", usaid(tmp_path, "a1.xml", [1, 2]), etag='"a1"')
    b = server.serve("/b.xml", usaid(tmp_path, "b1.xml", [3]), etag='"b1"')
    run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a, b)))
    server.serve("/a.xml", usaid(tmp_path, "a2.xml", [1, 2], a1=set_first_transaction("7", None)),
                 etag='"a2"')
    run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a)))
    assert live(store) == ids(1, 2)
    # B is listed again, unchanged on its server: pushed whole, not taken as not modified.
    [_, back] = run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a, b))).sources
    assert back.push is not None
    assert back.push.activities[0].outcome == "created"  # restored, as a push reports it
    assert live(store) == ids(1, 2, 3)


def test_a_dataset_url_has_one_publisher(store: Engine, tmp_path: Path) -> None:
    add_publisher(store, USAID)
    add_publisher(store, "GB-GOV-1", name="FCDO")
    url = "https://example.org/shared.xml"
    text = publisher_toml(USAID, url) + publisher_toml("GB-GOV-1", url)
    with pytest.raises(SourcesFileError, match="listed for both US-GOV-1 and GB-GOV-1"):
        run_sync(store, sources_file(tmp_path, text))


def test_the_manuals_sources_file_is_one(tmp_path: Path) -> None:
    manual = Path(__file__).resolve().parents[2] / "docs" / "sync.md"
    example = manual.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    declared = sources_file(tmp_path, example)
    assert [p.ref for p in declared.publishers] == [USAID]
    [listing] = declared.listings
    assert (listing.rows, listing.publishers) == (1000, {"usaid": USAID})


def test_a_publisher_whose_sources_all_left_is_reported_and_kept_by_default(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    add_publisher(store, "GB-GOV-1", name="FCDO")
    a = server.serve("/a.xml", usaid(tmp_path, "a.xml", [1, 2]))
    bad = server.serve("/bad.xml", b"", statuses=[500] * 10)
    run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a, bad)))
    assert source_row(store, bad).status is SyncStatus.failed
    # Both sources leave the listing; another publisher's sync goes on.
    fcdo = server.serve("/fcdo.xml", usaid(tmp_path, "f.xml", [3]))
    later = run_sync(store, sources_file(tmp_path, publisher_toml("GB-GOV-1", fcdo)))
    assert [(v.publisher.name, v.publisher.urls, v.retire_after, v.retired)
            for v in later.vanished] == [("USAID", (a, bad), None, 0)]
    assert {source_row(store, url).status for url in (a, bad)} == {SyncStatus.gone}
    assert source_row(store, bad).consecutive_failures == 0
    assert live(store) >= ids(1, 2)
    api = Api(store)
    admin = new_key(store, USAID, KeyScope.admin)
    failing = api.request("GET", "/api/v1/sync/sources", key=admin, params={"status": "failed"})
    assert failing.json() == []
    since = source_row(store, a).checked_at
    again = run_sync(store, sources_file(tmp_path, publisher_toml("GB-GOV-1", fcdo)))
    assert [v.publisher.since for v in again.vanished] == [since]  # first found gone, kept


def test_a_gone_publishers_activities_are_deleted_after_the_grace_period_and_come_back(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    add_publisher(store, "GB-GOV-1", name="FCDO")
    a = server.serve("/a.xml", usaid(tmp_path, "a.xml", [1, 2]), etag='"a"')
    run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a)))
    Api(store).request("POST", "/api/v1/activities", key=new_key(store, USAID, KeyScope.publish),
                       content=usaid(tmp_path, "own.xml", [4]))  # pushed, not synced
    fcdo = sources_file(tmp_path, publisher_toml("GB-GOV-1", server.base + "/none.xml"))

    def sync_with_grace(days: int) -> SyncReport:
        with new_client(POLICY, user_agent="iati-ec-test") as client:
            plan = make_plan(store, fcdo, client=client, policy=POLICY)
            return Syncer(store, client, POLICY, sleep=lambda _: None,
                          gone_grace=timedelta(days=days)).run(plan)

    waiting = sync_with_grace(30).vanished
    assert [(v.retired, v.retire_after is not None) for v in waiting] == [(0, True)]
    assert live(store) >= ids(1, 2, 4)
    [due] = sync_with_grace(0).vanished
    assert due.retired == 2
    assert ids(1, 2).isdisjoint(live(store))
    assert ids(4) <= live(store)  # not held by a gone source
    # Listed again, unchanged on its server: pushed whole, its activities restored.
    [back] = run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a))).sources
    assert back.status is SyncStatus.pushed
    assert ids(1, 2) <= live(store)


def test_a_failed_listing_marks_nothing_gone(
    store: Engine, server: SourceServer, tmp_path: Path
) -> None:
    add_publisher(store, USAID)
    a = server.serve("/a.xml", usaid(tmp_path, "a.xml", [1]))
    run_sync(store, sources_file(tmp_path, publisher_toml(USAID, a)))
    server.serve("/api/3/action/package_search", b"{}", statuses=[500] * 3)
    report = run_sync(store, sources_file(tmp_path, f'[[ckan]]\nurl = "{server.base}"\n'))
    assert report.listing_errors
    assert not report.vanished
    assert source_row(store, a).status is SyncStatus.pushed
