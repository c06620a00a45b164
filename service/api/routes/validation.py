"""Validate an IATI file without storing it: the three stages, as the CLI runs them, and
with a publisher's key, what a push of it would do now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from iati.validate import validate
from service.api.deps import EngineDep, MaybePublisher
from service.api.routes.activities import (
    IATI_FILE_BODY,
    LimitsDep,
    ModeQuery,
    ScopeQuery,
    publisher_of,
    receive_body,
)
from service.api.routes.pushes import problem_responses
from service.config import get_settings
from service.models import PushMode, PushScope
from service.services.push import PushOptions, rehearsal_answer

router = APIRouter(prefix="/api/v1", tags=["validation"])
# The body may be empty: validating nothing answers a report whose fatal finding says so
# (`input.empty`), as for any other file that cannot be read.
FILE_TO_VALIDATE = {
    **IATI_FILE_BODY, "requestBody": {**IATI_FILE_BODY["requestBody"], "required": False},
}


@router.post(
    "/validate", operation_id="validate_file", openapi_extra=FILE_TO_VALIDATE,
    responses=problem_responses(401, 403, 413),
)
async def validate_file(
    request: Request, principal: MaybePublisher, engine: EngineDep, limits: LimitsDep,
    official: Annotated[
        bool, Query(description="Report in the official validator's shape")
    ] = False,
    mode: ModeQuery = PushMode.default, scope: ScopeQuery = PushScope.activities,
) -> dict[str, Any]:
    """Validate the IATI file in the body (raw or multipart `file`; spooled to disk, never
    held whole). Without a key the file may be up to `IATI_EC_ANONYMOUS_VALIDATE_BYTES`
    (50 MB by default); with one, as large as a push.

    With a publish key, the answer also says under `push` what pushing the file now would
    do to each activity (`created`, `updated`, `unchanged`, `stale`, `rejected` with the
    findings why; with `scope=dataset`, `deleted`), decided by the push's own checks:
    nothing is stored. `mode` and `scope` are the push's.
    """
    if principal is None:  # anyone may validate, within a smaller limit
        anonymous = get_settings().anonymous_validate_bytes
        limits = replace(limits, max_bytes=min(limits.max_bytes, anonymous))
    received = await receive_body(request, limits)
    today = datetime.now(UTC).date()
    try:
        # Validation is CPU-bound: run it off the event loop.
        report = await run_in_threadpool(
            validate, received.path, today=today, name="request body",
            max_bytes=limits.max_bytes,
        )
        answer = report.as_official() if official else report.as_dict()
        if principal is not None and report.readable:
            answer["push"] = await run_in_threadpool(
                rehearsal_answer, engine, publisher=publisher_of(principal), received=received,
                options=PushOptions(mode, scope), max_bytes=limits.max_bytes,
            )
    finally:
        received.discard()
    return answer

