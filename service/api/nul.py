"""Requests that carry U+0000 are refused (422 `request.nul-character`): no IATI value can
hold it (XML 1.0 has no such character), PostgreSQL cannot store or compare text with it,
and SQLite would keep it only for the XML writer to fail on later. The URL (path and
query) is checked before any route runs; a JSON body once the caller's key has been
checked, as the rest of the body (`service.api.routing`); an IATI file's NUL is the XML
reader's to refuse.
"""

from __future__ import annotations

from typing import Any, ClassVar

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import DomainError, problem


class RefuseNul:
    """ASGI middleware: 422 for U+0000 in a request's URL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _refused("the URL")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class NulCharacterError(DomainError):
    """U+0000 in a JSON body."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "request.nul-character"
    title: ClassVar[str] = "Invalid request"

    def __init__(self) -> None:
        super().__init__(_SAID.format(where="the body"))


def holds_nul(value: Any) -> bool:
    """Whether a JSON value holds U+0000 in any string, keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


_SAID = ("The character U+0000 (NUL) is in {where}; no IATI value holds it. Send the "
         "request without it.")


def _refused(where: str) -> JSONResponse:
    return problem(422, NulCharacterError.code, NulCharacterError.title,
                   _SAID.format(where=where))
