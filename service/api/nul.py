"""Requests that carry U+0000 are refused (422 `request.nul-character`) before any route
runs: no IATI value can hold it (XML 1.0 has no such character), PostgreSQL cannot store
or compare text with it, and SQLite would keep it only for the XML writer to fail on
later. The URL (path and query) is checked, and JSON bodies; an IATI file's NUL is the XML
reader's to refuse.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import problem


class RefuseNul:
    """ASGI middleware: 422 for U+0000 in a request's URL or JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _refused("the URL")(scope, receive, send)
            return
        if not _is_json(Headers(scope=scope).get("content-type", "")):
            await self.app(scope, receive, send)
            return
        messages = await _whole_body(receive)
        body = b"".join(message.get("body", b"") for message in messages)
        if _holds_nul(body):
            await _refused("the body")(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def _whole_body(receive: Receive) -> list[Message]:
    # JSON bodies are small and read whole by the route anyway.
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _holds_nul(body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        return _text_holds_nul(json.loads(body))
    except ValueError:  # not JSON: the route refuses it as such
        return False


def _text_holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_text_holds_nul(k) or _text_holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_text_holds_nul(item) for item in value)
    return False


def _refused(where: str) -> JSONResponse:
    return problem(422, "request.nul-character", "Invalid request",
                   f"The character U+0000 (NUL) is in {where}; no IATI value holds it. "
                   "Send the request without it.")
