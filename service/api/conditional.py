"""Conditional requests (RFC 9110): answer 304 Not Modified when the client's copy is current."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

Payload = TypeVar("Payload", bound=BaseModel)


def weak(tag: str) -> str:
    """`tag` as a weak entity tag. Every answer may be gzipped (when the client accepts
    it), which changes its bytes but not its content, so no tag here is strong."""
    return f"W/{tag}"


def not_modified(request: Request, *, etag: str, modified: datetime) -> bool:
    """Whether the client's copy is current: If-None-Match names `etag`, or (without
    If-None-Match) If-Modified-Since is not before `modified` (to the second)."""
    asked = request.headers.get("if-none-match")
    if asked is not None:
        tags = {part.strip().removeprefix("W/") for part in asked.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date: answer in full
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= moment


def tagged(
    request: Request, response: Response, payload: Payload, *, tag: str | None = None,
) -> Payload | Response:
    """`payload` with a weak entity tag (`tag`, else a digest of its JSON), or an empty 304
    if the client's If-None-Match names it already."""
    if tag is None:
        tag = f'"{hashlib.sha256(payload.model_dump_json().encode()).hexdigest()[:40]}"'
    if request.headers.get("if-none-match") and not_modified(
        request, etag=tag, modified=datetime.now(UTC)
    ):
        return Response(status_code=304, headers={"ETag": weak(tag)})
    response.headers["ETag"] = weak(tag)
    return payload
