"""Activities over HTTP: push files and list the activities stored (one activity is in
`service.api.routes.activity`)."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from iati.writer import activity_chunks
from service.api.conditional import tagged
from service.api.deps import (
    EngineDep,
    PublishPrincipal,
    ReaderOrPublisher,
    SessionDep,
)
from service.api.filters import FilterDep
from service.api.routes.ledger import CSV_FORMATS, csv_response, csv_variant
from service.api.routes.pushes import problem_responses
from service.config import get_settings
from service.db import session_scope
from service.errors import PROBLEM
from service.models import PushMode, PushScope, PushStatus
from service.services import query
from service.services.jobs import JobPolicy, PushDeferredError, enqueue_push
from service.services.keys import Principal
from service.services.push import (
    Publisher,
    PushOptions,
    PushPublic,
    ReceivedFile,
    push_file,
    receive,
)
from service.services.push.intake import BodyTooLargeError
from service.services.push.reading import model_of
from service.services.push.records import push_document
from service.services.query import (
    FIELDS,
    FIELDS_PATTERN,
    ActivityPage,
    Sort,
    UnknownFieldError,
)
from service.services.spreadsheets import CsvVariant
from service.services.streaming import streamed

router = APIRouter(prefix="/api/v1/activities", tags=["activities"])
XML = "application/xml"
IATI_FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            XML: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                },
            },
        },
    },
    # What receiving the file may answer, whatever the operation then does with it.
    "responses": {
        "400": {"description": "A multipart body without a `file` part (`push.no-file`)",
                "content": {PROBLEM: {}}},
        "413": {"description": "The file is over the size limit (`input.too-large`)",
                "content": {PROBLEM: {}}},
    },
}


@dataclass(frozen=True, slots=True)
class PushLimits:
    """Where bodies are spooled, how large they may be, and above which size a push is
    queued for a worker (202 Accepted)."""

    max_bytes: int
    background_bytes: int
    spool_directory: Path | None


def push_limits() -> PushLimits:
    """The push limits of the settings."""
    settings = get_settings()
    return PushLimits(
        max_bytes=settings.max_upload_bytes,
        background_bytes=settings.push_background_bytes,
        spool_directory=settings.spool_directory,
    )


LimitsDep = Annotated[PushLimits, Depends(push_limits)]
ModeQuery = Annotated[
    PushMode, Query(description="`atomic`: apply all activities or none")
]
WaitQuery = Annotated[float, Query(
    ge=0, le=300, description="Seconds to wait for a queued push to end (then 200 with its "
    "outcomes; else 202)",
)]
WAIT_POLL_SECONDS = 0.25
ScopeQuery = Annotated[
    PushScope,
    Query(description="`dataset`: the file is your complete set; others are deleted"),
]


@router.post(
    "",
    operation_id="push_activities",
    openapi_extra=IATI_FILE_BODY,
    responses={
        202: {"model": PushPublic, "description": "Large file or whole dataset: stored and "
              "queued for a worker; follow the push at `Location`"},
        **problem_responses(401, 403, 413, 422),
    },
)
async def push_activities(
    request: Request, principal: PublishPrincipal, engine: EngineDep, limits: LimitsDep,
    mode: ModeQuery = PushMode.default, scope: ScopeQuery = PushScope.activities,
    wait: WaitQuery = 0,
) -> Any:
    """Push an IATI activity file (raw body or multipart `file`): each activity's outcome.

    A large file, or a whole dataset (`scope=dataset`), is stored and queued for a worker:
    answered 202 with the push record's address in `Location`, or 200 with its outcomes if
    it ends within `wait` seconds."""
    received = await receive_body(request, limits)
    return await _push(engine, principal, received, PushOptions(mode, scope), limits, wait)


class ListFormat(StrEnum):
    json = "json"
    csv = "csv"  # every match, streamed: `limit` and `cursor` do not apply
    csv_es = "csv-es"  # the same, for a spreadsheet set to Spanish
    xml = "xml"  # every match, streamed, as one IATI 2.03 activity file


@router.get(
    "",
    operation_id="list_activities",
    response_model=ActivityPage,
    responses={
        200: {"content": {"text/csv": {}, XML: {}},
              "description": "A JSON page; with format=csv, csv-es or xml, every match, "
                             "streamed"},
        **problem_responses(400, 401, 403),
    },
)
def list_activities(
    request: Request, response: Response, session: SessionDep, engine: EngineDep,
    _: ReaderOrPublisher, chosen: FilterDep,
    format: Annotated[ListFormat, Query(
        description="`json`: one page; the `fields` of every match, one row each, as "
        f"{CSV_FORMATS}; `xml`: every match as an IATI 2.03 activity file",
    )] = ListFormat.json,
    sort: Annotated[Sort, Query()] = Sort.stored,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="The previous page's next_cursor")] = None,
    fields: Annotated[str | None, Query(
        description=f"Comma-separated, among: {', '.join(FIELDS)}",
        json_schema_extra={"pattern": FIELDS_PATTERN})] = None,
) -> ActivityPage | Response:
    """Live activities matching every filter given (the values of one filter are
    alternatives), one keyset page at a time — or all of them, streamed as CSV or XML."""
    if format is not ListFormat.json:
        as_xml = format is ListFormat.xml
        statement = query.activities_statement(
            chosen, sort=sort, cursor=cursor, dialect=engine.dialect.name, document=as_xml
        )
        rows = streamed(engine, statement)
        if as_xml:
            return StreamingResponse(
                activity_chunks(model_of(row["document"]) for row in rows), media_type=XML,
                headers={"Content-Disposition": 'attachment; filename="activities.xml"'},
            )
        shown = _fields(fields)
        return csv_response(shown, (query.summary(row, shown) for row in rows),
                            "activities.csv", csv_variant(format) or CsvVariant.csv)
    page = query.list_activities(
        session, chosen, sort=sort, limit=limit, cursor=cursor, fields=_fields(fields),
    )
    return tagged(request, response, page)


def _fields(asked: str | None) -> tuple[str, ...]:
    if asked is None:
        return FIELDS
    names = tuple(name.strip(" ") for name in asked.split(","))
    unknown = [name for name in names if name not in FIELDS]
    if not re.fullmatch(FIELDS_PATTERN, asked):
        raise UnknownFieldError(
            f"Unknown field(s) {', '.join(map(repr, unknown))}; give some of these, "
            f"comma-separated: {', '.join(FIELDS)}.", fields=unknown,
        )
    return names


async def receive_body(request: Request, limits: PushLimits) -> ReceivedFile:
    """The request's file (raw body or multipart `file`), spooled to disk; refused before
    any byte is read when its declared `Content-Length` is over the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise BodyTooLargeError(
            f"The body declares {int(declared):,} bytes, over the limit of "
            f"{limits.max_bytes:,}; split the file into smaller ones.")
    return await receive(
        request.stream(), content_type=request.headers.get("content-type"),
        directory=limits.spool_directory, max_bytes=limits.max_bytes,
    )


async def _push(
    engine: Engine, principal: Principal, received: ReceivedFile, options: PushOptions,
    limits: PushLimits, wait: float,
) -> Any:
    """A small push is processed while the client waits (as a job this process claims);
    a large one, or one of a whole dataset (its deletions may be many), is queued for a
    worker and answered 202 — after up to `wait` seconds, 200 if it ended meanwhile."""
    publisher = publisher_of(principal)
    try:
        if received.size <= limits.background_bytes and options.scope is PushScope.activities:
            try:
                return await run_in_threadpool(
                    push_file, engine, publisher=publisher, received=received,
                    options=options, max_bytes=limits.max_bytes,
                )
            except PushDeferredError as deferred:
                push_id = str(deferred.extra["push_id"])
        else:
            queued = await run_in_threadpool(
                enqueue_push, engine, publisher=publisher, received=received,
                options=options, policy=JobPolicy.from_settings(),
            )
            assert isinstance(queued, str)
            push_id = queued
    finally:
        received.discard()
    document = await _waited(engine, push_id, wait)
    if document.status is not PushStatus.running:
        return document
    return JSONResponse(
        document.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/pushes/{push_id}"},
    )


async def _waited(engine: Engine, push_id: str, wait: float) -> PushPublic:
    """The push's document once it has ended, or after `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        document = await run_in_threadpool(_document, engine, push_id)
        if document.status is not PushStatus.running or time.monotonic() >= deadline:
            return document
        await asyncio.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _document(engine: Engine, push_id: str) -> PushPublic:
    with session_scope(engine) as session:
        return push_document(session, push_id)


def publisher_of(principal: Principal) -> Publisher:
    """The publisher a key speaks for."""
    return Publisher(
        organisation_id=principal.organisation_id, refs=principal.refs,
        api_key_id=principal.api_key_id,
    )
