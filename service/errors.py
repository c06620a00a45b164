"""Domain exceptions mapped to RFC 9457 problem responses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from iati.errors import IatiInputError

PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, **extra: object) -> JSONResponse:
    """An RFC 9457 problem document with iati-ec's stable `code`."""
    body = {"type": f"https://iati-ec.org/problems/{code}", "title": title, "status": status,
            "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    """Register the exception handlers of the service on `app`."""

    @app.exception_handler(IatiInputError)
    async def unreadable_input(request: Request, error: IatiInputError) -> JSONResponse:
        extra = {} if error.line is None else {"line": error.line}
        return problem(422, error.code, "The input is not readable IATI XML", error.message,
                       **extra)
