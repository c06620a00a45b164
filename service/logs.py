"""Logs as JSON lines, one per event, each carrying the id of the request it belongs to.

A request's id is the `X-Request-ID` it was sent with (when it is a short token), else a
new one; it is answered in the same header, written on every log line of the request, and
kept on the push the request made, so that a donor's report of a failed push leads to its
log lines. `serve` logs one access line per request (method, route, path, status,
duration) in place of uvicorn's, and the request is counted in the metrics.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import observe

HEADER = "x-request-id"
_REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# A client's id is kept when it is a token of this shape; anything else gets a new one, so
# that nothing a client sends reaches the logs unchecked.
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
access = logging.getLogger("iati_ec.access")


def current_request_id() -> str | None:
    """The id of the HTTP request being answered (None outside one)."""
    return _REQUEST_ID.get()


class RequestIds:
    """ASGI middleware: each HTTP request's id (see the module), its access line and its
    count in the metrics, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = sent if _TOKEN.fullmatch(sent) else uuid.uuid4().hex
        token = _REQUEST_ID.set(request_id)
        started, status = perf_counter(), 500

        async def answering(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            seconds, route = perf_counter() - started, getattr(scope.get("route"), "path", None)
            observe(scope["method"], route, status, seconds)
            access.info("%s %s %s", scope["method"], scope["path"], status, extra={
                "method": scope["method"], "path": scope["path"], "status": status,
                "route": route, "duration_ms": round(seconds * 1000, 1),
            })
            _REQUEST_ID.reset(token)


# The attributes every LogRecord has; the others were given through `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, request id, what
    was given through `extra`, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage(), "pid": record.process,
        }
        if (request_id := current_request_id()) is not None:
            line["request_id"] = request_id
        line.update({key: value for key, value in vars(record).items()
                     if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` for `serve` (uvicorn applies it in each worker):
    every logger, uvicorn's included, to standard error in `log_format` (json or text)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "default",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"default": formatter}, "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {name: {"handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }
