"""The dashboard's main pages, rendered once after each change to the store.

The answers behind the overview, coordination, results, registry and quality pages, and
the profiles of the organisations in most activities, take seconds to compute at 100,000
activities and are then kept until the store changes (`service.services.memo`). Without
help, the first visitor after every push would wait for them. While the service runs, a
task looks at the store's generation every `interval` seconds; once it has changed and
then stayed the same for one interval (a push of many batches is over), the task asks the
application itself for each page, in process, so that the answers are kept before anyone
asks. The generation is read by every worker, so each one warms its own kept answers
whoever wrote the change: a push, `iati-ec import`, a sync or a remap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from service.services.memo import generation
from service.services.partners import busiest

log = logging.getLogger(__name__)
# The overview as first shown and under its switches (measure, gross), then the pages
# whose figures cover the whole store.
PAGES = (
    "/", "/?measure=commitment", "/?measure=expenditure", "/?basis=gross",
    "/coordinacion", "/resultados", "/organizaciones", "/calidad",
)
# Then the profiles of the organisations in most activities, the slowest to compute.
PROFILES = 5


class PageWarmer:
    """Warms `pages` of `app` after each settled change to `engine`'s store."""

    def __init__(
        self, app: FastAPI, engine: Engine, *, interval: float, pages: tuple[str, ...] = PAGES,
        profiles: int = PROFILES,
    ) -> None:
        self.app, self.engine, self.interval, self.pages = app, engine, interval, pages
        self.profiles = profiles
        self.rounds = 0  # warmings done
        self.statuses: dict[str, int] = {}  # each page's status in the last round
        self.warmed_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="page-warmer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://warming") as client:
            seen: Hashable = None
            warmed: Hashable = None
            while True:
                current = await run_in_threadpool(self._generation)
                if current is not None and current == seen and current != warmed:
                    await self._warm(client)
                    warmed = current
                seen = current
                await asyncio.sleep(self.interval)

    def _generation(self) -> Hashable:
        try:
            with self.engine.connect() as connection:
                return generation(connection)
        except Exception:  # a store not yet migrated, or gone for a moment: try again later
            log.warning("page warming: the store's generation cannot be read", exc_info=True)
            return None

    def _busiest(self) -> list[str]:
        """The profile pages of the `profiles` organisations in most activities."""
        try:
            with self.engine.connect() as connection:
                return [f"/organizaciones/{quote(entry.refs[0] if entry.refs else str(entry.id))}"
                        for entry in busiest(connection, self.profiles, ecuador=True)]
        except Exception:
            log.warning("page warming: the busiest organisations cannot be read", exc_info=True)
            return []

    async def _warm(self, client: httpx.AsyncClient) -> None:
        for page in [*self.pages, *await run_in_threadpool(self._busiest)]:
            try:
                answer = await client.get(page)
            except Exception:
                log.warning("page warming: %s failed", page, exc_info=True)
                self.statuses[page] = 0
                continue
            self.statuses[page] = answer.status_code
        self.rounds += 1
        self.warmed_at = datetime.now(UTC)

