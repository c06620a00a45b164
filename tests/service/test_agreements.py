"""The ministry's cooperation agreements over HTTP, on the real USAID Ecuador load and the
World Bank's published results, on SQLite and PostgreSQL: links to activities stored
before and after the agreement, progress of a metric read from a real indicator (worked by
hand from the XML) by the results pages' rules, money, refusals and the change feed."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine

from service.api.routes.webhooks import delivery_policy
from service.models import KeyScope
from service.services.webhooks import DeliveryPolicy, Destinations, deliver_due
from tests.support.cli import iati_ec
from tests.support.loads import MINISTRY, Loaded
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
)
from tests.support.samples import sample
from tests.support.webhook_receiver import Receiver

WORLD_BANK = "real/worldbank-sv.xml"
AGREEMENT = Path(__file__).resolve().parents[1] / "fixtures" / "agreements" / (
    "health-water-resilience.json")
# "Number of health staff trained" (result 14, indicator 1): baseline 0.00 on 2019-12-31,
# a period 2019-12-31 to 2025-12-31 with target 10,000.00 and actual 10991.
TRAINED = ("44000-P169677", 14, 1)
# "Flow retained in the storm water detention drainage" (result 11, indicator 1):
# baseline 18.50, target 5.10 and actual "15,821", whose comma could be a decimal one.
FLOW = ("44000-P169125", 11, 1)
FIRST, SECOND = identifier_of(USAID_EC, 1), identifier_of(USAID_EC, 2)
# The receiver listens on 127.0.0.1, which webhooks reach only when it is allowed.
POLICY = DeliveryPolicy(timeout=2, destinations=Destinations.allowing(["127.0.0.1"]))


def _admin(loaded: Loaded) -> str:
    add_publisher(loaded.api.engine, MINISTRY, name="Ministerio de Relaciones Exteriores")
    return new_key(loaded.api.engine, MINISTRY, KeyScope.admin)


def _agreement(**changes: Any) -> dict[str, Any]:
    identifier, result, indicator = TRAINED
    body: dict[str, Any] = {
        "code": "CONV-USAID-2024-001", "title": "Convenio de salud y resiliencia",
        "instrument": "grant", "status": "in-force", "signed_on": "2024-06-03",
        "start_date": "2024-07-01", "end_date": "2026-06-30", "amount": "1500000.00",
        "currency": "USD",
        "parties": [{"organisation": USAID, "role": "donor"},
                    {"organisation": MINISTRY, "role": "recipient"}],
        "activities": [FIRST, SECOND, identifier],
        "objectives": ["PND-2024-2025/1", "PND-2024-2025/7"],
        "metrics": [{
            "name": "Personal de salud capacitado", "unit": "personas", "baseline": "0",
            "targets": [{"period_start": "2019-12-31", "period_end": "2025-12-31",
                         "value": "12000"}],
            "indicator": {"iati_identifier": identifier, "result": result,
                          "indicator": indicator},
        }],
    }
    return {**body, **changes}


def _push_world_bank(loaded: Loaded) -> None:
    add_publisher(loaded.api.engine, "44000", name="World Bank")
    key = new_key(loaded.api.engine, "44000", KeyScope.publish)
    answer = loaded.api.request("POST", "/api/v1/activities", key=key,
                                content=sample(WORLD_BANK).read_bytes())
    assert answer.json()["counts"]["created"] == 13, answer.text


def _ecuador_usd(identifier: str, transaction_type: str) -> Decimal:
    """The activity's transactions of a type, added up from the XML (all in US dollars and
    all to Ecuador: Ecuador's part is the whole)."""
    tree = etree.parse(str(sample(USAID_EC)))
    activity = next(a for a in tree.iter("iati-activity")
                    if a.findtext("iati-identifier").strip() == identifier)
    assert activity.get("default-currency") == "USD"
    total = Decimal(0)
    for transaction in activity.iter("transaction"):
        assert transaction.find("recipient-country").get("code") == "EC"
        assert transaction.find("value").get("currency") in (None, "USD")
        if transaction.find("transaction-type").get("code") == transaction_type:
            total += Decimal(transaction.findtext("value"))
    return total


def test_an_agreement_links_its_activities_now_and_when_they_arrive(loaded: Loaded) -> None:
    admin = _admin(loaded)
    created = loaded.api.request("POST", "/api/v1/agreements", key=admin, json=_agreement())
    assert created.status_code == 201, created.text
    agreement = created.json()
    present = {a["iati_identifier"]: a["present"] for a in agreement["linked_activities"]}
    assert present == {FIRST: True, SECOND: True, TRAINED[0]: False}
    assert [(p["organisation"], p["role"]) for p in agreement["parties"]] == [
        (USAID, "donor"), (MINISTRY, "recipient")]
    assert [o["name"][:30] for o in agreement["objectives"]] == [
        "Mejorar las condiciones de vid", "Precautelar el uso responsable"]
    # Hand-worked from the XML: 111,280.00 + 92,484.00 committed and disbursed.
    assert _ecuador_usd(FIRST, "2") + _ecuador_usd(SECOND, "2") == Decimal("203764.00")
    assert agreement["money"] == {"commitment_usd": "203764.00",
                                  "disbursement_usd": "203764.00", "expenditure_usd": "0.00"}
    metric = agreement["metric_progress"][0]
    assert metric["indicator"]["present"] is False
    assert [(p["progress_state"], p["actual"]) for p in metric["periods"]] == [
        ("no-progress-report", None)]

    _push_world_bank(loaded)  # the awaited activity arrives, with its results

    agreement = loaded.api.request("GET", f"/api/v1/agreements/{agreement['id']}",
                                   key=loaded.read).json()
    linked = agreement["linked_activities"][2]
    assert (linked["present"], linked["reporting_org"]) == (True, "44000")
    period = agreement["metric_progress"][0]["periods"][0]
    # 10991 of 12000 from a baseline of 0: 91.591… % → 91.6 %.
    assert (period["actual"], period["actual_value"]) == ("10991", "10991")
    assert period["progress_percent"] == "91.6"
    assert (period["progress_state"], period["on_track"], period["in_means"]) == (
        "measured", False, True)
    listed = loaded.api.request("GET", "/api/v1/agreements", key=loaded.read).json()
    assert listed[0]["activities_present"] == 3


def test_a_metric_is_judged_by_the_results_pages_rules(loaded: Loaded) -> None:
    """A metric that repeats the indicator's own target gets the results list's progress
    and findings for its period: the ambiguous comma of "15,821" included."""
    admin = _admin(loaded)
    _push_world_bank(loaded)
    identifier, result, indicator = FLOW
    body = _agreement(activities=[identifier], metrics=[{
        "name": "Caudal retenido", "ascending": True,
        "targets": [{"period_start": "2022-08-04", "period_end": "2024-02-05",
                     "value": "5.10"}],
        "indicator": {"iati_identifier": identifier, "result": result, "indicator": indicator},
    }])
    created = loaded.api.request("POST", "/api/v1/agreements", key=admin, json=body)
    assert created.status_code == 201, created.text
    period = created.json()["metric_progress"][0]["periods"][0]
    rows = loaded.api.request(
        "GET", "/api/v1/results", key=loaded.read,
        params={"reporting_org": "44000", "limit": 1000}).json()["results"]
    row = next(r for r in rows if (r["iati_identifier"], r["result_position"],
                                   r["indicator_position"]) == FLOW)
    assert row["progress_percent"] == period["progress_percent"]
    assert row["baseline_value"] == period["baseline_value"] == "18.50"
    assert [f["code"] for f in row["findings"]] == [f["code"] for f in period["findings"]]
    assert "results.ambiguous-comma" in [f["code"] for f in period["findings"]]
    assert period["in_means"] is False


@pytest.mark.parametrize(("change", "location", "code"), [
    ({"end_date": "2024-01-01"}, "body/end_date", "agreement.invalid"),
    ({"objectives": ["PND-2021-2025/1"]}, "body/objectives/0", "agreement.invalid"),
    ({"amount": "-1.00"}, "body/amount", "request.invalid"),
    ({"signed_on": 20240603}, "body/signed_on", "request.invalid"),
    ({"instrument": "barter"}, "body/instrument", "agreement.invalid"),
    ({"parties": [{"organisation": "XX-NOBODY", "role": "donor"}]},
     "body/parties/0/organisation", "agreement.invalid"),
    # The same identifier, its É precomposed and decomposed: one activity.
    ({"activities": ["XM-CAFÉ-1", unicodedata.normalize("NFD", "XM-CAFÉ-1")]},
     "body/activities/1", "agreement.invalid"),
])
def test_a_refused_agreement_changes_nothing(
    loaded: Loaded, change: dict[str, Any], location: str, code: str
) -> None:
    admin = _admin(loaded)
    before = _head(loaded)
    if "activities" in change:
        change["metrics"] = []
    answer = loaded.api.request("POST", "/api/v1/agreements", key=admin, json=_agreement(**change))
    assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
    assert location in [error["location"] for error in answer.json()["errors"]]
    assert loaded.api.request("GET", "/api/v1/agreements", key=loaded.read).json() == []
    assert _head(loaded) == before


def test_a_second_agreement_with_a_reference_is_refused(loaded: Loaded) -> None:
    admin = _admin(loaded)
    first = loaded.api.request("POST", "/api/v1/agreements", key=admin, json=_agreement())
    again = loaded.api.request("POST", "/api/v1/agreements", key=admin,
                               json=_agreement(title="Otro"))
    assert (again.status_code, again.json()["code"]) == (409, "agreement.duplicate-code")
    assert again.json()["agreement_id"] == first.json()["id"]
    # An update that refuses leaves the agreement as it was.
    bad = loaded.api.request("PUT", f"/api/v1/agreements/{first.json()['id']}", key=admin,
                             json=_agreement(title="Otro", end_date="2020-01-01"))
    assert bad.status_code == 422
    kept = loaded.api.request("GET", f"/api/v1/agreements/{first.json()['id']}",
                              key=loaded.read).json()
    assert (kept["title"], kept["version"], len(kept["linked_activities"])) == (
        "Convenio de salud y resiliencia", 1, 3)


def test_every_write_is_in_the_change_feed(loaded: Loaded) -> None:
    admin = _admin(loaded)
    before = _head(loaded)
    summary = loaded.api.request("GET", "/api/v1/results/summary", key=loaded.read).json()
    agreement = loaded.api.request("POST", "/api/v1/agreements", key=admin,
                                   json=_agreement()).json()
    path = f"/api/v1/agreements/{agreement['id']}"
    updated = loaded.api.request("PUT", path, key=admin, json=_agreement(activities=[FIRST],
                                                                         metrics=[]))
    assert (updated.json()["version"], len(updated.json()["linked_activities"])) == (2, 1)
    assert loaded.api.request("DELETE", path, key=admin).status_code == 204
    assert loaded.api.request("GET", path, key=loaded.read).status_code == 404
    changes = loaded.api.request("GET", "/api/v1/changes", key=loaded.read,
                                 params={"since": before}).json()["changes"]
    assert [(c["kind"], c["agreement_id"], c["version"], c["iati_identifier"])
            for c in changes] == [
        ("agreement.created", agreement["id"], 1, None),
        ("agreement.updated", agreement["id"], 2, None),
        ("agreement.deleted", agreement["id"], 3, None),
    ]
    # What is kept of the activities follows the feed past changes that name none.
    after = loaded.api.request("GET", "/api/v1/results/summary", key=loaded.read)
    assert after.status_code == 200
    assert after.json() == summary


def test_writes_need_an_admin_key(loaded: Loaded) -> None:
    answer = loaded.api.request("POST", "/api/v1/agreements", key=loaded.publish,
                                json=_agreement())
    assert (answer.status_code, answer.json()["code"]) == (403, "auth.insufficient-scope")
    assert loaded.api.request("GET", "/api/v1/agreements", key=loaded.read).json() == []


def _head(loaded: Loaded) -> int:
    page = loaded.api.request("GET", "/api/v1/changes", key=loaded.read,
                              params={"since": 0, "limit": 1000}).json()
    while page["more"]:
        page = loaded.api.request("GET", "/api/v1/changes", key=loaded.read,
                                  params={"since": page["next"], "limit": 1000}).json()
    return int(page["next"])


def test_webhooks_receive_the_agreement_events_they_ask_for(store: Engine) -> None:
    api = Api(store)
    api.app.dependency_overrides[delivery_policy] = lambda: POLICY
    add_publisher(store, MINISTRY, name="Ministerio de Relaciones Exteriores")
    admin = new_key(store, MINISTRY, KeyScope.admin)
    receiver = Receiver()
    try:
        hook = api.request("POST", "/api/v1/webhooks", key=admin, json={
            "url": receiver.url, "events": ["agreement.created", "agreement.deleted"]})
        assert hook.status_code == 201, hook.text
        body = _agreement(parties=[], activities=[], metrics=[])
        created = api.request("POST", "/api/v1/agreements", key=admin, json=body).json()
        path = f"/api/v1/agreements/{created['id']}"
        assert api.request("PUT", path, key=admin, json=body).status_code == 200
        assert api.request("DELETE", path, key=admin).status_code == 204
        done = deliver_due(store, now=datetime(2026, 12, 7, tzinfo=UTC), policy=POLICY)
        assert done.delivered == 2
        assert [(e["type"], e["agreement_id"], e["version"], e["url"])
                for e in receiver.events] == [
            ("agreement.created", created["id"], 1, path),
            ("agreement.deleted", created["id"], 3, path),
        ]
        assert all(request.signed_with(hook.json()["secret"]) for request in receiver.requests)
    finally:
        receiver.close()


def test_the_command_line_records_lists_and_removes_agreements(
    loaded: Loaded, store_url: str, tmp_path: Path
) -> None:
    """The dashboard's example agreement: refused, with every misfit's location, until the
    organisations it names are registered; then recorded, listed and removed."""
    refused = iati_ec("agreements", "add", AGREEMENT, database=store_url)
    assert refused.returncode == 1
    assert "body/parties/1/organisation: 'XM-DAC-46008' is not a registered" in refused.stderr
    assert "body/parties/2/organisation" in refused.stderr
    for ref, name in (("XM-DAC-46008", "CAF"), ("44000", "Banco Mundial")):
        registered = iati_ec("orgs", "add", "--ref", ref, "--name", name, "--role", "donor",
                             database=store_url)
        assert registered.returncode == 0, registered.stderr
    added = iati_ec("agreements", "add", AGREEMENT, database=store_url)
    assert (added.returncode, added.stdout.strip()) == (
        0, "agreement 1 recorded: CONV-2024-USAID-BM-001")
    unreadable = tmp_path / "amount.json"
    unreadable.write_text('{"code": "X", "title": "X", "instrument": "grant", "amount": -1}')
    bad = iati_ec("agreements", "add", unreadable, database=store_url)
    assert (bad.returncode, bad.stderr.splitlines()[1].split(":")[0]) == (1, "  amount")
    listed = json.loads(iati_ec("agreements", "list", database=store_url).stdout)
    assert [(a["code"], a["activities"], a["activities_present"]) for a in listed] == [
        ("CONV-2024-USAID-BM-001", 5, 2)]  # USAID's two; the World Bank's is not pushed here
    assert iati_ec("agreements", "remove", "1", database=store_url).returncode == 0
    assert json.loads(iati_ec("agreements", "list", database=store_url).stdout) == []
