"""The FastAPI application of iati-ec."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from service import errors
from service.api import openapi
from service.api.methods import ResourceMethods
from service.api.nul import RefuseNul
from service.api.routes import (
    activities,
    activity,
    activity_paths,
    aggregates,
    agreements,
    changes,
    coordination,
    debt,
    effectiveness,
    exports,
    health,
    ledger,
    lenses,
    mappings,
    organisations,
    ownership,
    provided,
    publish,
    publishers,
    pushes,
    results,
    sync,
    traceability,
    validation,
    webhooks,
)
from service.config import get_settings
from service.db import get_engine
from service.logs import RequestIds
from service.services.jobs.worker import configured_worker
from service.services.webhooks import DeliveryPolicy, Dispatcher
from service.web import agreements as agreement_pages
from service.web import apidocs, downloads, pages
from service.web import debt as debt_pages
from service.web import effectiveness as effectiveness_pages
from service.web import provided as provided_pages
from service.web import security as security_pages
from service.web.warming import PageWarmer


def create_app(
    *, deliver_webhooks: bool | None = None, warm_pages: bool | None = None,
    run_jobs: bool | None = None,
) -> FastAPI:
    """A new application instance with every route and error handler registered.

    While it runs, a thread delivers webhook events if `deliver_webhooks` (by default the
    `webhook_dispatcher` setting), a task warms the dashboard's main pages after each
    change to the store if `warm_pages` (by default the `warm_pages` setting), and a
    thread processes queued jobs if `run_jobs` (by default the `embedded_worker`
    setting), all on the engine the routes use.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = get_settings()
        deliver = settings.webhook_dispatcher if deliver_webhooks is None else deliver_webhooks
        warm = settings.warm_pages if warm_pages is None else warm_pages
        engine = app.dependency_overrides.get(get_engine, get_engine)()
        dispatcher = None
        if deliver:
            dispatcher = Dispatcher(
                engine, policy=DeliveryPolicy.from_settings(settings),
                interval=settings.webhook_poll_seconds,
            )
            app.state.webhook_dispatcher = dispatcher
            dispatcher.start()
        worker = None
        if settings.embedded_worker if run_jobs is None else run_jobs:
            worker = configured_worker(engine)
            app.state.job_worker = worker
            worker_thread = worker.start()
        warmer = None
        if warm:
            warmer = PageWarmer(app, engine, interval=settings.warm_poll_seconds)
            app.state.page_warmer = warmer
            warmer.start()
        try:
            yield
        finally:
            if warmer is not None:
                await warmer.stop()
            if dispatcher is not None:
                dispatcher.stop(timeout=settings.webhook_timeout_seconds * 3 + 5)
            if worker is not None:  # its job goes back to the queue where it stands
                worker.stopping.set()
                worker_thread.join(timeout=settings.job_lease_seconds)

    app = FastAPI(
        title="iati-ec",
        version=version("iati-ec"),
        description="IATI interoperability service for Ecuador's international cooperation.",
        lifespan=lifespan,
        docs_url=None,  # apidocs serves /docs and /redoc from installed files, not a CDN
        redoc_url=None,
    )
    # gzip for clients that accept it (Accept-Encoding), streamed answers included.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # 405 with every method of the resource a path names in Allow (see service.api.methods).
    app.add_middleware(ResourceMethods, routes=app.router.routes)
    app.add_middleware(RefuseNul)  # U+0000 anywhere is refused (see service.api.nul)
    # Outermost: every answer, errors included, is counted and logged with the request's id.
    app.add_middleware(RequestIds)
    app.include_router(health.router)
    app.include_router(apidocs.router)
    app.include_router(validation.router)
    # The API's operations on the store; each may answer 503 when no connection comes free.
    for store in (ownership, organisations, activities, activity, activity_paths, debt,
                  effectiveness, pushes, exports, ledger, aggregates, provided, traceability,
                  results, changes, mappings, webhooks, sync, publish, publishers, agreements,
                  lenses):
        app.include_router(store.router, responses=errors.BUSY_RESPONSE)
    app.include_router(pages.router)
    app.include_router(debt_pages.router)
    app.include_router(effectiveness_pages.router)
    app.include_router(provided_pages.router)
    app.include_router(agreement_pages.router)
    app.include_router(security_pages.router)
    app.include_router(downloads.router)
    app.include_router(coordination.router, responses=errors.BUSY_RESPONSE)
    errors.install(app)
    openapi.install(app)
    return app


def openapi_document() -> str:
    """The OpenAPI document, formatted as committed in `openapi/openapi.json`."""
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"
