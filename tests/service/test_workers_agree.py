"""Several API processes on one store answer alike right after a write: `iati-ec serve
--workers 2` on SQLite and PostgreSQL, every answer kept by a worker (aggregates, results,
duplicates, quality, the dashboard's pages) given up as soon as another worker changes the
store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.support.loads import Loaded
from tests.support.publishing import USAID_EC, identifier_of, set_first_transaction, variant
from tests.support.serving import environment_without_database, serving

ASKED = 8  # each read asked this often, a new connection each: both workers answer some
READS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/aggregates", {"group_by": "reporting_org", "measure": "commitment"}),
    ("/api/v1/aggregates", {"group_by": "year", "measure": "disbursement", "ecuador": "true"}),
    ("/api/v1/activity", {"iati_identifier": identifier_of(USAID_EC, 1)}),
    ("/api/v1/activity/budget-view", {"iati_identifier": identifier_of(USAID_EC, 1)}),
    ("/api/v1/coordination/duplicates", {"limit": "50"}),
    ("/api/v1/results/summary", {}),
    ("/api/v1/publishers/US-GOV-1/quality", {}),
    ("/api/v1/changes", {"limit": "1000"}),
]
PAGES = ["/", "/organizaciones"]


def _ask(base: str, key: str, path: str, params: dict[str, str], tag: str) -> Any:
    with httpx.Client(base_url=base, timeout=60) as client:  # a new connection
        answer = client.get(path, params=params, headers={
            "Authorization": f"Bearer {key}", "X-Request-Id": tag})
    assert answer.status_code == 200, (path, answer.text)
    return answer.json() if path.startswith("/api/") else answer.text


def _answers(base: str, key: str, round_: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for n, (path, params) in enumerate(READS):
        found[f"{path}?{params}"] = [_ask(base, key, path, params, f"agree-{round_}-{n}-{i}")
                                     for i in range(ASKED)]
    for path in PAGES:
        found[path] = [_ask(base, key, path, {}, f"agree-{round_}-page-{i}")
                       for i in range(ASKED)]
    return found


def test_two_workers_agree_right_after_a_push(
    loaded: Loaded, store_url: str, tmp_path: Path
) -> None:
    environment = environment_without_database() | {
        "DATABASE_URL": store_url, "IATI_EC_MIGRATE_ON_STARTUP": "false",
        "IATI_EC_LOG_FORMAT": "json",
    }
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=1, a1=set_first_transaction(
        "98765432.10", "2030-01-01T00:00:00Z"))
    output: list[str] = []
    with serving(tmp_path, environment=environment, arguments=["--workers", "2"],
                 start_seconds=120, output=output) as base:
        before = _answers(base, loaded.read, "before")  # kept by whichever worker answered
        with httpx.Client(base_url=base, timeout=120) as client:
            pushed = client.post("/api/v1/activities", content=changed.read_bytes(), headers={
                "Authorization": f"Bearer {loaded.publish}", "X-Request-Id": "agree-push"})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["counts"]["updated"] == 1
        after = _answers(base, loaded.read, "after")

    # Each worker's answers after the push are the store's as it is now, the one process
    # in this test that never answered before the push.
    for read, (path, params) in zip(after, READS, strict=False):
        fresh = loaded.api.request("GET", path, key=loaded.read, params=params)
        assert fresh.status_code == 200
        assert all(answer == fresh.json() for answer in after[read]), read
    for path in PAGES:
        assert len(set(after[path])) == 1, path
    changed_reads = [read for read in after if after[read][0] != before[read][0]]
    assert {"/", f"{READS[0][0]}?{READS[0][1]}", f"{READS[2][0]}?{READS[2][1]}",
            f"{READS[7][0]}?{READS[7][1]}"} <= set(changed_reads)
    assert "98765432.1" in json.dumps(after[f"{READS[2][0]}?{READS[2][1]}"][0])

    answered_by: dict[str, set[int]] = {}
    for line in output:
        if not line.startswith("{"):
            continue
        logged = json.loads(line)
        round_ = str(logged.get("request_id", "")).split("-")[1:2]
        if logged.get("logger") == "iati_ec.access" and round_:
            answered_by.setdefault(round_[0], set()).add(logged["pid"])
    assert len(answered_by["before"]) == 2
    assert len(answered_by["after"]) == 2
