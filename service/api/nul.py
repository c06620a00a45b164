"""Requests that carry U+0000 are refused (422 `request.nul-character`): no IATI value can
hold it (XML 1.0 has no such character), PostgreSQL cannot store or compare text with it,
and SQLite would keep it only for the XML writer to fail on later. The URL (path and
query) is checked before any route runs; a JSON body once the caller's key has been
checked, as the rest of the body (`service.api.routing`); an IATI file's NUL is the XML
reader's to refuse.

A JSON body is also refused (422 `request.illegal-character`) for any other character XML
1.0 cannot hold — the C0 controls but tab, line feed and carriage return, a lone surrogate
(JSON's ``"\ud800"``), U+FFFE and U+FFFF — since what the body names (an organisation, a
webhook, a decision's reason) may be written into the service's IATI files and feeds.
"""

from __future__ import annotations

import re
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


class IllegalCharacterError(DomainError):
    """A character XML 1.0 cannot hold, other than U+0000, in a JSON body."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "request.illegal-character"
    title: ClassVar[str] = "Invalid request"

    def __init__(self, character: str) -> None:
        super().__init__(
            f"The character U+{ord(character):04X} is in the body; XML 1.0 cannot hold it, "
            "so no IATI value or file can. Send the request without it.")


# Characters outside XML 1.0's Char production (U+0000 included).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def illegal_character(value: Any) -> str | None:
    """The first character XML 1.0 cannot hold in any string of a JSON value, keys
    included; U+0000 before any other; None when there is none."""
    found = [match.group() for text in _strings(value) if (match := _ILLEGAL.search(text))]
    return "\x00" if "\x00" in found else (found[0] if found else None)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


_SAID = ("The character U+0000 (NUL) is in {where}; no IATI value holds it. Send the "
         "request without it.")


def _refused(where: str) -> JSONResponse:
    return problem(422, NulCharacterError.code, NulCharacterError.title,
                   _SAID.format(where=where))
