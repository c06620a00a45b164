"""Hostile or careless requests get a problem, never a 500, on SQLite and on PostgreSQL:
numbers beyond what the database columns hold (422 or 404), bodies declared larger than
the limit (413 before reading), anonymous validations beyond their number (429), unknown
paths (JSON bodies: `test_json_bodies`)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from service.config import get_settings
from service.models import KeyScope
from tests.support.publishing import (
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    variant,
)
from tests.support.samples import sample

HUGE = "99999999999999999999"  # beyond 64 bits
BEYOND_INT32 = "2147483648"


@pytest.fixture
def keys(store: Engine) -> dict[str, str]:
    add_publisher(store, "US-GOV-1")
    return {"admin": new_key(store, "US-GOV-1", KeyScope.admin),
            "read": new_key(store, "US-GOV-1", KeyScope.read)}


@pytest.mark.parametrize(("method", "path", "params", "scope"), [
    ("GET", "/api/v1/changes", {"since": HUGE}, "read"),
    ("GET", f"/api/v1/activities/US-GOV-1-A/versions/{HUGE}", {}, "read"),
    ("GET", f"/api/v1/activities/US-GOV-1-A/versions/{BEYOND_INT32}", {}, "read"),
    ("GET", f"/api/v1/webhooks/{HUGE}", {}, "admin"),
    ("GET", f"/api/v1/webhooks/{BEYOND_INT32}", {}, "admin"),
    ("DELETE", f"/api/v1/webhooks/{BEYOND_INT32}", {}, "admin"),
    ("GET", f"/api/v1/webhooks/{BEYOND_INT32}/deliveries", {"before": HUGE}, "admin"),
    ("POST", f"/api/v1/webhooks/{HUGE}/replay", {"since": "0"}, "admin"),
    ("POST", "/api/v1/webhooks/1/replay", {"since": HUGE}, "admin"),
    ("GET", "/api/v1/organisations", {"offset": HUGE}, "read"),
    ("GET", "/api/v1/exports/budget.csv", {"year": HUGE}, "read"),
])
def test_a_number_too_large_for_its_column_is_a_422_problem(
    store: Engine, keys: dict[str, str], method: str, path: str, params: dict[str, str],
    scope: str,
) -> None:
    answer = Api(store).request(method, path, key=keys[scope], params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("named", [HUGE, BEYOND_INT32])
def test_an_organisation_named_by_a_huge_number_is_not_found(
    store: Engine, keys: dict[str, str], named: str
) -> None:
    answer = Api(store).request("GET", f"/api/v1/organisations/{named}", key=keys["read"])
    assert answer.status_code == 404, answer.text


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    store: Engine, keys: dict[str, str]
) -> None:
    publish = new_key(store, "US-GOV-1", KeyScope.publish)
    huge = {"Content-Length": "3000000000", "Content-Type": "application/xml"}
    for path in ("/api/v1/activities", "/api/v1/validate"):
        answer = Api(store).request("POST", path, key=publish, content=b"<x/>", headers=huge)
        assert answer.status_code == 413, (path, answer.text)
        assert answer.json()["code"] == "input.too-large"
        assert "3,000,000,000" in answer.json()["detail"]


def test_anonymous_validation_takes_smaller_files_than_a_keyed_one(
    store: Engine, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IATI_EC_ANONYMOUS_VALIDATE_BYTES", "100")
    get_settings.cache_clear()
    try:
        body = sample("real/usaid-ec.xml").read_bytes()[:5000]
        anonymous = Api(store).request("POST", "/api/v1/validate", content=body)
        assert anonymous.status_code == 413
        keyed = Api(store).request(
            "POST", "/api/v1/validate", key=new_key(store, "US-GOV-1", KeyScope.publish),
            content=body)
        assert keyed.status_code == 200  # a cut file: unreadable, but validated
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_an_unknown_path_is_a_404_problem(store: Engine, keys: dict[str, str]) -> None:
    unknown = Api(store).request("GET", "/api/v1/no-such-thing", key=keys["read"])
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "request.not-found"


def test_a_publish_only_key_reads_its_own_raw_versions_only_and_no_merges(
    store: Engine, keys: dict[str, str], tmp_path: Path
) -> None:
    """The raw XML of another organisation's versions, and the registry's merge log, are
    for read keys; a publish-only key reads back what it published."""
    add_publisher(store, "XM-USAID-COPY", name="Another donor")
    mine = new_key(store, "US-GOV-1", KeyScope.publish)
    api = Api(store)
    pushed = api.request("POST", "/api/v1/activities", key=mine,
                         content=variant(USAID_EC, tmp_path / "one.xml", keep=1).read_bytes())
    assert pushed.json()["counts"]["created"] == 1
    identifier = identifier_of(USAID_EC, 1)
    own = api.request("GET", f"/api/v1/activities/{identifier}/versions/1", key=mine)
    assert own.status_code == 200
    assert identifier in own.text
    theirs = new_key(store, "XM-USAID-COPY", KeyScope.publish)
    refused = api.request("GET", f"/api/v1/activities/{identifier}/versions/1", key=theirs)
    assert refused.status_code == 404
    assert refused.json()["code"] == "activity.not-found"  # not even whether it exists
    assert api.request("GET", f"/api/v1/activities/{identifier}/versions/1",
                       key=keys["read"]).status_code == 200
    assert api.request("GET", "/api/v1/organisations/merges", key=theirs).status_code == 403
    assert api.request("GET", "/api/v1/organisations/merges", key=keys["read"]).status_code == 200


def test_anonymous_validations_run_a_few_at_a_time_and_keyed_ones_are_not_counted(
    store: Engine, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IATI_EC_ANONYMOUS_VALIDATE_CONCURRENCY", "1")
    get_settings.cache_clear()
    api = Api(store)
    body = sample("real/usaid-bo.xml").read_bytes()
    reader = new_key(store, "US-GOV-1", KeyScope.read)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        sent = asyncio.Event()
        more = asyncio.Event()

        async def trickle() -> AsyncIterator[bytes]:  # holds its slot until told to finish
            yield body[:1000]
            sent.set()
            await more.wait()
            yield body[1000:]

        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://iati-ec") as http:
            slow = asyncio.create_task(http.post("/api/v1/validate", content=trickle(),
                                                 timeout=120))
            await sent.wait()
            refused = await http.post("/api/v1/validate", content=body, timeout=120)
            keyed = await http.post("/api/v1/validate", content=body, timeout=120,
                                    headers={"Authorization": f"Bearer {reader}"})
            more.set()
            return await slow, refused, keyed

    try:
        slow, refused, keyed = asyncio.run(scenario())
        assert (refused.status_code, refused.json()["code"]) == (429, "validate.busy")
        assert int(refused.headers["retry-after"]) > 0
        assert keyed.status_code == 200
        assert slow.status_code == 200
        assert slow.json()["valid"] is True
        after = api.request("POST", "/api/v1/validate", content=body)
        assert after.status_code == 200  # the slot was given back
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _cursor(*parts: object) -> str:
    """A cursor made by hand, as the lists make theirs (base64 of a JSON array)."""
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HAND_MADE = [
    ("/api/v1/activities", {}, _cursor("stored", None, 2**70)),
    ("/api/v1/activities", {}, _cursor("stored", None, True)),
    ("/api/v1/activities", {"sort": "iati_identifier"}, _cursor("iati_identifier", [1], 1)),
    ("/api/v1/activities", {"sort": "iati_identifier"},
     _cursor("iati_identifier", {"a": 1}, 1)),
    ("/api/v1/activities", {"sort": "iati_identifier"}, _cursor("iati_identifier", "a\x00", 1)),
    ("/api/v1/activities", {"sort": "iati_identifier"},
     base64.urlsafe_b64encode(b'["iati_identifier", 1e400, 1]').decode()),
    ("/api/v1/activities", {}, base64.urlsafe_b64encode(b"[" * 10_000).decode()),
    ("/api/v1/transactions", {}, _cursor("transaction", "stored", None, 2**64)),
    ("/api/v1/transactions", {"sort": "iati_identifier"},
     _cursor("transaction", "iati_identifier", [["x"]], 1)),
    ("/api/v1/budgets", {}, _cursor("budget", "stored", 10**30, 1)),
]


@pytest.mark.parametrize(("path", "params", "cursor"), HAND_MADE)
def test_a_hand_made_cursor_is_a_400_never_a_database_error(
    store: Engine, keys: dict[str, str], path: str, params: dict[str, str], cursor: str
) -> None:
    answer = Api(store).request("GET", path, key=keys["read"],
                                params={**params, "cursor": cursor})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "query.bad-cursor"
