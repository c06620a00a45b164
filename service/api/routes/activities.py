"""Activities over HTTP: push files, replace or delete one activity, read them back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from iati.elements.activity import Activity as IatiActivity
from iati.writer import activity_chunks
from mappings.budget_items import income_budget_items
from service.api.conditional import not_modified, tagged, weak
from service.api.deps import (
    EngineDep,
    PublishPrincipal,
    ReaderOrPublisher,
    SessionDep,
    VersionPath,
)
from service.api.filters import FilterDep
from service.api.routes.ledger import csv_response
from service.api.routes.pushes import problem_responses
from service.config import get_settings
from service.db import session_scope
from service.models import KeyScope, PushMode, PushScope
from service.services import activities, query
from service.services.activities import VersionPublic
from service.services.activity_links import ActivityLinks, activity_links
from service.services.budget.views import BudgetViewPublic, income_totals, read_view
from service.services.keys import Principal
from service.services.push import (
    Publisher,
    PushOptions,
    PushPublic,
    ReceivedFile,
    checked_identifier,
    push_file,
    push_in_background,
    receive,
    start_push,
)
from service.services.push.intake import BodyTooLargeError
from service.services.push.reading import model_of
from service.services.push.records import push_document
from service.services.query import FIELDS, ActivityPage, Sort, UnknownFieldError
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
}


@dataclass(frozen=True, slots=True)
class PushLimits:
    """Where bodies are spooled, how large they may be, and above which size a push is
    processed in the background (202 Accepted)."""

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
ScopeQuery = Annotated[
    PushScope,
    Query(description="`dataset`: the file is your complete set; others are deleted"),
]


@router.post(
    "",
    operation_id="push_activities",
    openapi_extra=IATI_FILE_BODY,
    responses={
        202: {"model": PushPublic, "description": "Large file: processing in the background"},
        **problem_responses(401, 403, 413, 422),
    },
)
async def push_activities(
    request: Request, principal: PublishPrincipal, engine: EngineDep, limits: LimitsDep,
    mode: ModeQuery = PushMode.default, scope: ScopeQuery = PushScope.activities,
) -> Any:
    """Push an IATI activity file (raw body or multipart `file`): each activity's outcome."""
    received = await receive_body(request, limits)
    return await _push(engine, principal, received, PushOptions(mode, scope), limits)


class ListFormat(StrEnum):
    json = "json"
    csv = "csv"  # every match, streamed: `limit` and `cursor` do not apply
    xml = "xml"  # every match, streamed, as one IATI 2.03 activity file


@router.get(
    "",
    operation_id="list_activities",
    response_model=ActivityPage,
    responses={
        200: {"content": {"text/csv": {}, XML: {}},
              "description": "A JSON page; with format=csv or xml, every match, streamed"},
        **problem_responses(400, 401, 403),
    },
)
def list_activities(
    request: Request, response: Response, session: SessionDep, engine: EngineDep,
    _: ReaderOrPublisher, chosen: FilterDep,
    format: Annotated[ListFormat, Query(
        description="`json`: one page; `csv`: every match, one row each (the `fields`); "
        "`xml`: every match as an IATI 2.03 activity file")] = ListFormat.json,
    sort: Annotated[Sort, Query()] = Sort.stored,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="The previous page's next_cursor")] = None,
    fields: Annotated[str | None, Query(
        description=f"Comma-separated, among: {', '.join(FIELDS)}")] = None,
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
                            "activities.csv")
    page = query.list_activities(
        session, chosen, sort=sort, limit=limit, cursor=cursor, fields=_fields(fields),
    )
    return tagged(request, response, page)


def _fields(asked: str | None) -> tuple[str, ...]:
    if asked is None:
        return FIELDS
    names = tuple(name.strip() for name in asked.split(",") if name.strip())
    unknown = [name for name in names if name not in FIELDS]
    if unknown or not names:
        raise UnknownFieldError(
            f"Unknown field(s) {', '.join(unknown) or '(none given)'}; the fields are "
            f"{', '.join(FIELDS)}.", fields=unknown,
        )
    return names


@router.put(
    "/{iati_identifier:path}",
    operation_id="put_activity",
    openapi_extra=IATI_FILE_BODY,
    responses=problem_responses(401, 403, 413, 422),
)
async def put_activity(
    iati_identifier: str, request: Request, principal: PublishPrincipal, engine: EngineDep,
    limits: LimitsDep,
) -> PushPublic:
    """Create or replace one activity from an IATI file holding exactly that activity."""
    options = PushOptions(only=checked_identifier(iati_identifier))
    received = await receive_body(request, limits)
    try:
        return await run_in_threadpool(
            push_file, engine, publisher=publisher_of(principal), received=received,
            options=options, max_bytes=limits.max_bytes,
        )
    finally:
        received.discard()


@router.delete(
    "/{iati_identifier:path}",
    operation_id="delete_activity",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def delete_activity(
    iati_identifier: str, principal: PublishPrincipal, engine: EngineDep
) -> Response:
    """Delete one of your activities: it keeps a tombstone and its versions."""
    await run_in_threadpool(
        activities.delete_activity, engine, identifier=iati_identifier,
        publisher=publisher_of(principal),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{iati_identifier:path}/versions/{version}",
    operation_id="get_activity_version",
    response_class=Response,
    responses={
        200: {"content": {XML: {}}, "description": "The version's XML exactly as received"},
        **problem_responses(401, 403, 404),
    },
)
def get_activity_version(
    iati_identifier: str, version: VersionPath, session: SessionDep,
    principal: ReaderOrPublisher,
) -> Response:
    """A past version of an activity, as the IATI XML that was pushed (a publish-only key
    reads its own organisation's only)."""
    own = None if principal.allows(KeyScope.read) else principal.organisation_id
    xml = activities.version_xml(session, iati_identifier, version, organisation_id=own)
    return Response(xml.encode("utf-8"), media_type=XML)


@router.get(
    "/{iati_identifier:path}/budget-view",
    operation_id="get_activity_budget_view",
    responses=problem_responses(401, 403, 404, 410),
)
def get_activity_budget_view(
    iati_identifier: str, session: SessionDep, _: ReaderOrPublisher,
    mapping_version: Annotated[
        str | None, Query(description="An earlier mapping version still kept (default: latest)")
    ] = None,
) -> BudgetViewPublic:
    """The activity's money in Ecuador's budget and planning classifications: per year,
    measure and classification, in US dollars, every figure with its rule, rate and the
    versions of the tables it came from; unmapped figures say why."""
    return read_view(session, iati_identifier, mapping_version)


@router.get(
    "/{iati_identifier:path}/links",
    operation_id="get_activity_links",
    responses=problem_responses(401, 403, 404, 410),
)
def get_activity_links(
    iati_identifier: str, session: SessionDep, _: ReaderOrPublisher
) -> ActivityLinks:
    """The activity's links along the delivery chain and to its kin: the activities it
    names (transactions' receiver and provider activities, related activities, other
    identifiers), those that name it, and the money both sides report, paired by stage."""
    return activity_links(session, iati_identifier)


@router.get(
    "/{iati_identifier:path}/versions",
    operation_id="list_activity_versions",
    responses=problem_responses(401, 403, 404),
)
def list_activity_versions(
    iati_identifier: str, session: SessionDep, _: ReaderOrPublisher
) -> list[VersionPublic]:
    """Every version of an activity, oldest first, with what each changed."""
    return activities.list_versions(session, iati_identifier)


@router.get(
    "/{iati_identifier:path}",
    operation_id="get_activity",
    response_model=IatiActivity,
    responses={
        200: {"content": {XML: {}}, "description": "The activity (JSON, or IATI 2.03 XML)"},
        **problem_responses(401, 403, 404, 410),
    },
)
def get_activity(
    iati_identifier: str, request: Request, session: SessionDep, _: ReaderOrPublisher,
    format: Annotated[
        Literal["json", "xml"] | None, Query(description="Overrides the Accept header")
    ] = None,
    country_budget_items: Annotated[Literal["ecuador"] | None, Query(
        description="XML only: country-budget-items (vocabulary 2) with the Ecuadorian "
        "income ítems of the activity's budget view and their percentages"
    )] = None,
) -> Response:
    """An activity as stored now: the model as JSON, or IATI 2.03 XML."""
    stored = activities.stored_activity(session, iati_identifier)
    as_xml = _wants_xml(format, request.headers.get("accept", ""))
    variant = ("-xml" if as_xml else "") + ("-ec" if as_xml and country_budget_items else "")
    tag = f'"{stored.content_hash}{variant}"'
    headers = {
        "ETag": weak(tag), "X-Activity-Version": str(stored.version),
        "Last-Modified": format_datetime(stored.updated_at.astimezone(UTC), usegmt=True),
        "Vary": "Accept",
    }
    if not_modified(request, etag=tag, modified=stored.updated_at):
        return Response(status_code=304, headers=headers)
    if as_xml:
        items = None
        if country_budget_items == "ecuador":
            items = income_budget_items(income_totals(session, stored.activity_id))
        xml = activities.activity_xml(stored, country_budget_items=items)
        return Response(xml, media_type=XML, headers=headers)
    return Response(
        stored.model.model_dump_json(), media_type="application/json", headers=headers
    )


def _wants_xml(format: str | None, accept: str) -> bool:
    if format is not None:
        return format == "xml"
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(kind in (XML, "text/xml") for kind in kinds) and "application/json" not in kinds


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
    limits: PushLimits,
) -> Any:
    publisher = publisher_of(principal)
    if received.size <= limits.background_bytes:
        try:
            return await run_in_threadpool(
                push_file, engine, publisher=publisher, received=received, options=options,
                max_bytes=limits.max_bytes,
            )
        finally:
            received.discard()
    push_id = await run_in_threadpool(
        start_push, engine, publisher=publisher, received=received, options=options
    )
    push_in_background(
        engine, push_id, publisher=publisher, received=received, options=options,
        max_bytes=limits.max_bytes,
    )
    document = await run_in_threadpool(_document, engine, push_id)
    return JSONResponse(
        document.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/pushes/{push_id}"},
    )


def _document(engine: Engine, push_id: str) -> PushPublic:
    with session_scope(engine) as session:
        return push_document(session, push_id)


def publisher_of(principal: Principal) -> Publisher:
    """The publisher a key speaks for."""
    return Publisher(
        organisation_id=principal.organisation_id, refs=principal.refs,
        api_key_id=principal.api_key_id,
    )
