"""Validate predicts the push: with a publisher's key, `POST /api/v1/validate` (and
`iati-ec validate --as ORG`) says what a push would do to each activity, storing nothing,
and the push that follows does exactly that."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from service.models import (
    Activity,
    ActivityVersion,
    KeyScope,
    Push,
    PushActivity,
    PushMode,
    PushScope,
)
from service.services.push import Publisher, PushPublic
from tests.support.cli import iati_ec
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    new_key,
    push,
    set_first_transaction,
    set_identifier,
    set_reporting_org,
    variant,
)

LATER = "2026-01-15T10:00:00Z"
EARLIER = "2020-01-01T00:00:00Z"


def _rows(store: Engine) -> tuple[int, ...]:
    with Session(store) as session:
        return tuple(
            int(session.exec(select(func.count()).select_from(table)).one())
            for table in (Activity, ActivityVersion, Push, PushActivity)
        )


def _outcomes(activities: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (a["position"], a["iati_identifier"], a["outcome"], a["version"],
         sorted({f["code"] for f in a["findings"] if f["stage"] == "push"}))
        for a in activities
    ]


def _pushed(document: PushPublic) -> list[tuple[Any, ...]]:
    return _outcomes(document.model_dump(mode="json")["activities"])


@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


@pytest.fixture
def mixed(store: Engine, usaid: Publisher, tmp_path: Path) -> Path:
    """Six USAID activities stored, then a file of eight: one later (updated), one older
    (stale), one of another reporting-org (rejected), one without identifier (rejected),
    two unchanged and two new (created)."""
    push(store, usaid, variant(USAID_EC, tmp_path / "six.xml", keep=6))
    return variant(
        USAID_EC, tmp_path / "eight.xml", keep=8,
        a1=set_first_transaction("1.00", LATER), a2=set_first_transaction("2.00", EARLIER),
        a3=set_reporting_org("GB-1"), a4=set_identifier(""),
    )


def test_a_dry_run_gives_each_activity_the_outcome_the_push_then_gives(
    store: Engine, usaid: Publisher, mixed: Path
) -> None:
    api = Api(store)
    key = new_key(store, USAID, KeyScope.publish)
    before = _rows(store)
    answer = api.request("POST", "/api/v1/validate", key=key, content=mixed.read_bytes())
    assert answer.status_code == 200, answer.text
    rehearsal = answer.json()["push"]
    assert _rows(store) == before  # nothing stored, no push recorded
    predicted = _outcomes(rehearsal["activities"])
    assert [outcome for _, _, outcome, _, _ in predicted] == [
        "updated", "stale", "rejected", "rejected", "unchanged", "unchanged", "created",
        "created",
    ]
    assert rehearsal["counts"]["rejected"] == 2
    pushed = push(store, usaid, mixed)
    assert _pushed(pushed) == predicted


def test_atomic_and_dataset_dry_runs_predict_those_pushes(
    store: Engine, usaid: Publisher, mixed: Path, tmp_path: Path
) -> None:
    api = Api(store)
    key = new_key(store, USAID, KeyScope.publish)
    atomic = api.request(
        "POST", "/api/v1/validate", key=key, params={"mode": "atomic"}, content=mixed.read_bytes()
    ).json()["push"]
    assert {a["outcome"] for a in atomic["activities"]} == {"rejected"}
    pushed = push(store, usaid, mixed, mode=PushMode.atomic)
    assert _pushed(pushed) == _outcomes(atomic["activities"])
    four = variant(USAID_EC, tmp_path / "four.xml", keep=4)
    dataset = api.request(
        "POST", "/api/v1/validate", key=key, params={"scope": "dataset"},
        content=four.read_bytes(),
    ).json()["push"]
    assert dataset["counts"]["deleted"] == 2
    pushed = push(store, usaid, four, scope=PushScope.dataset)
    assert _pushed(pushed) == _outcomes(dataset["activities"])


def test_without_a_publish_key_validate_only_validates_and_a_bad_key_is_refused(
    store: Engine, mixed: Path
) -> None:
    api = Api(store)
    anonymous = api.request("POST", "/api/v1/validate", content=mixed.read_bytes())
    assert anonymous.status_code == 200
    assert "push" not in anonymous.json()
    assert anonymous.json()["valid"] is True
    forged = api.request("POST", "/api/v1/validate", key="iatiec_1_nope", content=b"<x/>")
    assert forged.status_code == 401
    reader = new_key(store, USAID, KeyScope.read)
    read = api.request("POST", "/api/v1/validate", key=reader, content=mixed.read_bytes())
    assert read.status_code == 200
    assert read.json()["valid"] is True
    assert "push" not in read.json()


def test_the_command_line_dry_run_says_the_same(
    store: Engine, usaid: Publisher, store_url: str, mixed: Path
) -> None:
    ran = iati_ec("validate", "--as", USAID, "--json", str(mixed), database=store_url)
    assert ran.returncode == 0, ran.stderr
    [report] = json.loads(ran.stdout)
    before = _rows(store)
    people = iati_ec("validate", "--as", USAID, str(mixed), database=store_url)
    assert "2 rejected" in people.stdout
    assert "2 created" in people.stdout
    assert "push.not-your-activity" in people.stdout  # each refusal with its reason
    assert _rows(store) == before
    pushed = push(store, usaid, mixed)
    assert _pushed(pushed) == _outcomes(report["push"]["activities"])
    unknown = iati_ec("validate", "--as", "XX-NOBODY", str(mixed), database=store_url)
    assert unknown.returncode == 2
    assert "orgs add" in unknown.stderr
