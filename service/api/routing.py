"""Operations with a JSON body: nothing is said about the body before the caller's key.

FastAPI reads and decodes a JSON body before it resolves any dependency, so a body that is
not UTF-8 or not JSON would be refused before the key is checked, telling an anonymous
caller about the operation. `KeyFirstRoute` keeps such a refusal until the dependencies
(the key first) have passed, and reads at most `JSON_BODY_BYTES` of the body meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from service.api.nul import IllegalCharacterError, NulCharacterError, illegal_character
from service.errors import PROBLEM, DomainError

JSON_BODY_BYTES = 1 << 20  # the largest JSON body of any operation is a few kilobytes


class JsonBodyTooLargeError(DomainError):
    status = 413
    code = "request.too-large"
    title = "The body is too large"


class KeyFirstRoute(APIRoute):
    """A route whose JSON body is judged only after its dependencies have passed.

    Its body must be required: an unreadable body is handed on as missing, and refused as
    such when the body is validated, with the reason it could not be read.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        if self.body_field is None:
            return
        if not self.body_field.field_info.is_required():
            raise TypeError(f"{path}: a KeyFirstRoute's body must be required")
        self.responses.setdefault(413, {
            "description": f"The JSON body is over {JSON_BODY_BYTES:,} bytes "
                           "(`request.too-large`)",
            "content": {PROBLEM: {}},
        })

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def key_first(request: Request) -> Response:
            checked = _KeyFirstRequest(request.scope, request.receive)
            try:
                return await handle(checked)
            except RequestValidationError:
                if checked.refusal is None:
                    raise
                raise checked.refusal from None

        return key_first


class _KeyFirstRequest(Request):
    """A request that keeps why its body cannot be read (`refusal`) instead of raising it;
    its `json()` is then None, which the body's validation refuses after the key."""

    refusal: Exception | None = None
    _checked_body: bytes | None = None

    async def body(self) -> bytes:
        if self._checked_body is None:
            self._checked_body = await self._bounded_body()
        return self._checked_body

    async def json(self) -> Any:
        body = await self.body()
        try:
            # RFC 8259: JSON between systems is UTF-8; a byte order mark may be ignored.
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            return self._unreadable(
                error.start, f"The body is not UTF-8: byte 0x{body[error.start]:02x} at byte "
                f"{error.start} does not begin a character")
        if "\x00" in text:
            return self._nul()
        try:
            found = json.loads(text)
        except json.JSONDecodeError as error:
            return self._unreadable(error.pos, f"The body is not JSON: {error.msg}")
        except (ValueError, RecursionError):  # digits past Python's limit, deep nesting
            return self._unreadable(0, "The body is JSON nested too deeply or with a number "
                                       "of too many digits")
        character = illegal_character(found)
        if character == "\x00":
            return self._nul()
        if character is not None:
            self.refusal = IllegalCharacterError(character)
            return None
        return found

    def _nul(self) -> None:
        self.refusal = NulCharacterError()

    async def _bounded_body(self) -> bytes:
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > JSON_BODY_BYTES:
            return self._too_large(f"The body declares {int(declared):,} bytes")
        chunks: list[bytes] = []
        size = 0
        async with aclosing(self.stream()) as stream:
            async for chunk in stream:
                size += len(chunk)
                if size > JSON_BODY_BYTES:
                    return self._too_large("The body is longer")
                chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, said: str) -> bytes:
        self.refusal = JsonBodyTooLargeError(
            f"{said} than the {JSON_BODY_BYTES:,} bytes a JSON body may have.")
        return b""  # read no further; an empty body is refused as missing

    def _unreadable(self, at: int, reason: str) -> None:
        self.refusal = RequestValidationError([
            {"type": "json_invalid", "loc": ("body", at), "msg": reason, "input": {}},
        ])
