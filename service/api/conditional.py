"""Conditional requests (RFC 9110): answer 304 Not Modified when the client's copy is current."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from fastapi import Request


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
