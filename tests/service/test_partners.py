"""The organisation registry over HTTP on SQLite and PostgreSQL: search, a partner's
profile checked against the real USAID file read independently, merge candidates with
their evidence, and recorded merges."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from iati.elements.activity import Activity
from iati.reader import read_activities
from mappings.rates import series_version
from service import runtime
from service.models import KeyScope
from service.services import involvement
from service.services.ecuador import IN_ECUADOR
from service.services.ledger import TRANSACTION, convert_transactions
from service.services.merges import ORG_REF, folded
from service.services.partners import _all_counts, _entries, _profile
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT, live
from tests.support import clock_guard
from tests.support.loads import DONORS
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    Edit,
    new_key,
    set_first_transaction,
    variant,
)
from tests.support.samples import EXAMPLES
from tests.support.spreadsheets import without_bom

Loaded = tuple[Api, str, str]
WFP = "XM-DAC-41140"
WFP_NAME = "World Food Program"


def _get(api: Api, key: str, path: str, **params: Any) -> Any:
    answer = api.request("GET", path, key=key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _is_wfp(activity: Activity) -> bool:
    return any(o.ref == WFP or (not (o.ref or "").strip() and o.text() == WFP_NAME)
               for o in activity.participating_orgs)


@pytest.mark.reads_only
def test_search_is_blind_to_accents_and_case_and_filters_by_role(loaded: Loaded) -> None:
    api, key, _ = loaded
    found = _get(api, key, "/api/v1/organisations", q="world FOOD")
    assert [o["refs"] for o in found["organisations"]] == [[WFP]]
    assert found["total"] == 1
    aecid = _get(api, key, "/api/v1/organisations", q="aecíd")
    assert [o["refs"] for o in aecid["organisations"]] == [["ES-DAC-2"]]
    implementing = _get(api, key, "/api/v1/organisations", participating_role="4", limit=1000)
    assert WFP in {r for o in implementing["organisations"] for r in o["refs"]}
    assert all(o["activities_by_role"].get("4") for o in implementing["organisations"])
    paged = _get(api, key, "/api/v1/organisations", participating_role="4", limit=2, offset=1)
    assert paged["organisations"] == implementing["organisations"][1:3]


@pytest.mark.reads_only
def test_a_partners_profile_matches_the_file(
    loaded: Loaded, usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    wfp = _get(api, key, f"/api/v1/organisations/{WFP}")
    expected = {a.identifier for a in usaid_models if _is_wfp(a)}
    assert {a["iati_identifier"] for a in wfp["activities"]} == expected
    assert wfp["activities_total"] == len(expected)
    received = [
        t.value.amount for a in usaid_models for t in a.transactions
        if t.transaction_type and t.transaction_type.code == "3" and t.receiver_org
        and (t.receiver_org.ref == WFP or t.receiver_org.text() == WFP_NAME) and t.value
    ]
    assert received
    money = wfp["received_from_funders"]
    assert (Decimal(money["usd"]), money["transactions"]) == (sum(received), len(received))
    assert money["without_rate"] == 0
    assert wfp["disbursed"]["transactions"] == 0
    assert USAID in {f["ref"] for f in wfp["funders"]}
    usaid = next(f for f in wfp["funders"] if f["ref"] == USAID)
    assert "reporting-org" in usaid["how"]
    assert all(len(p["code"]) == 2 for p in wfp["provinces"])
    assert all(link["roles"] and "reporting" not in link["roles"] for link in wfp["activities"])
    by_id = _get(api, key, f"/api/v1/organisations/{wfp['organisation']['id']}")
    assert by_id == wfp

    reporter = _get(api, key, f"/api/v1/organisations/{USAID}")
    identifiers = sorted(a.identifier for a in usaid_models)
    assert reporter["activities_total"] == len(identifiers)
    assert [a["iati_identifier"] for a in reporter["activities"]] == identifiers[:500]
    models = {a.identifier: a for a in usaid_models}
    for link in reporter["activities"]:
        named = {o.role for o in models[link["iati_identifier"]].participating_orgs
                 if o.ref == USAID and o.role}
        assert link["roles"][0] == "reporting"
        assert named <= set(link["roles"][1:]), link
    assert any(len(link["roles"]) > 1 for link in reporter["activities"])
    missing = api.request("GET", "/api/v1/organisations/XX-NOBODY", key=key)
    assert missing.status_code == 404
    assert missing.json()["code"] == "organisation.not-found"


def _second_spelling(tmp_path: Path) -> Path:
    """The first real USAID activity, re-pushed with WFP named without its identifier
    and spelt with a trailing stop and accents — a second registry entry."""

    def respell(activity: etree._Element) -> None:
        org = etree.SubElement(activity, "participating-org", role="4")
        etree.SubElement(org, "narrative").text = "WORLD FOOD PRÓGRAM."
        activity.find("participating-org").addprevious(org)  # type: ignore[union-attr]
        activity.set("last-updated-datetime", "2030-01-01T00:00:00Z")

    return variant(USAID_EC, tmp_path / "respelt.xml", keep=1, a1=respell)


def test_candidates_carry_evidence_and_a_merge_is_recorded(
    loaded: Loaded, store: Engine, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    api, key, publish = loaded
    pushed = api.request("POST", "/api/v1/activities", key=publish,
                         content=_second_spelling(tmp_path).read_bytes())
    assert pushed.json()["counts"]["updated"] == 1, pushed.text
    candidates = _get(api, key, "/api/v1/organisations/merge-candidates")
    [pair] = [c for c in candidates if WFP in c["left"]["refs"] + c["right"]["refs"]]
    assert pair["evidence"][0]["kind"] == "same-name"
    assert pair["evidence"][0]["value"] == "world food program"
    other = pair["right"] if WFP in pair["left"]["refs"] else pair["left"]
    assert other["name"] == "WORLD FOOD PRÓGRAM."
    assert other["refs"] == []
    before = _get(api, key, f"/api/v1/organisations/{WFP}")["activities_total"]
    [listed_before] = [o for o in _get(api, key, "/api/v1/organisations", q="world food")[
        "organisations"] if o["refs"] == [WFP]]

    admin = new_key(store, USAID, KeyScope.admin)
    body = {"merged": str(other["id"]), "into": WFP, "reason": "Same agency: WFP, spelt apart"}
    assert api.request("POST", "/api/v1/organisations/merges", key=key,
                       json=body).status_code == 403
    merged = api.request("POST", "/api/v1/organisations/merges", key=admin, json=body)
    assert merged.status_code == 201, merged.text
    record = merged.json()
    assert (record["merged_id"], record["name"]) == (other["id"], "WORLD FOOD PRÓGRAM.")
    assert record["evidence"] == pair["evidence"]
    assert record["decided_by"] == USAID
    assert _get(api, key, "/api/v1/organisations/merges") == [record]

    after = _get(api, key, f"/api/v1/organisations/{WFP}")
    # the re-pushed activity's mention of the second spelling now counts for WFP
    assert after["activities_total"] == before + (0 if _is_wfp(usaid_models[0]) else 1)
    assert usaid_models[0].identifier in {a["iati_identifier"] for a in after["activities"]}
    assert "WORLD FOOD PRÓGRAM." in {n["text"] for n in after["organisation"]["names"]}
    assert not [c for c in _get(api, key, "/api/v1/organisations/merge-candidates")
                if other["id"] in (c["left"]["id"], c["right"]["id"])]
    listed = _get(api, key, "/api/v1/organisations", q="world food")["organisations"]
    assert [o["refs"] for o in listed] == [[WFP]]
    assert listed[0]["activities_by_role"]["4"] == listed_before["activities_by_role"]["4"] + (
        0 if _is_wfp(usaid_models[0]) else 1)
    again = api.request("POST", "/api/v1/organisations/merges", key=admin, json=body)
    assert again.status_code == 409
    publisher_away = {"merged": USAID, "into": WFP, "reason": "not so"}
    refused = api.request("POST", "/api/v1/organisations/merges", key=admin, json=publisher_away)
    assert refused.status_code == 409
    assert refused.json()["code"] == "organisation.cannot-merge"


def _funding_spelt_apart(tmp_path: Path) -> Path:
    """The first three real USAID activities, re-pushed with WFP implementing and funded
    by a fund named without an identifier, spelt apart by accents and case: both
    spellings in the first, one in each of the others — one funder of three activities."""

    def funded(*names: str) -> Edit:
        def edit(activity: etree._Element) -> None:
            first = activity.find("participating-org")
            for role, name, ref in (("4", WFP_NAME, WFP), *(("1", n, None) for n in names)):
                org = etree.SubElement(activity, "participating-org", role=role)
                if ref:
                    org.set("ref", ref)
                etree.SubElement(org, "narrative").text = name
                first.addprevious(org)  # type: ignore[union-attr]
            activity.set("last-updated-datetime", "2030-01-01T00:00:00Z")
        return edit

    return variant(USAID_EC, tmp_path / "funded.xml", keep=3,
                   a1=funded("Fondo Común", "FONDO COMUN"), a2=funded("Fondo Común"),
                   a3=funded("FONDO COMUN"))


def _expected_funders(
    models: list[Activity], refs: set[str], texts: set[str]
) -> dict[str, tuple[set[str], int]]:
    """Each funder of the organisation bearing `refs` and `texts`, read from the files:
    by identifier (else folded name), how it funds and in how many activities."""

    def names_it(org: Any) -> bool:
        ref = (org.ref or "").strip()
        return ref in refs if ref else org.text() in texts

    found: dict[str, tuple[set[str], set[str]]] = {}

    def add(org: Any, how: str, activity: str) -> None:
        ref = (org.ref or "").strip() or None if org is not None else None
        name = org.text() if org is not None and how != "reporting-org" else None
        if ref in refs or (ref is None and (not name or name in texts)):
            return
        hows, activities = found.setdefault(ref or folded(name or ""), (set(), set()))
        hows.add(how)
        activities.add(activity)

    for activity in models:
        if any(names_it(org) for org in activity.participating_orgs):
            add(activity.reporting_org, "reporting-org", activity.identifier)
            for org in activity.participating_orgs:
                if org.role == "1":
                    add(org, "participating-org role 1", activity.identifier)
        for transaction in activity.transactions:
            if transaction.receiver_org is not None and names_it(transaction.receiver_org):
                add(transaction.provider_org, "provider-org", activity.identifier)
    return {key: (hows, len(activities)) for key, (hows, activities) in found.items()}


def test_funders_are_grouped_as_the_files_name_them(
    loaded: Loaded, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    api, key, publish = loaded
    pushed = api.request("POST", "/api/v1/activities", key=publish,
                         content=_funding_spelt_apart(tmp_path).read_bytes())
    assert pushed.json()["counts"]["updated"] == 3, pushed.text
    funded = [record.model for record in read_activities(tmp_path / "funded.xml")]
    examples = [record.model for file in DONORS for record in read_activities(EXAMPLES / file)]
    models = [*funded, *usaid_models[3:], *examples]
    for ref in (WFP, USAID):
        profile = _get(api, key, f"/api/v1/organisations/{ref}")
        entry = profile["organisation"]
        texts = {entry["name"], *(n["text"] for n in entry["names"])}
        expected = _expected_funders(models, set(entry["refs"]), texts)
        assert expected
        got = {f["ref"] or folded(f["name"]): (set(f["how"]), f["activities"])
               for f in profile["funders"]}
        assert got == expected, ref
    wfp = _get(api, key, f"/api/v1/organisations/{WFP}")
    [fondo] = [f for f in wfp["funders"] if f["ref"] is None and folded(f["name"]) == "fondo comun"]
    assert fondo["activities"] == 3
    assert fondo["name"] in {"Fondo Común", "FONDO COMUN"}


def test_profiles_followed_through_pushes_equal_profiles_read_afresh(
    loaded: Loaded, store: Engine, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    """After a push and a deletion, profiles added up from the kept values brought up to
    date equal those from values read afresh; unchanged activities' values are reused."""
    api, _, publish = loaded
    refs = (WFP, USAID, "ES-DAC-2")

    def profiles() -> list[Any]:
        with store.connect() as connection:
            ids = [connection.execute(select(ORG_REF.c.organisation_id)
                                      .where(ORG_REF.c.ref == ref)).scalar_one() for ref in refs]
            return [_profile(connection, entry, ecuador) for entry in _entries(connection, ids)
                    for ecuador in (False, True)]

    def kept() -> Any:
        with store.connect() as connection:
            return involvement.current(connection)

    def counts_equal_the_databases() -> bool:
        with store.connect() as connection:
            return all(_all_counts(connection, ecuador) == _counted(connection, ecuador)
                       for ecuador in (False, True))

    before, kept_before = profiles(), kept()
    assert counts_equal_the_databases()
    pushed = api.request("POST", "/api/v1/activities", key=publish,
                         content=_funding_spelt_apart(tmp_path).read_bytes())
    assert pushed.json()["counts"]["updated"] == 3, pushed.text
    gone = usaid_models[-1].identifier
    assert api.request("DELETE", f"/api/v1/activities/{gone}", key=publish).status_code == 204
    followed, kept_after = profiles(), kept()
    assert followed != before
    assert len(kept_after) == len(kept_before) - 1
    assert gone not in {value.identifier for value in kept_after.values()}
    unchanged = [i for i, value in kept_after.items()
                 if value.identifier in {a.identifier for a in usaid_models[3:-1]}]
    assert unchanged
    assert all(kept_after[i] is kept_before[i] for i in unchanged)
    assert involvement.index(kept_after) == involvement.Index.of(kept_after)
    assert counts_equal_the_databases()
    runtime.forget(store)
    assert profiles() == followed
    assert kept() is not kept_after


def _counted(connection: Connection, ecuador: bool) -> dict[int, tuple[int, dict[str, int]]]:
    """Per registry entry, as the database counts them: the live activities (for Ecuador,
    with `ecuador`) it reports, and those it takes part in by role code."""
    counts: dict[int, tuple[int, dict[str, int]]] = {}
    scope = [ACTIVITY.c.id.in_(IN_ECUADOR)] if ecuador else []
    for entry, count in connection.execute(select(ACTIVITY.c.organisation_id, func.count())
                                           .where(live(ACTIVITY.c.id), *scope)
                                           .group_by(ACTIVITY.c.organisation_id)):
        counts[entry] = (count, {})
    for entry, role, count in connection.execute(
            select(PARTICIPANT.c.organisation_id, PARTICIPANT.c.role,
                   func.count(func.distinct(PARTICIPANT.c.activity_id)))
            .where(live(PARTICIPANT.c.activity_id), PARTICIPANT.c.organisation_id.is_not(None),
                   *([PARTICIPANT.c.activity_id.in_(IN_ECUADOR)] if ecuador else []))
            .group_by(PARTICIPANT.c.organisation_id, PARTICIPANT.c.role)):
        counts.setdefault(entry, (0, {}))[1][role or ""] = count
    return counts


def _both_scopes(connection: Connection, ids: list[int]) -> list[Any]:
    """The profiles of the entries `ids`, of all their activities and of those for Ecuador."""
    return [_profile(connection, entry, ecuador) for entry in _entries(connection, ids)
            for ecuador in (False, True)]


def test_money_summed_from_stored_cents_equals_money_converted_when_read(
    loaded: Loaded, store: Engine
) -> None:
    """Transactions stored under another rate series (or before cents were stored) are
    converted when read, and `convert_transactions` stores them again."""
    refs = (WFP, USAID, "ES-DAC-2")
    with store.connect() as connection:
        ids = [connection.execute(select(ORG_REF.c.organisation_id)
                                  .where(ORG_REF.c.ref == ref)).scalar_one() for ref in refs]
        stored = _both_scopes(connection, ids)
        cents = dict(connection.execute(select(TRANSACTION.c.id, TRANSACTION.c.usd_cents)).all())
    assert all(p.disbursed.transactions or p.received_from_funders.transactions for p in stored)
    assert {p.received_from_funders.usd for p in stored} != {Decimal(0)}
    # As if stored under an older series, cents now wrong: written by hand, outside the
    # service (no event), so the process is told (`runtime.forget`).
    with clock_guard.expected(), store.begin() as connection:
        connection.execute(
            TRANSACTION.update().where(TRANSACTION.c.id % 2 == 0)
            .values(usd_rates="0.0-old", usd_cents=TRANSACTION.c.usd_cents + 1))
        connection.execute(
            TRANSACTION.update().where(TRANSACTION.c.id % 3 == 0).values(usd_rates=None))
    stale = sum(1 for row_id in cents if row_id % 2 == 0 or row_id % 3 == 0)
    runtime.forget(store)  # changed outside the change log: read the rows again
    with store.connect() as connection:
        read = _both_scopes(connection, ids)
    assert read == stored
    assert convert_transactions(store, batch=7) == stale
    assert convert_transactions(store) == 0
    with store.connect() as connection:
        assert dict(connection.execute(
            select(TRANSACTION.c.id, TRANSACTION.c.usd_cents)).all()) == cents
        assert set(connection.execute(select(TRANSACTION.c.usd_rates)).scalars()) == {
            series_version()}
        assert _both_scopes(connection, ids) == stored


def test_an_amount_too_large_is_stored_without_cents_and_counted_apart(
    loaded: Loaded, store: Engine, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    """Thirty digits: a publishing error. The push stands, the amount keeps no cents (it
    could not be converted into 64 bits) and the profile counts it without a rate."""
    api, key, publish = loaded
    before = _get(api, key, f"/api/v1/organisations/{USAID}")
    def disbursed(activity: etree._Element) -> None:
        set_first_transaction("9" * 30, "2030-01-01T00:00:00Z")(activity)
        activity.find("transaction/transaction-type").set("code", "3")  # type: ignore[union-attr]

    huge = variant(USAID_EC, tmp_path / "huge.xml", keep=1, a1=disbursed)
    pushed = api.request("POST", "/api/v1/activities", key=publish, content=huge.read_bytes())
    assert pushed.json()["counts"]["updated"] == 1, pushed.text
    with store.connect() as connection:
        row = connection.execute(
            select(TRANSACTION.c.type, TRANSACTION.c.amount, TRANSACTION.c.usd_cents,
                   TRANSACTION.c.usd_rates)
            .where(TRANSACTION.c.amount == Decimal("9" * 30))).one()
    assert row == ("3", Decimal("9" * 30), None, series_version())
    after = _get(api, key, f"/api/v1/organisations/{USAID}")["disbursed"]
    was = before["disbursed"]
    first = usaid_models[0].transactions[0]  # as it was
    if first.transaction_type is not None and first.transaction_type.code != "3":
        was = {**was, "transactions": was["transactions"] + 1}  # it was not a disbursement
    elif first.value is not None:  # it was, and counted for its dollars
        was = {**was, "usd": str(Decimal(was["usd"]) - first.value.amount)}
    assert after["without_rate"] == was["without_rate"] + 1
    assert after["transactions"] == was["transactions"]
    assert Decimal(after["usd"]) == Decimal(was["usd"])
    listed = api.request("GET", "/api/v1/transactions", key=key, params={"format": "csv"})
    assert listed.status_code == 200, listed.text
    rows = csv.DictReader(io.StringIO(without_bom(listed.text)))
    [huge_row] = [r for r in rows if r["value"] == "9" * 30]
    assert huge_row["value_usd"] == ""  # not converted: no cooperation amount is that large
