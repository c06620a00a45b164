"""Who may push an activity identifier: the identifier prefixes organisations own, the
takeovers by a prefix's owner, the ministry's transfers and the ``B1`` evidence they cite.
Real pushes over HTTP, on both databases (`service.services.push.ownership` states the
rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from service.addresses import activity_url
from service.models import KeyScope
from tests.support.cli import iati_ec
from tests.support.publishing import (
    USAID_EC,
    Api,
    add_other_identifier,
    add_publisher,
    combined,
    new_key,
    set_first_transaction,
    set_identifier,
    set_reporting_org,
    variant,
)

UNDP, DUTCH, MINISTRY = "XM-DAC-41114", "XM-DAC-7", "EC-GOB-MREMH"
FUTURE = f"{UNDP}-FUTURE"
PUSH = "/api/v1/activities"


@pytest.fixture
def api(store: Engine) -> Api:
    return Api(store)


@pytest.fixture
def admin(store: Engine) -> str:
    add_publisher(store, MINISTRY, name="Ministerio")
    return new_key(store, MINISTRY, KeyScope.admin)


@pytest.fixture
def registered(store: Engine) -> None:
    """UNDP and the Netherlands in the registry, neither given a key yet."""
    add_publisher(store, UNDP, name="UNDP")
    add_publisher(store, DUTCH, name="Netherlands")


def key(store: Engine, ref: str) -> str:
    """A publish key of `ref`: giving it vouches for the organisation."""
    return new_key(store, ref, KeyScope.publish)


def activity_file(folder: Path, identifier: str, reporting_org: str, *,
                  previous: str | None = None, amount: str = "1000") -> bytes:
    """The first USAID Ecuador activity as `reporting_org` publishes it as `identifier`."""
    edits = [set_identifier(identifier), set_reporting_org(reporting_org),
             set_first_transaction(amount, None)]
    if previous is not None:
        edits.append(add_other_identifier(previous, "B1"))
    target = folder / f"{len(list(folder.iterdir()))}.xml"
    return variant(USAID_EC, target, keep=1, a1=combined(*edits)).read_bytes()


def pushed(api: Api, key: str, body: bytes) -> dict[str, Any]:
    """The outcome of the one activity of a push of `body`."""
    answer = api.request("POST", PUSH, key=key, content=body)
    assert answer.status_code == 200, answer.text
    outcome: dict[str, Any] = answer.json()["activities"][0]
    outcome["push_id"] = answer.json()["id"]
    return outcome


def push_finding(outcome: dict[str, Any]) -> dict[str, Any]:
    """The push service's one finding about the outcome."""
    [found] = [f for f in outcome["findings"] if f["stage"] == "push"]
    return found


def test_an_identifier_under_another_organisations_prefix_is_refused_saying_whose(
    api: Api, store: Engine, registered: None, tmp_path: Path
) -> None:
    dutch, undp = key(store, DUTCH), key(store, UNDP)
    squat = pushed(api, dutch, activity_file(tmp_path, FUTURE, DUTCH))
    assert squat["outcome"] == "rejected"
    refusal = push_finding(squat)
    assert refusal["code"] == "push.identifier-of-another-organisation"
    assert refusal["actual"] == UNDP
    assert f"identifier prefix {UNDP}, registered to UNDP" in refusal["message"]
    assert "ask the ministry to register it for you" in refusal["message"]
    # UNDP's own push of it goes through, and so does its bare prefix as an identifier
    assert pushed(api, undp, activity_file(tmp_path, FUTURE, UNDP))["outcome"] == "created"
    assert pushed(api, undp, activity_file(tmp_path, UNDP, UNDP))["outcome"] == "created"
    # a prefix covers only what continues it after a hyphen
    near = pushed(api, dutch, activity_file(tmp_path, f"{UNDP}5-X", DUTCH))
    assert near["outcome"] == "created"
    # the partners an activity names (here US-GOV-1) own no prefix: anyone can name anyone
    partner = api.request("GET", "/api/v1/organisations/US-GOV-1/identifier-prefixes",
                          key=undp)
    assert (partner.status_code, partner.json()) == (200, [])
    # a rehearsal predicts the refusal
    rehearsed = api.request("POST", "/api/v1/validate", key=dutch,
                            content=activity_file(tmp_path, f"{UNDP}-OTHER", DUTCH))
    [predicted] = rehearsed.json()["push"]["activities"]
    assert push_finding(predicted)["code"] == "push.identifier-of-another-organisation"


def test_the_longest_registered_prefix_decides(
    api: Api, store: Engine, registered: None, admin: str, tmp_path: Path
) -> None:
    add_publisher(store, "XM-OCHA-EC", name="UNDP Ecuador")
    undp, office = key(store, UNDP), key(store, "XM-OCHA-EC")
    url = "/api/v1/organisations/XM-OCHA-EC/identifier-prefixes"
    made = api.request("POST", url, key=admin,
                       json={"prefix": f"{UNDP}-EC", "reason": "Letter of 2026-11-02"})
    assert made.status_code == 201, made.text
    assert (made.json()["source"], made.json()["registered_by"]) == ("ministry", MINISTRY)
    ours = activity_file(tmp_path, f"{UNDP}-EC-001", "XM-OCHA-EC")
    assert pushed(api, office, ours)["outcome"] == "created"
    theirs = pushed(api, undp, activity_file(tmp_path, f"{UNDP}-EC-002", UNDP))
    assert push_finding(theirs)["actual"] == f"{UNDP}-EC"
    assert pushed(api, undp, activity_file(tmp_path, f"{UNDP}-ECU-1", UNDP))["outcome"] == (
        "created")
    listed = api.request("GET", url, key=undp).json()
    assert [(p["prefix"], p["source"]) for p in listed] == [
        (f"{UNDP}-EC", "ministry"), ("XM-OCHA-EC", "ref")]


def test_an_identifier_under_no_prefix_is_its_first_publishers(
    api: Api, store: Engine, registered: None, tmp_path: Path
) -> None:
    dutch, undp = key(store, DUTCH), key(store, UNDP)
    assert pushed(api, dutch, activity_file(tmp_path, "ZZ-UNKNOWN-1", DUTCH))["outcome"] == (
        "created")
    second = pushed(api, undp, activity_file(tmp_path, "ZZ-UNKNOWN-1", UNDP))
    assert push_finding(second)["code"] == "push.not-your-activity"
    assert activity_url("ZZ-UNKNOWN-1", "transfers") in push_finding(second)["message"]


def test_the_owner_of_a_prefix_takes_over_what_another_stored_before_it_was_registered(
    api: Api, store: Engine, registered: None, tmp_path: Path
) -> None:
    dutch = key(store, DUTCH)  # UNDP has no key: its prefix is not registered yet
    assert pushed(api, dutch, activity_file(tmp_path, FUTURE, DUTCH))["outcome"] == "created"
    undp = key(store, UNDP)
    again = pushed(api, dutch, activity_file(tmp_path, FUTURE, DUTCH, amount="2000"))
    assert "You stored it before the prefix was registered" in push_finding(again)["message"]
    taken = pushed(api, undp, activity_file(tmp_path, FUTURE, UNDP, amount="3000"))
    assert (taken["outcome"], taken["version"]) == ("updated", 2)
    assert push_finding(taken)["code"] == "push.taken-over"
    [transfer] = api.request("GET", activity_url(FUTURE, "transfers"), key=undp).json()
    assert (transfer["kind"], transfer["from_organisation"]["name"],
            transfer["to_organisation"]["name"], transfer["push_id"]) == (
        "prefix", "Netherlands", "UNDP", taken["push_id"])
    versions = api.request("GET", f"{PUSH}/{FUTURE}/versions", key=undp).json()
    assert [v["version"] for v in versions] == [1, 2]  # its history came with it
    own = api.request("GET", f"{PUSH}/{FUTURE}/versions/1", key=undp)
    assert own.status_code == 200  # a publisher reads its own activities' versions


def test_a_tombstone_never_locks_the_owner_of_a_prefix_out(
    api: Api, store: Engine, registered: None, tmp_path: Path
) -> None:
    dutch = key(store, DUTCH)
    assert pushed(api, dutch, activity_file(tmp_path, FUTURE, DUTCH))["outcome"] == "created"
    assert api.request("DELETE", f"{PUSH}/{FUTURE}", key=dutch).status_code == 204
    undp = key(store, UNDP)
    restored = pushed(api, undp, activity_file(tmp_path, FUTURE, UNDP, previous=DUTCH))
    assert (restored["outcome"], restored["version"]) == ("created", 3)
    assert push_finding(restored)["code"] == "push.taken-over"
    shown = api.request("GET", f"{PUSH}/{FUTURE}", key=undp).json()
    assert shown["reporting_org"]["ref"] == UNDP


def test_a_holder_the_owner_handed_over_to_keeps_it_until_the_ministry_decides(
    api: Api, store: Engine, registered: None, admin: str, tmp_path: Path
) -> None:
    handed = f"{UNDP}-HANDED"
    dutch = key(store, DUTCH)
    body = activity_file(tmp_path, handed, DUTCH, previous=UNDP)
    assert pushed(api, dutch, body)["outcome"] == "created"
    undp = key(store, UNDP)
    refused = pushed(api, undp, activity_file(tmp_path, handed, UNDP, amount="5"))
    assert push_finding(refused)["code"] == "push.held-by-another-organisation"
    assert "held by Netherlands" in push_finding(refused)["message"]
    held = pushed(api, dutch, activity_file(tmp_path, handed, DUTCH, previous=UNDP,
                                            amount="6"))
    assert push_finding(held)["code"] == "push.identifier-of-another-organisation"
    assert f"names {UNDP} as its previous reporting organisation" in (
        push_finding(held)["message"])
    decided = api.request("POST", activity_url(handed, "transfers"), key=admin, json={
        "to": DUTCH, "reason": "UNDP handed the project over in 2025",
        "evidence_push": held["push_id"]})
    assert decided.status_code == 201, decided.text
    assert [e["kind"] for e in decided.json()["evidence"]] == ["push",
                                                               "previous-reporting-org"]
    assert pushed(api, dutch, activity_file(tmp_path, handed, DUTCH, previous=UNDP,
                                            amount="7"))["outcome"] == "updated"
    after = pushed(api, undp, activity_file(tmp_path, handed, UNDP, amount="8"))
    assert push_finding(after)["actual"] == handed  # the identifier itself is Dutch now


def test_the_ministry_transfers_an_activity_to_the_publisher_that_names_its_predecessor(
    api: Api, store: Engine, registered: None, admin: str, tmp_path: Path
) -> None:
    project = f"{DUTCH}-PROJ-9"
    dutch, undp = key(store, DUTCH), key(store, UNDP)
    assert pushed(api, dutch, activity_file(tmp_path, project, DUTCH))["outcome"] == "created"
    claimed = pushed(api, undp, activity_file(tmp_path, project, UNDP, previous=DUTCH))
    refusal = push_finding(claimed)
    assert refusal["code"] == "push.identifier-of-another-organisation"
    assert f"Your activity names {DUTCH} as its previous reporting organisation" in (
        refusal["message"])
    assert activity_url(project, "transfers") in refusal["message"]
    url = activity_url(project, "transfers")
    assert api.request("POST", url, key=undp, json={"to": UNDP, "reason": "mine"}
                       ).status_code == 403
    wrong = api.request("POST", url, key=admin, json={
        "to": UNDP, "reason": "handed over", "evidence_push": "no-such-push"})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "transfer.invalid-evidence")
    decided = api.request("POST", url, key=admin, json={
        "to": UNDP, "reason": "The Netherlands handed it over (letter 12)",
        "evidence_push": claimed["push_id"]})
    assert decided.status_code == 201, decided.text
    record = decided.json()
    assert (record["kind"], record["from_organisation"]["name"], record["to_organisation"][
        "name"], record["decided_by"]) == ("ministry", "Netherlands", "UNDP", MINISTRY)
    assert record["evidence"][0]["push_id"] == claimed["push_id"]
    assert record["evidence"][0]["findings"][0]["code"] == (
        "push.identifier-of-another-organisation")
    now = pushed(api, undp, activity_file(tmp_path, project, UNDP, previous=DUTCH, amount="9"))
    assert (now["outcome"], now["version"]) == ("updated", 2)
    assert push_finding(pushed(api, dutch, activity_file(tmp_path, project, DUTCH,
                                                         amount="10")))["actual"] == project
    changes = api.request("GET", "/api/v1/changes", key=admin, params={"since": 0}).json()
    assert [c["kind"] for c in changes["changes"]] == ["created", "transferred", "updated"]
    prefixes = api.request("GET", f"/api/v1/organisations/{UNDP}/identifier-prefixes",
                           key=undp).json()
    assert {(p["prefix"], p["source"]) for p in prefixes} == {
        (UNDP, "ref"), (project, "transfer")}


def test_prefixes_are_registered_once_by_admins_only(
    api: Api, store: Engine, registered: None, admin: str
) -> None:
    undp = key(store, UNDP)
    url = f"/api/v1/organisations/{DUTCH}/identifier-prefixes"
    body = {"prefix": "NL-KVK-1", "reason": "The Dutch embassy's register"}
    assert api.request("POST", url, key=undp, json=body).status_code == 403
    assert api.request("POST", url, key=admin, json=body).status_code == 201
    taken = api.request("POST", f"/api/v1/organisations/{UNDP}/identifier-prefixes",
                        key=admin, json={**body, "prefix": " NL-KVK-1 "})
    assert (taken.status_code, taken.json()["code"]) == (409, "identifier.prefix-taken")
    assert "registered already, to Netherlands" in taken.json()["detail"]
    ref = api.request("POST", url, key=admin, json={**body, "prefix": UNDP})
    assert ref.status_code == 409  # UNDP's own identifier, vouched for with its key
    for bad in ("NL-KVK-", "NL\u200bKVK", "X" * 501):
        refused = api.request("POST", url, key=admin, json={**body, "prefix": bad})
        assert (refused.status_code, refused.json()["code"]) == (
            422, "identifier.invalid-prefix"), bad
    assert api.request("DELETE", f"{url}/NL-KVK-1", key=undp).status_code == 403
    assert api.request("DELETE", f"{url}/NL-KVK-1", key=admin).status_code == 204
    assert api.request("DELETE", f"{url}/NL-KVK-1", key=admin).status_code == 404
    registered_org = api.request("POST", "/api/v1/organisations", key=admin, json={
        "refs": [UNDP + "-EC"], "name": "UNDP Ecuador", "roles": ["donor"]})
    assert registered_org.status_code == 201  # its identifier becomes its prefix at once
    listed = api.request("GET", f"/api/v1/organisations/{UNDP}-EC/identifier-prefixes",
                         key=undp).json()
    assert [(p["prefix"], p["source"], p["registered_by"]) for p in listed] == [
        (f"{UNDP}-EC", "ref", MINISTRY)]


def test_the_command_line_registers_prefixes_and_transfers_activities(
    sqlite_database: str, tmp_path: Path
) -> None:
    def run(*arguments: str) -> str:
        ran = iati_ec(*arguments, database=sqlite_database)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    run("orgs", "add", "--ref", UNDP, "--name", "UNDP", "--role", "donor")
    run("orgs", "add", "--ref", DUTCH, "--name", "Netherlands", "--role", "donor")
    assert "Registered XM-DAC-41114-EC for Netherlands" in run(
        "identifiers", "add-prefix", f"{UNDP}-EC", "--org", DUTCH, "--reason", "A test")
    taken = iati_ec("identifiers", "add-prefix", f"{UNDP}-EC", "--org", UNDP, "--reason", "x",
                    database=sqlite_database)
    assert taken.returncode == 1
    assert "identifiers prefixes" in taken.stderr
    assert f"{UNDP}-EC" in run("identifiers", "prefixes", "--org", DUTCH)
    body = tmp_path / "activities"
    body.mkdir()
    path = tmp_path / "dutch.xml"
    path.write_bytes(activity_file(body, f"{UNDP}-EC-1", DUTCH))
    run("import", str(path), "--org", DUTCH)
    assert "from Netherlands to UNDP" in run(
        "identifiers", "transfer", f"{UNDP}-EC-1", "--to", UNDP, "--reason", "Handed over")
    assert "ministry" in run("identifiers", "transfers", f"{UNDP}-EC-1")
    assert "Removed" in run("identifiers", "remove-prefix", f"{UNDP}-EC", "--org", DUTCH)
