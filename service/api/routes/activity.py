"""One activity over HTTP at `/api/v1/activity?iati_identifier=…`, where no identifier can
pass for a part of another: read, replace or delete it, read its versions, links and budget
view. The operations are shared with the older paths (`activity_paths`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from iati.elements.activity import Activity as IatiActivity
from mappings.budget_items import income_budget_items
from service.addresses import IDENTIFIER_PARAMETER
from service.api.conditional import not_modified, weak
from service.api.deps import (
    EngineDep,
    PublishPrincipal,
    ReaderOrPublisher,
    SessionDep,
    VersionPath,
)
from service.api.routes.activities import (
    IATI_FILE_BODY,
    XML,
    LimitsDep,
    PushLimits,
    publisher_of,
    receive_body,
)
from service.api.routes.pushes import problem_responses
from service.models import KeyScope
from service.services import activities
from service.services.activities import VersionPublic
from service.services.activity_links import ActivityLinks, activity_links
from service.services.budget.views import BudgetViewPublic, income_totals, read_view
from service.services.keys import Principal
from service.services.push import PushOptions, PushPublic, checked_identifier, push_file

router = APIRouter(prefix="/api/v1/activity", tags=["activities"])

IdentifierQuery = Annotated[str, Query(
    min_length=1, alias=IDENTIFIER_PARAMETER,
    description="The activity's iati-identifier, percent-encoded as every query value",
)]
Format = Literal["json", "xml"] | None
BudgetItems = Literal["ecuador"] | None
_FORMAT = "Overrides the Accept header"
_ITEMS = ("XML only: country-budget-items (vocabulary 2) with the Ecuadorian income ítems "
          "of the activity's budget view and their percentages")
MappingVersionQuery = Annotated[
    str | None, Query(description="An earlier mapping version still kept (default: latest)")
]

ACTIVITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {XML: {}}, "description": "The activity (JSON, or IATI 2.03 XML)"},
    **problem_responses(401, 403, 404, 410),
}
VERSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {XML: {}}, "description": "The version's XML exactly as received"},
    **problem_responses(401, 403, 404),
}


@dataclass(frozen=True, slots=True)
class Representation:
    """How the activity is asked for: `format` (over the Accept header), and in XML
    Ecuador's income ítems as country-budget-items."""

    format: Format
    country_budget_items: BudgetItems


def representation(
    format: Annotated[Format, Query(description=_FORMAT)] = None,
    country_budget_items: Annotated[BudgetItems, Query(description=_ITEMS)] = None,
) -> Representation:
    return Representation(format, country_budget_items)


RepresentationDep = Annotated[Representation, Depends(representation)]


# The operations, shared with the older paths.

def activity_answer(
    identifier: str, request: Request, session: Session, asked: Representation
) -> Response:
    """The activity as stored now, as asked, with its entity tag and date: 304 when the
    client's copy is current."""
    stored = activities.stored_activity(session, identifier)
    as_xml = _wants_xml(asked.format, request.headers.get("accept", ""))
    items_asked = as_xml and asked.country_budget_items is not None
    tag = f'"{stored.content_hash}{"-xml" if as_xml else ""}{"-ec" if items_asked else ""}"'
    headers = {
        "ETag": weak(tag), "X-Activity-Version": str(stored.version),
        "Last-Modified": format_datetime(stored.updated_at.astimezone(UTC), usegmt=True),
        "Vary": "Accept",
    }
    if not_modified(request, etag=tag, modified=stored.updated_at):
        return Response(status_code=304, headers=headers)
    if as_xml:
        items = None
        if items_asked:
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


async def replace_activity(
    identifier: str, request: Request, principal: Principal, engine: Engine,
    limits: PushLimits,
) -> PushPublic:
    """Create or replace activity `identifier` from the request's file, which must hold
    exactly that activity."""
    options = PushOptions(only=checked_identifier(identifier))
    received = await receive_body(request, limits)
    try:
        return await run_in_threadpool(
            push_file, engine, publisher=publisher_of(principal), received=received,
            options=options, max_bytes=limits.max_bytes,
        )
    finally:
        received.discard()


async def remove_activity(identifier: str, principal: Principal, engine: Engine) -> Response:
    """Delete the key's organisation's activity `identifier`: a tombstone stays."""
    await run_in_threadpool(
        activities.delete_activity, engine, identifier=identifier,
        publisher=publisher_of(principal),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def version_answer(
    identifier: str, version: int, session: Session, principal: Principal
) -> Response:
    """Version `version` of the activity as the XML received (of its own organisation's
    activities only, for a publish-only key)."""
    own = None if principal.allows(KeyScope.read) else principal.organisation_id
    xml = activities.version_xml(session, identifier, version, organisation_id=own)
    return Response(xml.encode("utf-8"), media_type=XML)


@router.get(
    "", operation_id="get_activity_by_identifier", response_model=IatiActivity,
    responses=ACTIVITY_RESPONSES,
)
def get_activity_by_identifier(
    iati_identifier: IdentifierQuery, request: Request, session: SessionDep,
    _: ReaderOrPublisher, asked: RepresentationDep,
) -> Response:
    """An activity as stored now: the model as JSON, or IATI 2.03 XML."""
    return activity_answer(iati_identifier, request, session, asked)


@router.put(
    "", operation_id="put_activity_by_identifier", openapi_extra=IATI_FILE_BODY,
    responses=problem_responses(401, 403, 413, 422),
)
async def put_activity_by_identifier(
    iati_identifier: IdentifierQuery, request: Request, principal: PublishPrincipal,
    engine: EngineDep, limits: LimitsDep,
) -> PushPublic:
    """Create or replace one activity from an IATI file holding exactly that activity."""
    return await replace_activity(iati_identifier, request, principal, engine, limits)


@router.delete(
    "", operation_id="delete_activity_by_identifier",
    status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 403, 404),
)
async def delete_activity_by_identifier(
    iati_identifier: IdentifierQuery, principal: PublishPrincipal, engine: EngineDep
) -> Response:
    """Delete one of your activities: it keeps a tombstone and its versions."""
    return await remove_activity(iati_identifier, principal, engine)


@router.get(
    "/versions", operation_id="list_activity_versions_by_identifier",
    responses=problem_responses(401, 403, 404),
)
def list_activity_versions_by_identifier(
    iati_identifier: IdentifierQuery, session: SessionDep, _: ReaderOrPublisher
) -> list[VersionPublic]:
    """Every version of an activity, oldest first, with what each changed."""
    return activities.list_versions(session, iati_identifier)


@router.get(
    "/versions/{version}", operation_id="get_activity_version_by_identifier",
    response_class=Response, responses=VERSION_RESPONSES,
)
def get_activity_version_by_identifier(
    iati_identifier: IdentifierQuery, version: VersionPath, session: SessionDep,
    principal: ReaderOrPublisher,
) -> Response:
    """A past version of an activity, as the IATI XML that was pushed (a publish-only key
    reads its own organisation's only)."""
    return version_answer(iati_identifier, version, session, principal)


@router.get(
    "/links", operation_id="get_activity_links_by_identifier",
    responses=problem_responses(401, 403, 404, 410),
)
def get_activity_links_by_identifier(
    iati_identifier: IdentifierQuery, session: SessionDep, _: ReaderOrPublisher
) -> ActivityLinks:
    """The activity's links along the delivery chain and to its kin: the activities it
    names (transactions' receiver and provider activities, related activities, other
    identifiers), those that name it, and the money both sides report, paired by stage."""
    return activity_links(session, iati_identifier)


@router.get(
    "/budget-view", operation_id="get_activity_budget_view_by_identifier",
    responses=problem_responses(401, 403, 404, 410),
)
def get_activity_budget_view_by_identifier(
    iati_identifier: IdentifierQuery, session: SessionDep, _: ReaderOrPublisher,
    mapping_version: MappingVersionQuery = None,
) -> BudgetViewPublic:
    """The activity's money in Ecuador's budget and planning classifications: per year,
    measure and classification, in US dollars, every figure with its rule, rate and the
    versions of the tables it came from; unmapped figures say why."""
    return read_view(session, iati_identifier, mapping_version)
