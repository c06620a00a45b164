"""The FastAPI application of iati-ec."""

from __future__ import annotations

import json
from importlib.metadata import version

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from service import errors
from service.api.routes import (
    activities,
    aggregates,
    changes,
    exports,
    health,
    ledger,
    mappings,
    organisations,
    publish,
    pushes,
    validation,
)


def create_app() -> FastAPI:
    """A new application instance with every route and error handler registered."""
    app = FastAPI(
        title="iati-ec",
        version=version("iati-ec"),
        description="IATI interoperability service for Ecuador's international cooperation.",
    )
    # gzip for clients that accept it (Accept-Encoding), streamed answers included.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.include_router(health.router)
    app.include_router(validation.router)
    app.include_router(organisations.router)
    app.include_router(activities.router)
    app.include_router(pushes.router)
    app.include_router(exports.router)
    app.include_router(ledger.router)
    app.include_router(aggregates.router)
    app.include_router(changes.router)
    app.include_router(mappings.router)
    app.include_router(publish.router)
    errors.install(app)
    return app


def openapi_document() -> str:
    """The OpenAPI document, formatted as committed in `openapi/openapi.json`."""
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"
