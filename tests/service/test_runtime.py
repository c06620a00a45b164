"""What a process keeps is dropped through `service.runtime`: per store, or all of it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from service import runtime
from service.config import get_settings
from service.db import get_engine
from service.services import following, memo
from service.services.coordination.features import FACTS
from service.services.figures import FIGURES
from service.services.involvement import INVOLVEMENT
from service.services.quality import FLAGS
from service.services.results.listing import RESULTS
from tests.support.databases import Databases
from tests.support.loads import USAID_AND_EXAMPLES, Loaded


def test_every_follower_of_the_service_can_be_forgotten() -> None:
    registered = {id(follower) for follower in following.FOLLOWERS}
    assert {id(f) for f in (FACTS, FIGURES, INVOLVEMENT, FLAGS, RESULTS)} <= registered


def test_forget_drops_the_kept_answers_and_followed_values_of_one_store(
    loaded: Loaded, store: Engine, databases: Databases
) -> None:
    def figures(bind: Engine) -> object:
        with bind.connect() as connection:
            return FIGURES.current(connection, None)

    with store.connect() as connection:
        answer = memo.remembered(connection, "probe", lambda: object())
    another = databases.copy(USAID_AND_EXAMPLES)
    engine = another.engine
    followed, other = figures(store), figures(engine)
    assert figures(store) is followed  # kept
    assert memo.held(store) == 1

    runtime.forget(store)

    assert memo.held(store) == 0
    assert figures(store) is not followed  # read afresh
    with store.connect() as connection:
        assert memo.remembered(connection, "probe", lambda: object()) is not answer
    try:
        assert figures(engine) is other  # another store's values stay
    finally:
        databases.drop(another)


def test_reset_reads_the_settings_again_and_opens_a_new_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    first_url = f"sqlite:///{tmp_path_factory.mktemp('one') / 'one.db'}"
    second_url = f"sqlite:///{tmp_path_factory.mktemp('two') / 'two.db'}"
    monkeypatch.setenv("DATABASE_URL", first_url)
    runtime.reset()
    try:
        first = get_engine()
        assert get_settings().database_url == first_url
        monkeypatch.setenv("DATABASE_URL", second_url)
        assert get_engine() is first  # read once per process
        runtime.reset()
        assert get_settings().database_url == second_url
        assert get_engine() is not first
        assert get_engine().url.render_as_string() == second_url
    finally:
        runtime.reset()
