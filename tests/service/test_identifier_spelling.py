"""Identifiers compared in Unicode NFC and kept as published; one limit in UTF-8 bytes on
every path that names one; the upgrade that keys the identifiers already stored. Real
pushes and requests over HTTP, on both databases."""

from __future__ import annotations

import secrets
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, text

from service.addresses import activity_url
from service.db import downgrade_database, upgrade_database
from service.models import KeyScope
from tests.support import clock_guard
from tests.support.publishing import (
    USAID_EC,
    Api,
    add_publisher,
    combined,
    new_key,
    set_first_transaction,
    set_identifier,
    set_reporting_org,
    variant,
    working,
)

DUTCH, UNDP, MINISTRY = "XM-DAC-7", "XM-DAC-41114", "EC-GOB-MREMH"
CAFE_NFC = f"{DUTCH}-CAF\u00c9"  # É precomposed
CAFE_NFD = f"{DUTCH}-CAFE\u0301"  # E and a combining acute accent
PUSH = "/api/v1/activities"


@pytest.fixture
def api(store: Engine) -> Api:
    return Api(store)


@pytest.fixture
def dutch(store: Engine) -> str:
    add_publisher(store, DUTCH, name="Netherlands")
    return new_key(store, DUTCH, KeyScope.publish)


def file_of(folder: Path, *identifiers: str, amount: str = "1000",
            reporting_org: str = DUTCH) -> bytes:
    """The first USAID Ecuador activities, one per identifier, as `reporting_org`'s."""
    edits = {f"a{position}": combined(set_identifier(identifier),
                                      set_reporting_org(reporting_org),
                                      set_first_transaction(amount, None))
             for position, identifier in enumerate(identifiers, start=1)}
    target = folder / f"{len(list(folder.iterdir()))}.xml"
    return variant(USAID_EC, target, keep=len(identifiers), **edits).read_bytes()


def outcomes(api: Api, key: str, body: bytes) -> list[dict[str, Any]]:
    answer = api.request("POST", PUSH, key=key, content=body)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["activities"]
    return found


def test_another_spelling_of_a_stored_identifier_is_the_same_activity(
    api: Api, store: Engine, dutch: str, tmp_path: Path
) -> None:
    assert unicodedata.normalize("NFC", CAFE_NFD) == CAFE_NFC != CAFE_NFD
    [created] = outcomes(api, dutch, file_of(tmp_path, CAFE_NFC))
    assert created["outcome"] == "created"
    [updated] = outcomes(api, dutch, file_of(tmp_path, CAFE_NFD, amount="2000"))
    assert (updated["outcome"], updated["version"]) == ("updated", 2)
    listed = api.request("GET", PUSH, key=dutch).json()["activities"]
    assert [row["iati_identifier"] for row in listed] == [CAFE_NFD]  # as last published
    for spelling in (CAFE_NFC, CAFE_NFD):
        found = api.request("GET", f"{PUSH}/{spelling}", key=dutch, params={"format": "xml"})
        assert found.status_code == 200
        assert f"<iati-identifier>{CAFE_NFD}</iati-identifier>" in found.text  # exactly
        versions = api.request("GET", f"{PUSH}/{spelling}/versions", key=dutch).json()
        assert [v["version"] for v in versions] == [1, 2]
    first = api.request("GET", f"{PUSH}/{CAFE_NFD}/versions/1", key=dutch)
    assert CAFE_NFC in first.text  # each version's XML exactly as received
    add_publisher(store, UNDP, name="UNDP")
    undp = new_key(store, UNDP, KeyScope.publish)
    [other] = outcomes(api, undp, file_of(tmp_path, CAFE_NFD, reporting_org=UNDP))
    assert other["outcome"] == "rejected"  # another spelling is not another activity
    assert api.request("DELETE", f"{PUSH}/{CAFE_NFC}", key=dutch).status_code == 204
    assert api.request("GET", f"{PUSH}/{CAFE_NFD}", key=dutch).status_code == 410


def test_two_spellings_of_one_identifier_in_a_file_are_one_activity(
    api: Api, dutch: str, tmp_path: Path
) -> None:
    first, second = outcomes(api, dutch, file_of(tmp_path, CAFE_NFD, CAFE_NFC))
    assert first["outcome"] == "created"
    assert second["outcome"] == "rejected"
    assert [f["code"] for f in second["findings"] if f["stage"] == "push"] == [
        "push.identifier-repeated"]
    put = api.request("PUT", f"{PUSH}/{CAFE_NFC}", key=dutch,
                      content=file_of(tmp_path, CAFE_NFD, amount="3"))
    assert [(a["outcome"], a["version"]) for a in put.json()["activities"]] == [("updated", 2)]


def test_one_limit_in_utf8_bytes_on_every_path_never_a_server_error(
    api: Api, store: Engine, dutch: str, tmp_path: Path
) -> None:
    add_publisher(store, MINISTRY, name="Ministerio")
    admin = new_key(store, MINISTRY, KeyScope.admin)
    longest = f"{DUTCH}-" + "\u00e9" * ((500 - len(DUTCH) - 1) // 2)  # 499 bytes
    over = longest + "\u00e9"  # 501 bytes, 256 characters
    kept, refused = outcomes(api, dutch, file_of(tmp_path, longest, over))
    assert kept["outcome"] == "created"
    assert [f["code"] for f in refused["findings"] if f["stage"] == "push"] == [
        "push.malformed-identifier"]
    assert api.request("GET", f"{PUSH}/{longest}", key=dutch).status_code == 200
    # A path as long as a client sends (httpx: 64 KiB; servers refuse long request lines
    # before the application), 200 KB in a JSON body, and 1 MiB in a pushed file.
    huge, mib = f"{DUTCH}-" + "x" * 60_000, f"{DUTCH}-" + "x" * (1 << 20)
    large = f"{DUTCH}-" + "x" * 200_000  # in a JSON body, which may have 1 MiB
    for method, path, status in [
        ("GET", f"{PUSH}/{huge}", 404), ("GET", f"{PUSH}/{huge}/versions", 404),
        ("GET", f"{PUSH}/{huge}/versions/1", 404), ("GET", f"{PUSH}/{huge}/budget-view", 404),
        ("GET", f"{PUSH}/{huge}/links", 404), ("GET", activity_url(huge, "transfers"), 404),
        ("DELETE", f"{PUSH}/{huge}", 404), ("GET", f"{PUSH}/{over}", 404),
        ("GET", f"/api/v1/organisations/{huge}", 404),
        ("GET", f"/api/v1/organisations/{huge}/identifier-prefixes", 404),
        ("DELETE", f"/api/v1/organisations/{DUTCH}/identifier-prefixes/{huge}", 404),
    ]:
        answer = api.request(method, path, key=admin)
        assert answer.status_code == status, (method, path[:60], answer.text[:200])
        assert len(answer.content) < 2000  # the identifier is not echoed back whole
    put = api.request("PUT", f"{PUSH}/{huge}", key=dutch, content=file_of(tmp_path, longest))
    assert (put.status_code, put.json()["code"]) == (422, "push.malformed-identifier")
    transfer = api.request("POST", activity_url(huge, "transfers"), key=admin,
                           json={"to": DUTCH, "reason": "too long"})
    assert transfer.status_code == 404
    registered = api.request("POST", f"/api/v1/organisations/{DUTCH}/identifier-prefixes",
                             key=admin, json={"prefix": large, "reason": "too long"})
    assert (registered.status_code, registered.json()["code"]) == (
        422, "identifier.invalid-prefix")
    organisation = api.request("POST", "/api/v1/organisations", key=admin, json={
        "refs": [large], "name": "Too long", "roles": ["donor"]})
    assert (organisation.status_code, organisation.json()["code"]) == (
        422, "organisation.invalid")
    moved = api.request("POST", activity_url(longest, "transfers"), key=admin,
                        json={"to": large, "reason": "too long"})
    assert (moved.status_code, moved.json()["code"]) == (404, "organisation.not-found")
    assert len(moved.content) < 2000
    [pushed] = outcomes(api, dutch, file_of(tmp_path, mib))
    assert [f["code"] for f in pushed["findings"] if f["stage"] == "push"] == [
        "push.malformed-identifier"]


def test_refs_and_codes_longer_than_any_identifier_are_stored_never_a_server_error(
    api: Api, dutch: str, tmp_path: Path
) -> None:
    """Random, so that PostgreSQL cannot compress them into its index: 4 KB each in a
    participating-org ref, a receiver's ref and activity id, and the status code."""
    long = {name: "XM-" + secrets.token_urlsafe(3000) for name in
            ("participant", "receiver", "receiver_activity", "status")}

    def hostile(activity: etree._Element) -> None:
        activity.find("participating-org").set("ref", long["participant"])  # type: ignore[union-attr]
        receiver = activity.find("transaction/receiver-org")
        assert receiver is not None
        receiver.set("ref", long["receiver"])
        receiver.set("receiver-activity-id", long["receiver_activity"])
        activity.find("activity-status").set("code", long["status"])  # type: ignore[union-attr]

    body = variant(USAID_EC, tmp_path / "long.xml", keep=1, a1=combined(
        set_identifier(f"{DUTCH}-LONG"), set_reporting_org(DUTCH), hostile)).read_bytes()
    [stored] = outcomes(api, dutch, body)
    assert stored["outcome"] == "created"
    kept = api.request("GET", f"{PUSH}/{DUTCH}-LONG", key=dutch, params={"format": "xml"})
    assert all(value in kept.text for value in long.values())  # as published
    assert api.request("GET", "/api/v1/organisations", key=dutch,
                       params={"q": long["participant"][:40]}).json()["total"] == 0


def test_the_upgrade_keys_stored_identifiers_and_sets_apart_spellings_of_one(
    api: Api, store: Engine, store_url: str, dutch: str, tmp_path: Path
) -> None:
    """Three spellings of one identifier stored before the upgrade (Å as the Ångström
    sign, as A and a combining ring, precomposed): the live one stored first keeps the
    identifier; a dataset push of its publisher deletes the other live one."""
    angstrom, combining, precomposed = (f"{DUTCH}-\u212b", f"{DUTCH}-A\u030a",
                                        f"{DUTCH}-\u00c5")
    assert len({unicodedata.normalize("NFC", s) for s in (angstrom, combining)}) == 1
    stored = outcomes(api, dutch, file_of(tmp_path, f"{DUTCH}-1", f"{DUTCH}-2", f"{DUTCH}-3"))
    assert [o["outcome"] for o in stored] == ["created"] * 3
    assert api.request("DELETE", f"{PUSH}/{DUTCH}-1", key=dutch).status_code == 204
    store.dispose()
    downgrade_database(store_url, "0019")
    # A store of revision 0019 (no clock yet), written by hand.
    with clock_guard.expected(), store.begin() as connection:
        for old, new in ((f"{DUTCH}-1", angstrom), (f"{DUTCH}-2", combining),
                         (f"{DUTCH}-3", precomposed)):
            connection.execute(text("UPDATE activity SET iati_identifier = :new "
                                    "WHERE iati_identifier = :old"), {"new": new, "old": old})
        connection.execute(text("DELETE FROM api_key"))  # the prefix comes from its pushes
    store.dispose()
    upgrade_database(store_url)
    with store.connect() as connection:
        keys = dict(connection.execute(text(
            "SELECT iati_identifier, identifier_key FROM activity")).all())
        prefixes = connection.execute(text(
            "SELECT prefix, source FROM identifier_prefix ORDER BY prefix")).all()
    assert keys == {angstrom: None, combining: precomposed, precomposed: None}
    assert [tuple(row) for row in prefixes] == [(DUTCH, "ref")]
    dutch_again = new_key(store, DUTCH, KeyScope.publish)
    found = api.request("GET", f"{PUSH}/{angstrom}", key=dutch_again)  # any spelling
    assert found.json()["iati_identifier"]["text"] == f"{DUTCH}-2"  # the one kept
    [updated] = outcomes(api, dutch_again, file_of(tmp_path, precomposed, amount="4"))
    assert updated["outcome"] == "updated"
    with working(store):
        answer = api.request("POST", PUSH, key=dutch_again,
                             params={"scope": "dataset", "wait": 60},
                             content=file_of(tmp_path, precomposed, amount="4"))
    deleted = [(a["iati_identifier"], a["outcome"]) for a in answer.json()["activities"]]
    assert deleted == [(precomposed, "unchanged"), (precomposed, "deleted")]
