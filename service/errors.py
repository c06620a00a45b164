"""Domain exceptions mapped to RFC 9457 problem responses, in one place.

Services raise a `DomainError` subclass carrying data (status, stable code, detail, extra
members such as findings); nothing below the routes raises `HTTPException`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from iati.errors import IatiInputError

PROBLEM = "application/problem+json"
BUSY_RETRY_AFTER_S = 5  # what a 503 `service.busy` asks the client to wait
# What every operation that reads or writes the store may answer (declared in OpenAPI).
BUSY_RESPONSE: dict[int | str, dict[str, Any]] = {503: {
    "description": "No database connection came free in time (`service.busy`); nothing was "
                   "changed. Send the request again after `Retry-After` seconds.",
    "content": {PROBLEM: {}},
    "headers": {"Retry-After": {"description": "Seconds to wait before sending it again",
                                "schema": {"type": "integer"}}},
}}
log = logging.getLogger(__name__)


class Misfit(BaseModel):
    """One part of a request that does not fit the operation."""

    location: str = Field(description="Where, e.g. `query/limit` or `body/rows/0/share`")
    message: str
    type: str = Field(description="The kind of misfit, e.g. `int_parsing`, `missing`")


class Problem(BaseModel):
    """An RFC 9457 problem document: every error answer of iati-ec. Members beyond these
    depend on the `code` (e.g. `findings`, `iati_identifier`, a deleted activity's
    tombstone)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem (from `code`)")
    title: str
    status: int = Field(description="The HTTP status")
    detail: str = Field(description="What happened here and what to do about it")
    code: str = Field(description="iati-ec's stable code, e.g. `request.invalid`")
    errors: list[Misfit] = Field(
        default_factory=list, description="`request.invalid`: each part that does not fit"
    )


class DomainError(Exception):
    """An error a client can act on: HTTP `status`, stable `code`, human `detail`.

    Subclasses set `status`, `code` and `title`; `extra` holds further problem members
    (e.g. ``findings``), `headers` response headers (e.g. ``WWW-Authenticate``).
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers = headers or {}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem document with iati-ec's stable `code`."""
    body = {"type": f"https://iati-ec.org/problems/{code}", "title": title, "status": status,
            "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_HTTP_PROBLEMS = {
    400: ("request.unreadable", "Send a body in the media type the operation documents "
          "(JSON in UTF-8)."),
    404: ("request.not-found", "The operations are listed at /docs."),
    405: ("request.method-not-allowed", "The Allow header lists the methods this path takes."),
}


def method_not_allowed(allowed: Iterable[str], *, hint: str | None = None) -> JSONResponse:
    """405: the resource does not take the request's method; `Allow` lists those it does
    (and `hint` says what to do instead, where there is more to say)."""
    code, what = _HTTP_PROBLEMS[405]
    detail = f"{HTTPStatus(405).phrase}. {what}" + (f" {hint}" if hint else "")
    return problem(405, code, HTTPStatus(405).phrase, detail,
                   {"Allow": ", ".join(sorted(allowed))})


def install(app: FastAPI) -> None:
    """Register the exception handlers of the service on `app`."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        return problem(error.status, error.code, error.title, error.detail, error.headers,
                       **error.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": "/".join(str(part) for part in item["loc"]), "message": item["msg"],
             "type": item["type"]}
            for item in error.errors()
        ]
        said = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return problem(422, "request.invalid", "Invalid request",
                       f"The request does not fit this operation: {said}{more}.", None,
                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # The framework's own refusals (a body that is not the JSON it says, an unknown
        # path, a method the path does not take), as problems like every other.
        status = error.status_code
        code, what = _HTTP_PROBLEMS.get(status, (f"http.{status}", ""))
        detail = f"{error.detail}." if isinstance(error.detail, str) else HTTPStatus(status).phrase
        return problem(status, code, HTTPStatus(status).phrase, f"{detail} {what}".strip(),
                       dict(error.headers or {}) or None)

    @app.exception_handler(PoolTimeoutError)
    async def busy(request: Request, error: PoolTimeoutError) -> JSONResponse:
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        return problem(503, "service.busy", "The service is busy",
                       "Every database connection stayed in use while this request waited "
                       "for one; nothing was changed. Send the request again in a few "
                       "seconds.", {"Retry-After": str(BUSY_RETRY_AFTER_S)})

    @app.exception_handler(IatiInputError)
    async def unreadable_input(request: Request, error: IatiInputError) -> JSONResponse:
        extra: dict[str, Any] = {} if error.line is None else {"line": error.line}
        return problem(422, error.code, "The input is not readable IATI XML", error.message,
                       None, **extra)
