"""The methods a path takes: a request whose method the path's resource does not take is
answered 405 with an `Allow` header listing every method it does.

Starlette answers 405 with the methods of the first route whose path matches, so a path
served by several routes (GET and POST of `/api/v1/webhooks`) lists one of them; and a
route with a `:path` parameter swallows the paths of its sub-resources, so that
`PUT /api/v1/activities/{id}/links` reached `PUT /api/v1/activities/{id}`. Here the
resource a path names is the one of the most particular route templates that match it
(the most characters that are not parameters), as the OpenAPI document reads it.

`HEAD` is taken wherever `GET` is (RFC 9110): answered as the `GET`, headers only.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import method_not_allowed

_PARAMETER = re.compile(r"\{[^}]*\}")


class ResourceMethods:
    """ASGI middleware: 405 with the resource's `Allow`, before any route runs."""

    def __init__(self, app: ASGIApp, *, routes: list[Any]) -> None:
        self.app = app
        self.routes = routes  # the app's own list, so routes added later count too

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        allowed = allowed_methods(self.routes, path)
        if "GET" in allowed:
            allowed |= {"HEAD"}
        if allowed and scope["method"] not in allowed:
            await method_not_allowed(allowed, hint=_hint(path))(scope, receive, send)
            return
        if scope["method"] == "HEAD" and "HEAD" in allowed:
            await self.app({**scope, "method": "GET"}, receive, _headers_only(send))
            return
        await self.app(scope, receive, send)


def _headers_only(send: Send) -> Send:
    """`send` for a HEAD answered as a GET: its headers (Content-Length included), no body."""
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})
            return
        await send(message)

    return sending


def _hint(path: str) -> str | None:
    """What to do instead, for a path the older activity addresses cannot change."""
    if path.startswith("/api/v1/activities/"):
        return ("To replace or delete an activity whose identifier ends in a part's name "
                "(`/links`, `/versions`, `/budget-view`), use "
                "`/api/v1/activity?iati_identifier=…`.")
    return None


def allowed_methods(routes: list[Any], path: str) -> frozenset[str]:
    """The methods of the resource `path` names among `routes` (none: no route matches)."""
    matching = [
        (len(_PARAMETER.sub("", context.path_format or "")), context.methods)
        for context in iter_route_contexts(routes)
        if context.methods and context.path_regex is not None
        and context.path_regex.match(path)
    ]
    most = max((particular for particular, _ in matching), default=0)
    return frozenset(
        method for particular, methods in matching if particular == most for method in methods
    )


def _route_path(scope: Scope) -> str:
    """The path the routes see: without the `root_path` a proxy mounts the app under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
