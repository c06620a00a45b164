"""The change feed over HTTP: follow it with each page's `next` cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.api.conditional import tagged
from service.api.deps import ReaderOrPublisher, SessionDep
from service.api.routes.pushes import problem_responses
from service.models.base import LARGEST_BIGINT
from service.services.changes import ChangesPage, changes_since

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])


@router.get(
    "",
    operation_id="list_changes",
    response_model=ChangesPage,
    responses={304: {"description": "No change since the page named by If-None-Match"},
               **problem_responses(400, 401, 403)},
)
def list_changes(
    request: Request, response: Response, session: SessionDep, _: ReaderOrPublisher,
    since: Annotated[int, Query(
        ge=0, le=LARGEST_BIGINT,
        description="The `next` cursor of the previous page (0: from the beginning); "
        "a cursor beyond the last change is refused (400 `changes.cursor-ahead`)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    reporting_org: Annotated[str | None, Query(description="reporting-org/@ref")] = None,
) -> ChangesPage | Response:
    """Created, updated, restored, deleted and transferred activities, and the ministry's
    cooperation agreements created, updated and deleted (`agreement.*` kinds, with
    `agreement_id` and no `iati_identifier`; left out when `reporting_org` is given), after
    `since`, in the order they were committed: a client that follows `next` misses no
    change and sees none twice."""
    page = changes_since(session, since, limit=limit, reporting_org=reporting_org)
    tag = f'"changes-{reporting_org or "all"}-{since}-{page.next}-{limit}"'
    return tagged(request, response, page, tag=tag)

