"""The facts coordination keeps of every live activity, on SQLite and PostgreSQL: after each
push and deletion they equal the facts read afresh, and only the activities the change
log names were read again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from service.services import following
from service.services.coordination import features
from service.services.coordination.features import Facts, live_facts
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter
from tests.support.publishing import USAID, Api
from tests.support.republished import ORIGINAL, one_activity

RENAMED = "Alianza para el turismo sostenible, segunda fase"


def _kept(store: Engine, chosen: ActivityFilter | None = None) -> dict[int, Facts]:
    with store.connect() as connection:
        return live_facts(connection, chosen)


def _fresh(store: Engine) -> dict[int, Facts]:
    with store.connect() as connection:
        return features._read(connection, [ACTIVITY.c.deleted_at.is_(None)])


def _id(store: Engine, identifier: str) -> int:
    with store.connect() as connection:
        return connection.execute(select(ACTIVITY.c.id).where(
            ACTIVITY.c.iati_identifier == identifier)).scalar_one()


def test_the_kept_facts_follow_each_change_and_read_only_the_changed_activities(
    loaded: tuple[Api, str, str], store: Engine, tmp_path: Path,
) -> None:
    api, _, publish = loaded
    first = _kept(store)
    assert first == _fresh(store)
    assert len(first) > 10
    renamed = _id(store, ORIGINAL)

    changed = one_activity(ORIGINAL, tmp_path / "renamed.xml", reporting_org=USAID,
                           spanish_title=RENAMED)
    answer = api.request("POST", "/api/v1/activities", key=publish, content=changed.read_bytes())
    assert answer.json()["counts"]["updated"] == 1, answer.text
    second = _kept(store)
    assert second == _fresh(store)
    assert second[renamed].titles == [RENAMED] != first[renamed].titles
    assert all(second[i] is first[i] for i in first if i != renamed)

    deleted = next(f for f in first.values() if f.id != renamed)
    answer = api.request("DELETE", f"/api/v1/activities/{deleted.identifier}", key=publish)
    assert answer.status_code == 204, answer.text
    third = _kept(store)
    assert deleted.id not in third
    assert third == _fresh(store)
    assert all(third[i] is second[i] for i in third)


@pytest.mark.reads_only
def test_a_filter_keeps_the_matching_activities_facts(
    loaded: tuple[Api, str, str], store: Engine,
) -> None:
    everything = _kept(store)
    chosen = _kept(store, ActivityFilter(reporting_org=[USAID]))
    assert chosen
    assert set(chosen) < set(everything)
    assert all(f.reporting_org == USAID and f is everything[f.id] for f in chosen.values())


def test_the_facts_are_read_afresh_when_the_change_log_does_not_follow_on(
    loaded: tuple[Api, str, str], store: Engine, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, _, publish = loaded
    first = _kept(store)
    kept = features.FACTS.states[store]
    assert kept.cursor is not None
    (seq, at), = kept.cursor
    kept.cursor = ((seq, at - timedelta(seconds=1)),)  # the log of a database emptied and refilled
    second = _kept(store)
    assert second == first
    assert not any(second[i] is first[i] for i in first)

    monkeypatch.setattr(following, "REREAD_ALL", 0)  # any change is too many
    changed = one_activity(ORIGINAL, tmp_path / "renamed.xml", reporting_org=USAID,
                           spanish_title=RENAMED)
    api.request("POST", "/api/v1/activities", key=publish, content=changed.read_bytes())
    third = _kept(store)
    assert third == _fresh(store)
    assert not any(third[i] is second[i] for i in third)


def test_a_connection_that_sees_an_earlier_point_of_the_log_is_served_the_kept_facts(
    loaded: tuple[Api, str, str], store: Engine, tmp_path: Path,
) -> None:
    """A transaction begun before the last update must not send the facts back to its
    point of the log (which would read all of them again, twice)."""
    api, _, publish = loaded
    _kept(store)
    renamed = _id(store, ORIGINAL)
    snapshot = {"isolation_level": "REPEATABLE READ"} if store.dialect.name == "postgresql" else {}
    with store.connect().execution_options(**snapshot) as behind:
        behind.execute(select(ACTIVITY.c.id).limit(1)).all()  # its snapshot begins here
        changed = one_activity(ORIGINAL, tmp_path / "renamed.xml", reporting_org=USAID,
                               spanish_title=RENAMED)
        api.request("POST", "/api/v1/activities", key=publish, content=changed.read_bytes())
        second = _kept(store)
        assert second[renamed].titles == [RENAMED]
        assert live_facts(behind) is second
    assert features.FACTS.states[store].values is second
