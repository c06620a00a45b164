"""Webhooks against a real HTTP receiver, on SQLite and PostgreSQL: signed events in order,
retries with back-off, the delivery log, replay, filters, ping, and who may manage them."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from service.addresses import activity_url
from service.api.routes.webhooks import delivery_policy
from service.app import create_app
from service.config import get_settings
from service.db import get_engine
from service.models import KeyScope
from service.services.push import Publisher
from service.services.webhooks import (
    NO_ANSWER,
    DeliveryPolicy,
    Destinations,
    deliver_due,
    signature_header,
)
from service.services.webhooks.registry import WEBHOOK_URL
from tests.support.dns import Dns
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    push,
    set_first_transaction,
    set_identifier,
    set_reporting_org,
    variant,
)
from tests.support.webhook_receiver import Receiver

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
# The receivers listen on 127.0.0.1, which webhooks reach only when it is allowed; the
# subscribers' public names are answered without a network.
DESTINATIONS = Destinations.allowing(
    ["127.0.0.1"], resolve=Dns({"mef.gob.ec": ["190.152.42.17"], "x.example": ["8.8.8.8"]})
)
POLICY = DeliveryPolicy(timeout=2, retry_base=10, retry_cap=80, failing_after=3,
                        destinations=DESTINATIONS)
ALL = ["activity.created", "activity.updated", "activity.deleted", "activity.restored",
       "activity.transferred", "agreement.created", "agreement.updated", "agreement.deleted"]



@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


@pytest.fixture
def admin(store: Engine, usaid: Publisher) -> str:
    return new_key(store, USAID, KeyScope.admin)


@pytest.fixture
def api(store: Engine) -> Api:
    api = Api(store)
    api.app.dependency_overrides[delivery_policy] = lambda: POLICY
    return api


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _register(api: Api, key: str, url: str, **subscription: Any) -> dict[str, Any]:
    answer = api.request("POST", "/api/v1/webhooks", key=key, json={"url": url, **subscription})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _log(api: Api, key: str, webhook_id: int) -> list[dict[str, Any]]:
    answer = api.request("GET", f"/api/v1/webhooks/{webhook_id}/deliveries", key=key)
    assert answer.status_code == 200, answer.text
    deliveries: list[dict[str, Any]] = answer.json()["deliveries"]
    return deliveries


def _dead_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def test_changes_arrive_in_order_signed_and_move_the_cursor(
    api: Api, admin: str, store: Engine, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    hook = _register(api, admin, receiver.url, description="MEF")
    assert hook["secret"].startswith("whsec_")
    assert hook["events"] == ALL
    push(store, usaid, variant(USAID_EC, tmp_path / "three.xml", keep=3))
    push(store, usaid, variant(USAID_EC, tmp_path / "changed.xml", keep=1,
                               a1=set_first_transaction("99.00", "2030-01-01T00:00:00Z")))
    second = identifier_of(USAID_EC, 2)
    assert api.request("DELETE", f"/api/v1/activities/{second}",
                       key=new_key(store, USAID, KeyScope.publish)).status_code == 204

    summary = deliver_due(store, now=T0, policy=POLICY)

    assert (summary.webhooks, summary.delivered, summary.failed) == (1, 5, 0)
    events = receiver.events
    assert [(e["type"], e["kind"], e["version"]) for e in events] == [
        *[("activity.created", "created", 1)] * 3, ("activity.updated", "updated", 2),
        ("activity.deleted", "deleted", 2),
    ]
    assert [e["iati_identifier"] for e in events] == [
        *(identifier_of(USAID_EC, n) for n in (1, 2, 3)), identifier_of(USAID_EC, 1), second,
    ]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    first = events[0]
    assert first["reporting_org"] == USAID
    assert first["url"] == activity_url(identifier_of(USAID_EC, 1))  # where no id is misread
    assert datetime.fromisoformat(first["changed_at"]).tzinfo is not None
    for request in receiver.requests:
        assert request.signed_with(hook["secret"])
        assert not request.signed_with("whsec_another")
        assert request.headers["iati-ec-signature"].startswith(f"t={int(T0.timestamp())},")
        assert request.headers["iati-ec-event"] == request.event["type"]
        assert request.path == "/hooks/iati"
    assert len({r.headers["iati-ec-delivery"] for r in receiver.requests}) == 5
    activity = api.request("GET", events[0]["url"], key=admin)
    assert activity.status_code == 200

    shown = api.request("GET", f"/api/v1/webhooks/{hook['id']}", key=admin).json()
    assert shown["cursor"] == seqs[-1]
    assert "secret" not in shown
    listed = api.request("GET", "/api/v1/webhooks", key=admin).json()
    assert [w["id"] for w in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    log = _log(api, admin, hook["id"])
    assert [(d["first_seq"], d["outcome"], d["status_code"], d["attempt"]) for d in log] == [
        (seq, "delivered", 200, 1) for seq in reversed(seqs)
    ]
    assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True)
    assert deliver_due(store, now=T0 + timedelta(seconds=1), policy=POLICY).delivered == 0
    assert len(receiver.requests) == 5


def test_a_failed_delivery_is_retried_after_the_back_off_and_both_attempts_are_logged(
    api: Api, admin: str, store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    receiver = Receiver([500, 200])
    try:
        hook = _register(api, admin, receiver.url)
        push(store, usaid, variant(USAID_EC, tmp_path / "two.xml", keep=2))

        failed = deliver_due(store, now=T0, policy=POLICY)
        assert (failed.delivered, failed.failed) == (0, 1)
        assert len(receiver.requests) == 1  # the second change waits behind the first
        waiting = api.request("GET", f"/api/v1/webhooks/{hook['id']}", key=admin).json()
        assert waiting["consecutive_failures"] == 1
        assert waiting["cursor"] == hook["cursor"]
        retry_at = T0 + timedelta(seconds=10)
        assert datetime.fromisoformat(waiting["next_attempt_at"]) == retry_at

        early = deliver_due(store, now=retry_at - timedelta(seconds=1), policy=POLICY)
        assert early.webhooks == 0
        assert len(receiver.requests) == 1
        retried = deliver_due(store, now=retry_at, policy=POLICY)
        assert (retried.delivered, retried.failed) == (2, 0)
    finally:
        receiver.close()
    first, again, second = receiver.requests
    assert first.body == again.body
    assert first.headers["iati-ec-delivery"] != again.headers["iati-ec-delivery"]
    assert second.event["seq"] == first.event["seq"] + 1
    log = _log(api, admin, hook["id"])
    assert [(d["first_seq"], d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        (second.event["seq"], 1, 200, "delivered"),
        (first.event["seq"], 2, 200, "delivered"),
        (first.event["seq"], 1, 500, "retrying"),
    ]
    assert datetime.fromisoformat(log[2]["next_attempt_at"]) == retry_at
    assert datetime.fromisoformat(log[1]["attempted_at"]) == retry_at
    settled = api.request("GET", f"/api/v1/webhooks/{hook['id']}", key=admin).json()
    assert (settled["consecutive_failures"], settled["next_attempt_at"]) == (0, None)
    assert settled["cursor"] == second.event["seq"]


def test_a_dead_url_is_logged_and_retried_with_growing_waits_then_marked_failing(
    api: Api, admin: str, store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    hook = _register(api, admin, _dead_url())
    push(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    moment = T0
    waits = []
    for _ in range(4):
        assert deliver_due(store, now=moment, policy=POLICY).failed == 1
        shown = api.request("GET", f"/api/v1/webhooks/{hook['id']}", key=admin).json()
        following = datetime.fromisoformat(shown["next_attempt_at"])
        waits.append((following - moment).total_seconds())
        assert deliver_due(store, now=following - timedelta(seconds=1), policy=POLICY).failed == 0
        moment = following
    assert waits == [10, 20, 80, 80]  # doubling, then the cap once failing
    assert shown["consecutive_failures"] == 4
    assert datetime.fromisoformat(shown["failing_since"]) == T0 + timedelta(seconds=30)
    assert shown["cursor"] == hook["cursor"]
    log = _log(api, admin, hook["id"])
    assert [d["attempt"] for d in log] == [4, 3, 2, 1]
    assert {d["outcome"] for d in log} == {"retrying"}
    assert all(d["status_code"] is None and d["error"] == NO_ANSWER for d in log)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    api: Api, admin: str, store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    receiver = Receiver([302])
    try:
        hook = _register(api, admin, receiver.url)
        push(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
        assert deliver_due(store, now=T0, policy=POLICY).failed == 1
        assert [r.path for r in receiver.requests] == ["/hooks/iati"]
    finally:
        receiver.close()
    (attempt,) = _log(api, admin, hook["id"])
    assert (attempt["status_code"], attempt["outcome"]) == (302, "retrying")
    assert "not followed" in attempt["error"]


def test_replay_delivers_the_changes_after_since_again(
    api: Api, admin: str, store: Engine, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    push(store, usaid, variant(USAID_EC, tmp_path / "three.xml", keep=3))
    hook = _register(api, admin, receiver.url)
    assert deliver_due(store, now=T0, policy=POLICY).webhooks == 0  # only what comes next
    assert receiver.requests == []

    replayed = api.request("POST", f"/api/v1/webhooks/{hook['id']}/replay", key=admin,
                           params={"since": 0})
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["cursor"] == 0
    assert deliver_due(store, now=T0, policy=POLICY).delivered == 3
    seqs = [e["seq"] for e in receiver.events]
    api.request("POST", f"/api/v1/webhooks/{hook['id']}/replay", key=admin,
                params={"since": seqs[0]})
    assert deliver_due(store, now=T0, policy=POLICY).delivered == 2
    assert [e["seq"] for e in receiver.events] == [*seqs, *seqs[1:]]

    ahead = api.request("POST", f"/api/v1/webhooks/{hook['id']}/replay", key=admin,
                        params={"since": seqs[-1] + 1})
    assert ahead.status_code == 400
    assert ahead.json()["code"] == "webhook.replay-ahead"


def test_filters_select_event_types_and_a_reporting_org(
    api: Api, admin: str, store: Engine, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    deletions = _register(api, admin, receiver.url + "/deletions", events=["activity.deleted"])
    british = _register(api, admin, receiver.url + "/gb", reporting_org="GB-GOV-1")
    push(store, usaid, variant(USAID_EC, tmp_path / "two.xml", keep=2))
    gb = add_publisher(store, "GB-GOV-1", name="FCDO")
    push(store, gb, variant(USAID_EC, tmp_path / "gb.xml", keep=1,
                            a1=_chain(set_reporting_org("GB-GOV-1"),
                                      set_identifier("GB-GOV-1-EC-0001"))))
    first = identifier_of(USAID_EC, 1)
    assert api.request("DELETE", f"/api/v1/activities/{first}",
                       key=new_key(store, USAID, KeyScope.publish)).status_code == 204

    assert deliver_due(store, now=T0, policy=POLICY).delivered == 2
    got = {(r.path, r.event["type"], r.event["iati_identifier"]) for r in receiver.requests}
    assert got == {
        ("/hooks/iati/deletions", "activity.deleted", first),
        ("/hooks/iati/gb", "activity.created", "GB-GOV-1-EC-0001"),
    }
    latest = max(r.event["seq"] for r in receiver.requests)
    for hook in (deletions, british):  # past the changes left out, without requests
        shown = api.request("GET", f"/api/v1/webhooks/{hook['id']}", key=admin).json()
        assert shown["cursor"] == latest


def _chain(*edits: Any) -> Any:
    def edit(activity: Any) -> None:
        for step in edits:
            step(activity)

    return edit


def test_ping_sends_a_signed_test_event_and_logs_it_without_retrying(
    api: Api, admin: str, receiver: Receiver
) -> None:
    hook = _register(api, admin, receiver.url)
    answer = api.request("POST", f"/api/v1/webhooks/{hook['id']}/ping", key=admin)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["outcome"], answer.json()["status_code"]) == ("delivered", 200)
    (request,) = receiver.requests
    assert request.signed_with(hook["secret"])
    assert request.event["type"] == request.headers["iati-ec-event"] == "ping"
    assert request.headers["iati-ec-delivery"] == answer.json()["delivery_id"]

    dead = _register(api, admin, _dead_url())
    failed = api.request("POST", f"/api/v1/webhooks/{dead['id']}/ping", key=admin).json()
    assert (failed["outcome"], failed["next_attempt_at"]) == ("failed", None)
    shown = api.request("GET", f"/api/v1/webhooks/{dead['id']}", key=admin).json()
    assert shown["consecutive_failures"] == 0
    assert [d["event"] for d in _log(api, admin, dead["id"])] == ["ping"]


def test_only_admin_keys_manage_webhooks(api: Api, admin: str, store: Engine) -> None:
    hook = _register(api, admin, "https://mef.gob.ec/hooks")
    read = new_key(store, USAID, KeyScope.read)
    publish = new_key(store, USAID, KeyScope.publish)
    calls = [
        ("POST", "/api/v1/webhooks", {"json": {"url": "https://x.example/h"}}),
        ("GET", "/api/v1/webhooks", {}),
        ("GET", f"/api/v1/webhooks/{hook['id']}", {}),
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", {}),
        ("POST", f"/api/v1/webhooks/{hook['id']}/replay", {"params": {"since": 0}}),
        ("POST", f"/api/v1/webhooks/{hook['id']}/ping", {}),
        ("DELETE", f"/api/v1/webhooks/{hook['id']}", {}),
    ]
    for method, url, options in calls:
        anonymous = api.request(method, url, **options)
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "auth.invalid-key")
        for key in (read, publish):
            refused = api.request(method, url, key=key, **options)
            assert refused.status_code == 403, (method, url)
            assert refused.json()["code"] == "auth.insufficient-scope"
    assert api.request("DELETE", f"/api/v1/webhooks/{hook['id']}", key=admin).status_code == 204
    gone = api.request("GET", f"/api/v1/webhooks/{hook['id']}", key=admin)
    assert (gone.status_code, gone.json()["code"]) == (404, "webhook.not-found")


@pytest.mark.parametrize(
    ("url", "reason"),
    [("ftp://mef.gob.ec/in", "http and https"), ("mef.gob.ec/hooks", "http and https"),
     ("https:///hooks", "no host"), ("https://user:pw@mef.gob.ec/h", "credentials"),
     ("http://mef.gob.ec:99999/h", "out of range")],
)
def test_a_url_events_cannot_be_sent_to_is_a_400_problem(
    api: Api, admin: str, url: str, reason: str
) -> None:
    answer = api.request("POST", "/api/v1/webhooks", key=admin, json={"url": url})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "webhook.invalid-url"
    assert reason in answer.json()["detail"]
    assert not re.fullmatch(WEBHOOK_URL, url)  # and the OpenAPI document says so


def test_the_documented_form_of_a_url_takes_ports_paths_and_queries() -> None:
    for url in ("https://mef.gob.ec/hooks", "http://10.0.0.5:65535/in?token=x#f",
                "https://hooks.example.org"):
        assert re.fullmatch(WEBHOOK_URL, url), url


def test_other_bad_input_gets_problems_never_a_500(api: Api, admin: str) -> None:
    def post(body: dict[str, Any]) -> tuple[int, str]:
        answer = api.request("POST", "/api/v1/webhooks", key=admin, json=body)
        return answer.status_code, answer.json()["code"]

    assert post({"url": "https://mef.gob.ec/h", "events": ["activity.moved"]}) == (
        422, "request.invalid")
    assert post({"url": "https://mef.gob.ec/h", "events": []}) == (422, "request.invalid")
    assert post({"url": "https://mef.gob.ec/h", "organisation": "XX-NONE"}) == (
        404, "organisation.not-found")
    assert post({}) == (422, "request.invalid")
    for method, path in (("GET", "/api/v1/webhooks/999999/deliveries"),
                         ("POST", "/api/v1/webhooks/999999/ping"),
                         ("POST", "/api/v1/webhooks/999999/replay?since=0"),
                         ("DELETE", "/api/v1/webhooks/999999")):
        answer = api.request(method, path, key=admin)
        assert (answer.status_code, answer.json()["code"]) == (404, "webhook.not-found")
    paged = api.request("GET", "/api/v1/webhooks/1/deliveries", key=admin,
                        params={"limit": 0})
    assert (paged.status_code, paged.json()["code"]) == (422, "request.invalid")


def test_the_log_is_paged_newest_first(
    api: Api, admin: str, store: Engine, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    hook = _register(api, admin, receiver.url)
    push(store, usaid, variant(USAID_EC, tmp_path / "five.xml", keep=5))
    assert deliver_due(store, now=T0, policy=POLICY).delivered == 5
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        page = api.request("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", key=admin,
                           params=params).json()
        seen += [d["first_seq"] for d in page["deliveries"]]
        before = page["next"]
        if before is None:
            break
    assert seen == sorted((e["seq"] for e in receiver.events), reverse=True)


@pytest.fixture
def receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The service's own settings allow webhooks to the receivers on 127.0.0.1."""
    monkeypatch.setenv("IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS", "127.0.0.1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("receivers_allowed")
def test_the_service_delivers_from_a_thread_while_it_runs(
    store: Engine, admin: str, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    hook = _register(Api(store), admin, receiver.url)
    push(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    served = create_app(deliver_webhooks=True)
    served.dependency_overrides[get_engine] = lambda: store
    arrived, running = asyncio.run(_while_running(served, receiver))
    assert arrived, "the dispatcher delivered nothing in 10 s"
    assert running
    assert not served.state.webhook_dispatcher.running  # stopped with the app
    (request,) = receiver.requests
    assert request.signed_with(hook["secret"])


async def _while_running(app: FastAPI, receiver: Receiver) -> tuple[bool, bool]:
    """Run `app`'s start-up, wait for the receiver's first request, then shut down."""
    async with app.router.lifespan_context(app):
        arrived = await asyncio.to_thread(receiver.arrived.wait, 10)
        return arrived, bool(app.state.webhook_dispatcher.running)


def test_tests_run_without_a_dispatcher_unless_they_ask(store: Engine) -> None:
    quiet = create_app()
    quiet.dependency_overrides[get_engine] = lambda: store

    async def start_and_stop() -> bool:
        async with quiet.router.lifespan_context(quiet):
            return hasattr(quiet.state, "webhook_dispatcher")

    assert not asyncio.run(start_and_stop())


def test_the_manuals_receiver_code_verifies_a_signature_and_refuses_a_forgery() -> None:
    manual = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
    code = manual.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    body = b'{"type":"activity.created","seq":1}'
    header = signature_header("whsec_test", int(time.time()), body)
    assert namespace["verified"]("whsec_test", header, body)
    assert not namespace["verified"]("whsec_test", header, body + b" ")
    assert not namespace["verified"]("whsec_other", header, body)
    stale = signature_header("whsec_test", int(time.time()) - 3600, body)
    assert not namespace["verified"]("whsec_test", stale, body)
