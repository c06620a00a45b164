"""Validate an IATI file without storing it: the three stages, as the CLI runs them, and
with a publisher's key, what a push of it would do now."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from iati.validate import validate
from service.api.deps import EngineDep, MaybeCaller, Principal
from service.api.routes.activities import (
    IATI_FILE_BODY,
    LimitsDep,
    ModeQuery,
    PushLimits,
    ScopeQuery,
    publisher_of,
    receive_body,
)
from service.api.routes.pushes import problem_responses
from service.config import get_settings
from service.errors import BUSY_RETRY_AFTER_S, DomainError
from service.models import KeyScope, PushMode, PushScope
from service.services.push import PushOptions, rehearsal_answer

router = APIRouter(prefix="/api/v1", tags=["validation"])
# The body may be empty: validating nothing answers a report whose fatal finding says so
# (`input.empty`), as for any other file that cannot be read.
FILE_TO_VALIDATE = {
    **IATI_FILE_BODY, "requestBody": {**IATI_FILE_BODY["requestBody"], "required": False},
}


class ValidationBusyError(DomainError):
    """As many anonymous validations as the service runs at once are running."""

    status: ClassVar[int] = 429
    code: ClassVar[str] = "validate.busy"
    title: ClassVar[str] = "Too many validations without a key"

    def __init__(self, running: int) -> None:
        super().__init__(
            f"{running} validations without a key are running, as many as the service runs "
            f"at once. Send the file again after `Retry-After` seconds, or with an API key.",
            headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
        )


@cache
def _anonymous_slots(limit: int) -> threading.BoundedSemaphore:
    """The process's slots for anonymous validations (one set per configured limit)."""
    return threading.BoundedSemaphore(limit)


@contextmanager
def _anonymous_slot() -> Iterator[None]:
    """A slot for one anonymous validation, or `ValidationBusyError` at once."""
    limit = get_settings().anonymous_validate_concurrency
    slots = _anonymous_slots(limit)
    if not slots.acquire(blocking=False):
        raise ValidationBusyError(limit)
    try:
        yield
    finally:
        slots.release()


@router.post(
    "/validate", operation_id="validate_file", openapi_extra=FILE_TO_VALIDATE,
    responses=problem_responses(401, 413, 429),
)
async def validate_file(
    request: Request, principal: MaybeCaller, engine: EngineDep, limits: LimitsDep,
    official: Annotated[
        bool, Query(description="Report in the official validator's shape")
    ] = False,
    mode: ModeQuery = PushMode.default, scope: ScopeQuery = PushScope.activities,
) -> dict[str, Any]:
    """Validate the IATI file in the body (raw or multipart `file`; spooled to disk, never
    held whole). Without a key the file may be up to `IATI_EC_ANONYMOUS_VALIDATE_BYTES`
    (50 MB by default), and each process validates `IATI_EC_ANONYMOUS_VALIDATE_CONCURRENCY`
    (2) such files at once (one more is answered 429); with a key of any scope, as large
    as a push, without that limit.

    With a publish key, the answer also says under `push` what pushing the file now would
    do to each activity (`created`, `updated`, `unchanged`, `stale`, `rejected` with the
    findings why; with `scope=dataset`, `deleted`), decided by the push's own checks:
    nothing is stored. `mode` and `scope` are the push's.
    """
    if principal is None:  # anyone may validate, within a smaller limit, a few at a time
        anonymous = get_settings().anonymous_validate_bytes
        limits = replace(limits, max_bytes=min(limits.max_bytes, anonymous))
        with _anonymous_slot():
            return await _validate(request, None, engine, limits, official, mode, scope)
    return await _validate(request, principal, engine, limits, official, mode, scope)


async def _validate(
    request: Request, principal: Principal | None, engine: Engine, limits: PushLimits,
    official: bool, mode: PushMode, scope: PushScope,
) -> dict[str, Any]:
    received = await receive_body(request, limits)
    today = datetime.now(UTC).date()
    try:
        # Validation is CPU-bound: run it off the event loop.
        report = await run_in_threadpool(
            validate, received.path, today=today, name="request body",
            max_bytes=limits.max_bytes,
        )
        answer = report.as_official() if official else report.as_dict()
        if principal is not None and principal.allows(KeyScope.publish) and report.readable:
            answer["push"] = await run_in_threadpool(
                rehearsal_answer, engine, publisher=publisher_of(principal), received=received,
                options=PushOptions(mode, scope), max_bytes=limits.max_bytes,
            )
    finally:
        received.discard()
    return answer

