"""Validate an IATI file without storing it: the three stages, as the CLI runs them."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from iati.validate import validate
from service.config import get_settings
from service.errors import DomainError

router = APIRouter(prefix="/api/v1", tags=["validation"])
_CHUNK = 1 << 20


@router.post("/validate", operation_id="validate_file")
async def validate_file(
    request: Request,
    official: Annotated[
        bool, Query(description="Report in the official validator's shape")
    ] = False,
) -> dict[str, Any]:
    """Validate the IATI XML file in the request body (streamed to disk, never held whole)."""
    settings = get_settings()
    spool_dir = None if settings.spool_directory is None else str(settings.spool_directory)
    with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK, dir=spool_dir) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_upload_bytes:
                raise UploadTooLargeError(
                    f"The body is larger than {settings.max_upload_bytes:,} bytes; "
                    "split the file or ask the operator to raise IATI_EC_MAX_UPLOAD_BYTES.",
                    limit=settings.max_upload_bytes,
                )
            spool.write(chunk)
        spool.seek(0)
        # Validation is CPU-bound: run it off the event loop.
        report = await run_in_threadpool(
            validate, spool, today=datetime.now(UTC).date(), name="request body",
            max_bytes=settings.max_upload_bytes,
        )
    return report.as_official() if official else report.as_dict()


class UploadTooLargeError(DomainError):
    """The request body is over the configured limit."""

    status = 413
    code = "input.too-large"
    title = "The upload is too large"
