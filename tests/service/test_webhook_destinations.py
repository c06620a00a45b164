"""Where webhooks may send events: public addresses only, whatever the spelling of the host,
checked when registering and again at the connection itself (the address checked is the
address connected to), internal receivers only through the operator's allow-list; and a
request that got no answer says nothing about why. Real receivers on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from service.api.routes.webhooks import delivery_policy
from service.config import Settings
from service.models import KeyScope
from service.services.push import Publisher
from service.services.webhooks import (
    NO_ANSWER,
    NOT_ALLOWED,
    DeliveryPolicy,
    Destinations,
    deliver_due,
)
from tests.support.dns import Dns
from tests.support.publishing import USAID, USAID_EC, Api, add_publisher, new_key, push, variant
from tests.support.webhook_receiver import Receiver, server_context

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SETTING = "IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS"
NAMES = Dns({
    "mef.gob.ec": ["190.152.42.17"],
    "localhost": ["::1", "127.0.0.1"],
    "intranet.mef.test": ["10.20.0.7"],  # split-horizon DNS: an internal name
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["190.152.42.17", "192.168.1.20"],  # one internal answer is enough
    "v6only.test": ["fd12:3456::1"],
})
REFUSED = [
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://127.0.0.1:8000/",
    "http://localhost:5432/", "http://[::1]:22/", "http://[::]/", "http://0.0.0.0/",
    "http://10.0.0.5/", "http://172.16.3.4/", "http://172.31.255.254/", "http://192.168.1.1/",
    "http://100.64.0.1/", "http://100.127.255.254/", "http://[fc00::1]/", "http://[fd00:ec::2]/",
    "http://224.0.0.1/", "http://[ff02::1]/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://192.0.2.10/", "http://[2001:db8::1]/", "http://[fec0::1]/",
    # IPv6 forms of internal IPv4 addresses: mapped, compatible, NAT64, 6to4, Teredo
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a00:5]/",
    "http://[::127.0.0.1]/", "http://[64:ff9b::10.0.0.1]/", "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::a00:1]/", "http://[2002:7f00:1::]/", "http://[2002:c0a8:101::1]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    # 127.0.0.1 as the C library also reads it: decimal, octal, hex, short forms
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/",
    "http://0x7f000001/", "http://017700000001/", "http://0x7F.0.0.1/", "http://127.0.0.1./",
    "http://2852039166/",  # 169.254.169.254
    # names answering an internal address, and names that do not resolve
    "https://intranet.mef.test/hooks", "http://metadata.test/", "https://mixed.test/",
    "https://v6only.test/", "https://nowhere.test/",
]
ACCEPTED = [
    "https://mef.gob.ec/hooks", "https://8.8.8.8/hooks", "https://[2001:4860:4860::8888]/h",
    "https://[::ffff:8.8.8.8]/h", "https://[64:ff9b::808:808]/h", "https://172.32.0.1/h",
]


@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


@pytest.fixture
def admin(store: Engine, usaid: Publisher) -> str:
    return new_key(store, USAID, KeyScope.admin)


def _api(store: Engine, destinations: Destinations, *, timeout: float = 2) -> Api:
    api = Api(store)
    policy = DeliveryPolicy(timeout=timeout, destinations=destinations)
    api.app.dependency_overrides[delivery_policy] = lambda: policy
    return api


def _register(api: Api, key: str, url: str) -> dict[str, Any]:
    answer = api.request("POST", "/api/v1/webhooks", key=key, json={"url": url})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _ping(api: Api, key: str, webhook_id: int) -> dict[str, Any]:
    answer = api.request("POST", f"/api/v1/webhooks/{webhook_id}/ping", key=key)
    assert answer.status_code == 200, answer.text
    attempt: dict[str, Any] = answer.json()
    return attempt


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def test_registering_a_host_that_is_not_public_is_a_422_problem_in_any_spelling(
    store: Engine, admin: str
) -> None:
    api = _api(store, Destinations(resolve=NAMES))
    answers = {url: api.request("POST", "/api/v1/webhooks", key=admin, json={"url": url})
               for url in REFUSED}

    assert {url: a.status_code for url, a in answers.items() if a.status_code != 422} == {}
    problem = answers["http://2130706433/"]
    assert problem.headers["content-type"] == "application/problem+json"
    body = problem.json()
    assert (body["code"], body["status"], body["host"]) == (
        "webhook.destination-not-allowed", 422, "2130706433")
    assert body["type"].endswith("/webhook.destination-not-allowed")
    assert SETTING in body["detail"]
    for url, answer in answers.items():
        assert answer.json()["code"] == "webhook.destination-not-allowed", url
        assert "10.20.0.7" not in answer.json()["detail"]  # internal DNS stays unsaid
    assert api.request("GET", "/api/v1/webhooks", key=admin).json() == []
    for url in ACCEPTED:  # public addresses, in their IPv6 forms too
        _register(api, admin, url)


def test_an_internal_receiver_is_reached_when_its_host_or_network_is_allowed(
    store: Engine, admin: str, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    by_name = f"http://localhost:{receiver.port}/hooks/iati"
    short = f"http://127.1:{receiver.port}/hooks/iati"
    strict = _api(store, Destinations())
    for url in (by_name, short, receiver.url):
        refused = strict.request("POST", "/api/v1/webhooks", key=admin, json={"url": url})
        assert refused.status_code == 422, url

    _register(_api(store, Destinations.allowing(["LocalHost"])), admin, by_name)
    _register(_api(store, Destinations.allowing(["127.0.0.0/8"])), admin, short)
    push(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    allowed = Destinations.allowing(["localhost", "127.0.0.0/8"])

    summary = deliver_due(store, now=T0, policy=DeliveryPolicy(timeout=2, destinations=allowed))

    assert (summary.delivered, summary.failed) == (2, 0)
    assert sorted(r.headers["host"] for r in receiver.requests) == sorted(
        [f"localhost:{receiver.port}", f"127.1:{receiver.port}"])


def test_delivery_and_ping_refuse_a_stored_url_that_leads_inside(
    store: Engine, admin: str, usaid: Publisher, receiver: Receiver, tmp_path: Path
) -> None:
    # Registered while allowed (or before the check existed); the allow-list is gone now.
    spellings = ["127.0.0.1", "2130706433", "0x7f.1", "127.1", "0x7f000001", "localhost"]
    urls = [f"http://{host}:{receiver.port}/hooks/iati" for host in spellings]
    lenient = _api(store, Destinations.allowing(["127.0.0.0/8", "localhost"]))
    hooks = [_register(lenient, admin, url) for url in urls]
    push(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    strict = _api(store, Destinations())

    summary = deliver_due(store, now=T0, policy=DeliveryPolicy(timeout=2))
    pinged = [_ping(strict, admin, hook["id"]) for hook in hooks]

    assert (summary.delivered, summary.failed) == (0, len(urls))
    assert receiver.requests == []
    assert [(p["outcome"], p["status_code"], p["error"]) for p in pinged] == [
        ("failed", None, NOT_ALLOWED)] * len(urls)
    for hook in hooks:
        log = strict.request("GET", f"/api/v1/webhooks/{hook['id']}/deliveries",
                             key=admin).json()["deliveries"]
        assert [(d["event"], d["outcome"], d["error"]) for d in log] == [
            ("ping", "failed", NOT_ALLOWED), ("activity.created", "retrying", NOT_ALLOWED)]


def test_the_connection_goes_to_the_address_checked_however_dns_answers_next(
    store: Engine, admin: str, receiver: Receiver
) -> None:
    # 127.0.0.1 is allowed, 127.0.0.2 is not; a trap listens there on the same port.
    trap = Receiver(host="127.0.0.2", port=receiver.port)
    try:
        dns = Dns({"hooks.rebinding.test": ["127.0.0.1"]})
        api = _api(store, Destinations.allowing(["127.0.0.1"], resolve=dns))
        hook = _register(api, admin, f"http://hooks.rebinding.test:{receiver.port}/hooks")

        dns.answer("hooks.rebinding.test", ["127.0.0.1"], ["127.0.0.2"])  # then rebound
        checked = _ping(api, admin, hook["id"])
        dns.answer("hooks.rebinding.test", ["127.0.0.2"])
        rebound = _ping(api, admin, hook["id"])
        dns.answer("hooks.rebinding.test", ["127.0.0.1", "127.0.0.2"])
        mixed = _ping(api, admin, hook["id"])
    finally:
        trap.close()

    assert (checked["outcome"], checked["status_code"]) == ("delivered", 200)
    assert [r.headers["host"] for r in receiver.requests] == [
        f"hooks.rebinding.test:{receiver.port}"]
    assert (rebound["outcome"], rebound["error"]) == ("failed", NOT_ALLOWED)
    assert (mixed["outcome"], mixed["error"]) == ("failed", NOT_ALLOWED)
    assert trap.requests == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_tls_verifies_the_url_s_host_name_while_connecting_to_the_address_checked(
    store: Engine, admin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context, certificate = server_context(tmp_path, "hooks.mef.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # the clients' one trusted CA
    receiver = Receiver(tls=context)
    try:
        dns = Dns({"hooks.mef.test": ["127.0.0.1"], "other.mef.test": ["127.0.0.1"]})
        api = _api(store, Destinations.allowing(["127.0.0.1"], resolve=dns))
        good = _register(api, admin, f"https://hooks.mef.test:{receiver.port}/hooks")
        wrong = _register(api, admin, f"https://other.mef.test:{receiver.port}/hooks")

        delivered = _ping(api, admin, good["id"])
        refused = _ping(api, admin, wrong["id"])
    finally:
        receiver.close()

    assert (delivered["outcome"], delivered["status_code"]) == ("delivered", 200)
    (request,) = receiver.requests  # none over the connection whose certificate is wrong
    assert request.headers["host"] == f"hooks.mef.test:{receiver.port}"
    assert receiver.server_names[:2] == ["hooks.mef.test", "other.mef.test"]
    assert (refused["outcome"], refused["error"]) == ("failed", NO_ANSWER)


def test_a_request_without_an_answer_gets_one_reason_whatever_the_cause(
    store: Engine, admin: str
) -> None:
    with socket.socket() as closed, socket.socket() as silent:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections wait in the backlog, never answered: a time-out
        # gone.mef.test is allowed by name, and does not resolve
        api = _api(store, Destinations.allowing(["127.0.0.1", "gone.mef.test"], resolve=Dns()),
                   timeout=0.3)
        urls = [f"http://127.0.0.1:{closed.getsockname()[1]}/h",
                f"http://127.0.0.1:{silent.getsockname()[1]}/h", "http://gone.mef.test/h"]
        hooks = [_register(api, admin, url) for url in urls]
        attempts = [_ping(api, admin, hook["id"]) for hook in hooks]

    assert [(a["outcome"], a["status_code"], a["error"]) for a in attempts] == [
        ("failed", None, NO_ANSWER)] * 3
    for hook in hooks:
        (logged,) = api.request("GET", f"/api/v1/webhooks/{hook['id']}/deliveries",
                                key=admin).json()["deliveries"]
        assert logged["error"] == NO_ANSWER


def test_the_setting_lists_hosts_and_networks_and_refuses_anything_else(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTING, " SIGEF.mef.local, 10.20.0.0/16,192.168.5.9 ,fd00:ec::/64")
    destinations = DeliveryPolicy.from_settings(Settings()).destinations
    assert destinations.hosts == {"sigef.mef.local"}
    assert [str(n) for n in destinations.networks] == [
        "10.20.0.0/16", "192.168.5.9/32", "fd00:ec::/64"]
    for wrong in ("https://sigef.mef.local/hooks", "10.20.0.0/40", "sigef mef"):
        monkeypatch.setenv(SETTING, wrong)
        with pytest.raises(ValidationError, match="not a host name, an address or a network"):
            Settings()
    monkeypatch.delenv(SETTING)
    assert DeliveryPolicy.from_settings(Settings()).destinations == Destinations()
