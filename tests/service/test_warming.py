"""The service warms the dashboard's pages after each settled change to the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from service import runtime
from service.app import create_app
from service.config import get_settings
from service.db import get_engine
from service.models import KeyScope
from service.services import involvement
from service.services.memo import kept
from service.services.partners import busiest
from service.web.warming import PAGES, PROFILES, PageWarmer
from tests.support.publishing import USAID, Api, new_key
from tests.support.samples import EXAMPLES


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IATI_EC_WARM_POLL_SECONDS", "0.2")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _wait_for_round(warmer: PageWarmer, rounds: int) -> None:
    deadline = time.monotonic() + 120
    while warmer.rounds < rounds:
        assert time.monotonic() < deadline, f"no warming round {rounds} in 120 s"
        time.sleep(0.1)


def test_pages_are_warmed_at_start_and_after_each_push(
    store: Engine, loaded: tuple[Api, str, str], quick: None
) -> None:
    api = loaded[0]
    publish = new_key(store, "ES-DAC-2", KeyScope.publish)
    runtime.forget(store)
    app = create_app(warm_pages=True)
    app.dependency_overrides.update(api.app.dependency_overrides)  # the test database

    def indexed(connection: Connection) -> bool:
        """Whether the registry's counts are ready: the kept involvement's index."""
        return "partner-index" in involvement.current(connection).derived

    async def run() -> tuple[list[object], list[object], dict[str, int]]:
        async with app.router.lifespan_context(app):
            warmer: PageWarmer = app.state.page_warmer
            await asyncio.to_thread(_wait_for_round, warmer, 1)
            with store.connect() as connection:
                first = kept(connection)
                assert indexed(connection)
            statuses = dict(warmer.statuses)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                health = (await client.get("/health")).json()
            assert health["pages_warmed_at"] == warmer.warmed_at.isoformat().replace(
                "+00:00", "Z")
            # A push changes the generation: nothing is kept for it until the next round.
            body = (EXAMPLES / "health-grant-esmeraldas.xml").read_bytes().replace(
                b">500000.00<", b">750000.00<")
            answer = await asyncio.to_thread(
                api.request, "POST", "/api/v1/activities", key=publish, content=body)
            assert answer.json()["counts"]["updated"] == 1, answer.text
            await asyncio.to_thread(_wait_for_round, warmer, 2)
            with store.connect() as connection:
                second = kept(connection)
                assert indexed(connection)
        return first, second, statuses

    first, second, statuses = asyncio.run(run())
    # USAID takes part in most activities (its 250), then the organisations it funds most
    with store.connect() as connection:
        biggest = busiest(connection, PROFILES, ecuador=True)
    assert biggest[0].refs == [USAID]
    profiles = [f"/organizaciones/{quote(e.refs[0] if e.refs else str(e.id))}" for e in biggest]
    assert statuses == dict.fromkeys([*PAGES, *profiles], 200)
    for found in (first, second):
        assert ("quality-overview", True) in found  # the public page's
        assert any(isinstance(key, tuple) and key and key[0] == "aggregate" for key in found)
        warmed = {key[1] for key in found if isinstance(key, tuple) and key[0] == "partner-profile"}
        assert warmed == {e.id for e in biggest}
    assert app.state.page_warmer.rounds >= 2


def test_apps_the_tests_start_do_not_warm_unless_asked(store: Engine) -> None:
    app: FastAPI = create_app()
    app.dependency_overrides[get_engine] = lambda: store

    async def start_and_stop() -> bool:
        async with app.router.lifespan_context(app):
            return hasattr(app.state, "page_warmer")

    assert not asyncio.run(start_and_stop())
