"""The older addresses of one activity, `/api/v1/activities/{identifier}[/…]`, kept for
the clients that use them: they answer wherever the path names one resource."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError
from sqlmodel import Session

from iati.elements.activity import Activity as IatiActivity
from service.addresses import IDENTIFIER_PARAMETER, activity_url
from service.api.deps import EngineDep, PublishPrincipal, ReaderOrPublisher, SessionDep
from service.api.routes.activities import IATI_FILE_BODY, LimitsDep
from service.api.routes.activity import (
    ACTIVITY_RESPONSES,
    VERSION_RESPONSES,
    BudgetItems,
    Format,
    MappingVersionQuery,
    Representation,
    RepresentationDep,
    activity_answer,
    remove_activity,
    replace_activity,
    version_answer,
)
from service.api.routes.pushes import problem_responses
from service.models.base import LARGEST_ID
from service.services import activities
from service.services.activities import VersionPublic
from service.services.activity_links import ActivityLinks, activity_links
from service.services.activity_paths import Named, named_by_path
from service.services.budget.views import BudgetViewPublic, read_view
from service.services.push import PushPublic

router = APIRouter(prefix="/api/v1/activities", tags=["activities"])
# The parts' paths were deprecated on 2026-12-07 (RFC 9745's structured date).
DEPRECATED_SINCE = "@1796601600"
VERSION_NUMBER = TypeAdapter(Annotated[int, Field(ge=1, le=LARGEST_ID)])


def unlisted_representation(
    format: Annotated[Format, Query(include_in_schema=False)] = None,
    country_budget_items: Annotated[BudgetItems, Query(include_in_schema=False)] = None,
) -> Representation:
    """The same parameters, left out of a part's documentation: an older path that turns
    out to name a whole activity still honours them."""
    return Representation(format, country_budget_items)


UnlistedRepresentation = Annotated[Representation, Depends(unlisted_representation)]


# The older paths. PUT and DELETE take no part, so their path is always the whole
# identifier; a GET of a part answers the activity whose identifier ends so when that one
# is stored and the shorter one is not, and 300 with both addresses when both are.

@router.put(
    "/{iati_identifier:path}", operation_id="put_activity", openapi_extra=IATI_FILE_BODY,
    responses=problem_responses(401, 403, 413, 422),
)
async def put_activity(
    iati_identifier: str, request: Request, principal: PublishPrincipal, engine: EngineDep,
    limits: LimitsDep,
) -> PushPublic:
    """Create or replace one activity from an IATI file holding exactly that activity: the
    whole path after `activities/` is its identifier, and the file's must be the same."""
    return await replace_activity(iati_identifier, request, principal, engine, limits)


@router.delete(
    "/{iati_identifier:path}", operation_id="delete_activity",
    status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 403, 404),
)
async def delete_activity(
    iati_identifier: str, principal: PublishPrincipal, engine: EngineDep
) -> Response:
    """Delete one of your activities: it keeps a tombstone and its versions."""
    return await remove_activity(iati_identifier, principal, engine)


@router.get(
    "/{iati_identifier:path}/versions/{version}", operation_id="get_activity_version",
    response_class=Response, deprecated=True,
    responses={**VERSION_RESPONSES, **problem_responses(300)},
)
def get_activity_version(
    iati_identifier: str,
    version: Annotated[str, Path(
        description="A version number (1, 2, …); any other text is read as the end of an "
        "activity's identifier, and answered 422 when no such activity is stored",
        json_schema_extra={"pattern": r"^[1-9][0-9]{0,9}$"})],
    request: Request, session: SessionDep, principal: ReaderOrPublisher,
    asked: UnlistedRepresentation,
) -> Response:
    """Deprecated: ask `GET /api/v1/activity/versions/{version}?iati_identifier=…`. The
    version's XML as there; or the activity whose identifier ends in `/versions/{version}`
    when only that one is stored (300 when both are)."""
    part = f"versions/{version}"
    if _names_activity(session, iati_identifier, part):
        return _whole_activity(iati_identifier, part, request, session, asked)
    answer = version_answer(iati_identifier, _version_number(version), session, principal)
    return _deprecated(answer, activity_url(iati_identifier, part, query=_others(request)))


@router.get(
    "/{iati_identifier:path}/budget-view", operation_id="get_activity_budget_view",
    response_model=BudgetViewPublic, deprecated=True,
    responses=problem_responses(300, 401, 403, 404, 410),
)
def get_activity_budget_view(
    iati_identifier: str, request: Request, response: Response, session: SessionDep,
    _: ReaderOrPublisher, asked: UnlistedRepresentation,
    mapping_version: MappingVersionQuery = None,
) -> BudgetViewPublic | Response:
    """Deprecated: ask `GET /api/v1/activity/budget-view?iati_identifier=…`. The budget
    view as there; or the activity whose identifier ends in `/budget-view` when only that
    one is stored (300 when both are)."""
    if _names_activity(session, iati_identifier, "budget-view"):
        return _whole_activity(iati_identifier, "budget-view", request, session, asked)
    _deprecated(response, activity_url(iati_identifier, "budget-view", query=_others(request)))
    return read_view(session, iati_identifier, mapping_version)


@router.get(
    "/{iati_identifier:path}/links", operation_id="get_activity_links",
    response_model=ActivityLinks, deprecated=True,
    responses=problem_responses(300, 401, 403, 404, 410),
)
def get_activity_links(
    iati_identifier: str, request: Request, response: Response, session: SessionDep,
    _: ReaderOrPublisher, asked: UnlistedRepresentation,
) -> ActivityLinks | Response:
    """Deprecated: ask `GET /api/v1/activity/links?iati_identifier=…`. The links as
    there; or the activity whose identifier ends in `/links` when only that one is stored
    (300 when both are)."""
    if _names_activity(session, iati_identifier, "links"):
        return _whole_activity(iati_identifier, "links", request, session, asked)
    _deprecated(response, activity_url(iati_identifier, "links", query=_others(request)))
    return activity_links(session, iati_identifier)


@router.get(
    "/{iati_identifier:path}/versions", operation_id="list_activity_versions",
    response_model=list[VersionPublic], deprecated=True,
    responses=problem_responses(300, 401, 403, 404),
)
def list_activity_versions(
    iati_identifier: str, request: Request, response: Response, session: SessionDep,
    _: ReaderOrPublisher, asked: UnlistedRepresentation,
) -> list[VersionPublic] | Response:
    """Deprecated: ask `GET /api/v1/activity/versions?iati_identifier=…`. The versions as
    there; or the activity whose identifier ends in `/versions` when only that one is
    stored (300 when both are)."""
    if _names_activity(session, iati_identifier, "versions"):
        return _whole_activity(iati_identifier, "versions", request, session, asked)
    _deprecated(response, activity_url(iati_identifier, "versions", query=_others(request)))
    return activities.list_versions(session, iati_identifier)


@router.get(
    "/{iati_identifier:path}", operation_id="get_activity", response_model=IatiActivity,
    responses=ACTIVITY_RESPONSES,
)
def get_activity(
    iati_identifier: str, request: Request, session: SessionDep, _: ReaderOrPublisher,
    asked: RepresentationDep,
) -> Response:
    """An activity as stored now: the model as JSON, or IATI 2.03 XML."""
    return activity_answer(iati_identifier, request, session, asked)


def _version_number(version: str) -> int:
    """`version` as a version number, refused (422) as the path parameter it was before an
    identifier could end in `/versions/{version}`."""
    try:
        return VERSION_NUMBER.validate_python(version)
    except ValidationError as error:
        raise RequestValidationError(
            [{**found, "loc": ("path", "version")} for found in error.errors()]
        ) from None


def _names_activity(session: Session, identifier: str, part: str) -> bool:
    return named_by_path(session, identifier=identifier, part=part) is Named.activity


def _whole_activity(
    identifier: str, part: str, request: Request, session: Session, asked: Representation
) -> Response:
    """The activity whose identifier is the whole path, `{identifier}/{part}`."""
    whole = f"{identifier}/{part}"
    kept = [("format", asked.format), ("country_budget_items", asked.country_budget_items)]
    query = [(name, value) for name, value in kept if value is not None]
    answer = activity_answer(whole, request, session, asked)
    return _deprecated(answer, activity_url(whole, query=query))


def _others(request: Request) -> list[tuple[str, str]]:
    """The request's query parameters, for the same request at the canonical address."""
    return [(name, value) for name, value in request.query_params.multi_items()
            if name != IDENTIFIER_PARAMETER]


def _deprecated(answer: Response, canonical_url: str) -> Response:
    """`answer`, saying that its address is deprecated and which one to ask instead."""
    answer.headers["Link"] = f'<{canonical_url}>; rel="canonical"'
    answer.headers["Deprecation"] = DEPRECATED_SINCE
    return answer
