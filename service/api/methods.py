"""The methods a path takes: a request whose method the path's resource does not take is
answered 405 with an `Allow` header listing every method it does.

Starlette answers 405 with the methods of the first route whose path matches, so a path
served by several routes (GET and POST of `/api/v1/webhooks`) lists one of them; and a
route with a `:path` parameter swallows the paths of its sub-resources, so that
`PUT /api/v1/activities/{id}/links` reached `PUT /api/v1/activities/{id}`. Here the
resource a path names is the one of the most particular route templates that match it
(the most characters that are not parameters), as the OpenAPI document reads it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import method_not_allowed

_PARAMETER = re.compile(r"\{[^}]*\}")


class ResourceMethods:
    """ASGI middleware: 405 with the resource's `Allow`, before any route runs."""

    def __init__(self, app: ASGIApp, *, routes: list[Any]) -> None:
        self.app = app
        self.routes = routes  # the app's own list, so routes added later count too

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = allowed_methods(self.routes, _route_path(scope))
            if allowed and scope["method"] not in allowed:
                await method_not_allowed(allowed)(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
