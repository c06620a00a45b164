"""Push records over HTTP: a donor's system polls its pushes here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.api.deps import ReaderOrPublisher, SessionDep
from service.errors import PROBLEM
from service.models import KeyScope
from service.services.push import PushPublic, visible_push

router = APIRouter(prefix="/api/v1/pushes", tags=["pushes"])

_PROBLEMS = {
    300: "The path names two stored resources (`activity.ambiguous-path`): `choices` gives "
         "the address of each",
    400: "The request cannot be answered as asked (the problem's code says why)",
    401: "No valid API key (`auth.invalid-key`)",
    403: "The key lacks the scope (`auth.insufficient-scope`) or the resource is another "
         "organisation's",
    404: "Not found",
    409: "Conflicts with what is stored (the problem's code says why)",
    410: "Deleted (the problem carries the tombstone)",
    413: "The file is over the size limit (`input.too-large`)",
    422: "The request or the file does not fit the operation (the problem's code says why)",
    429: "Too many such requests at once (`validate.busy`): send it again after `Retry-After` "
         "seconds",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses `statuses`."""
    return {
        code: {"description": _PROBLEMS[code], "content": {PROBLEM: {}}} for code in statuses
    }




@router.get("/{push_id}", operation_id="get_push", responses=problem_responses(401, 403, 404))
def get_push(push_id: str, session: SessionDep, principal: ReaderOrPublisher) -> PushPublic:
    """A push of yours (any push, for an admin key): progress while it runs, then outcomes."""
    return visible_push(
        session, push_id, organisation_id=principal.organisation_id,
        admin=principal.allows(KeyScope.admin),
    )
