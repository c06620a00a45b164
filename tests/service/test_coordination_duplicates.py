"""The duplicate report over HTTP, on SQLite and PostgreSQL: the real USAID Ecuador file and
the worked examples, plus one real activity re-published by its implementing partner
(`tests.support.republished`): the classic IATI duplicate, one activity reported by the
funder and the implementer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from service.models import KeyScope
from service.services.coordination.decisions import decided_pairs
from tests.support.loads import DONORS, example_identifiers
from tests.support.publishing import USAID, Api, new_key
from tests.support.republished import (
    COPY,
    ORIGINAL,
    PARTNER,
    SECOND,
    Published,
    decide,
)

MEASURES = ["commitment", "disbursement"]


def _report(api: Api, key: str, **params: Any) -> dict[str, Any]:
    answer = api.request("GET", "/api/v1/coordination/duplicates", key=key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _pair(report: dict[str, Any], one: str, other: str, kind: str) -> dict[str, Any]:
    [found] = [p for p in report["pairs"] if p["kind"] == kind and {
        p["a"]["iati_identifier"], p["b"]["iati_identifier"]} == {one, other}]
    return found


def test_a_republished_activity_pairs_with_its_original_and_says_why(
    published: Published,
) -> None:
    api, read, _ = published
    report = _report(api, read, limit=1000)
    pair = _pair(report, ORIGINAL, COPY, "similar")
    assert pair["score"] >= 0.9
    assert {pair["a"]["reporting_org"], pair["b"]["reporting_org"]} == {USAID, PARTNER}
    evidence = {e["component"]: e for e in pair["evidence"]}
    assert evidence["title"]["similarity"] == 1.0  # the Spanish narratives, folded
    assert {evidence["title"]["a"], evidence["title"]["b"]} == {
        "Alianza Ecuatoriana de Turismo Sostenible (ESTA)",
        "ALIANZA ECUATORIANA DE TURISMO SOSTENIBLE – ESTA"}
    assert PARTNER in evidence["participating-orgs"]["a"]
    assert evidence["participating-orgs"]["similarity"] == 1.0
    assert evidence["dates"]["similarity"] == 1.0
    assert evidence["amounts"]["a"]["within_tolerance"] is True
    assert Decimal(evidence["amounts"]["a"]["amount_usd"]) == Decimal(
        evidence["amounts"]["b"]["amount_usd"]) > 0
    assert sum(e["contribution"] for e in pair["evidence"]) == pytest.approx(pair["score"])
    assert pair["decision"] == "pending"
    assert report["threshold"] == 0.6
    assert sum(report["weights"].values()) == pytest.approx(1.0)


def test_an_identifier_another_organisation_pushed_is_reported_from_the_refusal(
    published: Published,
) -> None:
    api, read, _ = published
    pair = _pair(_report(api, read, kind="same-identifier"), ORIGINAL, ORIGINAL,
                 "same-identifier")
    assert pair["score"] == 1.0
    assert pair["a"]["stored"] is True
    assert pair["b"] == {"iati_identifier": ORIGINAL, "reporting_org": SECOND, "title": None,
                         "stored": False}
    [refusal] = pair["evidence"]
    assert refusal["component"] == "refused-push"
    assert refusal["b"]["organisation"] == "United Nations Development Programme"
    assert refusal["b"]["refs"] == [SECOND]
    assert refusal["b"]["pushes"] == 1
    # refused as under USAID's prefix (USAID, with a key, owns its identifier as one)
    assert "registered to USAID: only USAID may publish it" in refusal["b"]["message"]


def test_unrelated_activities_are_not_paired(published: Published) -> None:
    api, read, _ = published
    report = _report(api, read, limit=1000)
    paired = {p[side]["iati_identifier"] for p in report["pairs"] for side in ("a", "b")}
    assert not paired & set(example_identifiers())
    assert report["total"] < 20  # 250 real activities: a short list, not all pairs
    assert all(p["score"] >= 0.6 for p in report["pairs"])
    only = _report(api, read, reporting_org=DONORS["health-grant-esmeraldas.xml"])
    assert only["pairs"] == []


def test_confirming_a_pair_excludes_one_side_from_the_aggregates(published: Published) -> None:
    api, read, admin = published
    params = {"measure": MEASURES, "group_by": "reporting_org"}
    before = _aggregates(api, read, **params)
    copied = _aggregates(api, read, reporting_org=PARTNER, **params)
    assert Decimal(copied["total_usd"]) != 0
    decided = decide(api, admin, a=COPY, b=ORIGINAL, verdict="confirmed", keep=ORIGINAL,
                      note="AED re-publishes USAID's award")
    current = decided["current"]
    assert (decided["a"], decided["b"]) == tuple(sorted((COPY, ORIGINAL)))
    assert (current["keep"], current["excluded"]) == (ORIGINAL, COPY)
    assert current["api_key_id"] is not None
    assert current["decided_at"]
    after = _aggregates(api, read, **params)
    assert Decimal(after["total_usd"]) == Decimal(before["total_usd"]) - Decimal(
        copied["total_usd"])
    assert after["activities"] == before["activities"] - 1
    assert _aggregates(api, read, reporting_org=PARTNER, **params)["rows"] == []
    pair = _pair(_report(api, read, decision="confirmed"), ORIGINAL, COPY, "similar")
    assert pair["decided"]["note"] == "AED re-publishes USAID's award"
    assert all(p["decision"] == "pending" for p in _report(api, read, decision="pending")[
        "pairs"])

    dismissed = decide(api, admin, a=ORIGINAL, b=COPY, verdict="dismissed")
    assert [d["verdict"] for d in dismissed["history"]] == ["confirmed", "dismissed"]
    assert dismissed["history"][0]["superseded_at"] is not None
    assert dismissed["current"]["excluded"] is None
    assert _aggregates(api, read, **params)["total_usd"] == before["total_usd"]
    pair = _pair(_report(api, read, decision="dismissed"), ORIGINAL, COPY, "similar")
    assert pair["decided"]["organisation_id"] == current["organisation_id"]


def test_without_keep_the_side_stored_first_is_kept(published: Published) -> None:
    api, _, admin = published
    decided = decide(api, admin, a=COPY, b=ORIGINAL, verdict="confirmed")
    assert (decided["current"]["keep"], decided["current"]["excluded"]) == (ORIGINAL, COPY)
    same = decide(api, admin, a=ORIGINAL, b=ORIGINAL, verdict="confirmed")
    assert (same["current"]["keep"], same["current"]["excluded"]) == (ORIGINAL, None)


def test_decisions_need_an_admin_key_and_known_activities(
    published: Published, store: Engine
) -> None:
    api, read, admin = published
    body = {"a": ORIGINAL, "b": COPY, "verdict": "confirmed"}
    url = "/api/v1/coordination/duplicates/decisions"
    anonymous = api.request("POST", url, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    forbidden = api.request("POST", url, key=read, json=body)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "auth.insufficient-scope"
    publisher = new_key(store, USAID, KeyScope.publish)
    assert api.request("POST", url, key=publisher, json=body).status_code == 403
    unknown = api.request("POST", url, key=admin, json={**body, "b": "XX-NOPE"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "coordination.unknown-activity"
    bad_keep = api.request("POST", url, key=admin, json={**body, "keep": "XX-NOPE"})
    assert bad_keep.status_code == 422
    assert bad_keep.json()["code"] == "coordination.bad-decision"
    assert api.request("GET", "/api/v1/coordination/duplicates").status_code == 401


def _aggregates(api: Api, key: str, **params: Any) -> dict[str, Any]:
    answer = api.request("GET", "/api/v1/aggregates", key=key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _decided(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.request("GET", "/api/v1/coordination/duplicates/decisions", key=key,
                         params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_decision_on_a_pair_whose_activity_is_deleted_stays_in_the_history(
    published: Published, store: Engine,
) -> None:
    """USAID deletes the activity the ministry kept: the pair leaves the report, its
    decision stays, listed with USAID's side deleted, and the partner's copy — all that
    remains of the activity — counts in the aggregates again. A later decision on the pair
    is recorded beside it."""
    api, read, admin = published
    params = {"measure": MEASURES, "group_by": "reporting_org"}
    copied = _aggregates(api, read, reporting_org=PARTNER, **params)
    decide(api, admin, a=COPY, b=ORIGINAL, verdict="confirmed", keep=ORIGINAL)
    [decided] = _decided(api, read, iati_identifier=ORIGINAL)
    assert (decided["excluding"], decided["a_state"], decided["b_state"]) == (COPY, "live",
                                                                              "live")
    assert _aggregates(api, read, reporting_org=PARTNER, **params)["rows"] == []

    usaid = new_key(store, USAID, KeyScope.publish)
    answer = api.request("DELETE", f"/api/v1/activities/{ORIGINAL}", key=usaid)
    assert answer.status_code == 204, answer.text
    report = _report(api, read, limit=1000)
    assert not [p for p in report["pairs"] if ORIGINAL in (
        p["a"]["iati_identifier"], p["b"]["iati_identifier"]) and p["kind"] == "similar"]
    [decided] = _decided(api, read, iati_identifier=COPY)
    states = {decided["a"]: decided["a_state"], decided["b"]: decided["b_state"]}
    assert states == {ORIGINAL: "deleted", COPY: "live"}
    assert [d["verdict"] for d in decided["history"]] == ["confirmed"]
    assert (decided["current"]["keep"], decided["current"]["excluded"]) == (ORIGINAL, COPY)
    assert decided["excluding"] is None  # the kept side is gone: the copy counts
    assert _aggregates(api, read, reporting_org=PARTNER, **params)["total_usd"] == copied[
        "total_usd"]

    again = decide(api, admin, a=ORIGINAL, b=COPY, verdict="dismissed",
                   note="USAID withdrew its report")
    assert [d["verdict"] for d in again["history"]] == ["confirmed", "dismissed"]
    assert again["a_state" if again["a"] == ORIGINAL else "b_state"] == "deleted"
    assert [(p["a"], p["b"]) for p in _decided(api, read)] == [tuple(sorted((COPY, ORIGINAL)))]
    with store.connect() as connection:  # the public page's: both for Ecuador, one deleted
        shown = decided_pairs(connection, ecuador=True)
    assert [(p.a, p.b, len(p.history)) for p in shown] == [(*sorted((COPY, ORIGINAL)), 2)]
    assert api.request("GET", "/api/v1/coordination/duplicates/decisions").status_code == 401
