"""The OpenAPI document as the app serves it: FastAPI's, made exact where FastAPI cannot
know the app — every problem answer is RFC 9457 `application/problem+json` with its
schema; any request may be a 422 (U+0000 in it); an unreadable JSON body is a 400; the
refusals of shared dependencies (the activity filters' 400) are stated on every operation
that takes them; and an operation that also takes anonymous callers says so in its
security."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from service.api.deps import optional_caller
from service.api.filters import activity_filter
from service.errors import PROBLEM, Problem

Document = dict[str, Any]
REFS = "#/components/schemas/"
PROBLEM_SCHEMA = {"$ref": f"{REFS}Problem"}
# FastAPI's own description of the validation errors it would answer with as JSON.
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
INVALID = ("The request does not fit the operation (`request.invalid`, each misfit in "
           "`errors`; `request.nul-character`: U+0000 in it; `request.illegal-character`: "
           "another character XML cannot hold in its JSON body), or the problem's code says "
           "why")
UNREADABLE = "The body is not readable in the media type it declares (`request.unreadable`)"
FILTERS_REFUSED = ("The filters cannot be applied as given (`query.bad-search`: a search "
                   "without a word, or of too many), or the problem's code says why")
ANONYMOUS: dict[str, list[str]] = {}  # a security requirement met without credentials


def install(app: FastAPI) -> None:
    """Serve `app`'s OpenAPI document made exact (each time FastAPI generates it anew)."""
    generate = app.openapi
    generated: list[Document] = []  # FastAPI's latest, and the exact copy made of it
    made: list[Document] = []

    def openapi() -> Document:
        document = generate()
        if not generated or generated[0] is not document:
            generated[:] = [document]
            made[:] = [exact(copy.deepcopy(document), app.routes)]
        return made[0]

    app.openapi = openapi  # type: ignore[method-assign]


def exact(document: Document, routes: list[Any]) -> Document:
    """`document` (FastAPI's, for `routes`, changed in place) with problems, unreadable
    bodies and optional keys stated."""
    for operation in _operations(document):
        responses = operation["responses"]
        # Any request may be refused as not fitting: U+0000 anywhere (service.api.nul).
        if "422" not in responses or _is_fastapi_validation(responses["422"]):
            responses["422"] = _problem(INVALID)
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            responses.setdefault("400", _problem(UNREADABLE))
        for answer in responses.values():
            if PROBLEM in answer.get("content", {}):
                answer["content"][PROBLEM] = {"schema": PROBLEM_SCHEMA}
    for path, method in _taking(routes, activity_filter):
        document["paths"][path][method]["responses"].setdefault("400", _problem(FILTERS_REFUSED))
    for path, method in _taking(routes, optional_caller):
        security = document["paths"][path][method].setdefault("security", [])
        if ANONYMOUS not in security:
            security.append(ANONYMOUS)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION:
        schemas.pop(name, None)
    definition = Problem.model_json_schema(ref_template=REFS + "{model}")
    schemas.update(definition.pop("$defs", {}))
    schemas["Problem"] = definition
    return document


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}


def _operations(document: Document) -> Iterator[dict[str, Any]]:
    for item in document.get("paths", {}).values():
        yield from item.values()


def _is_fastapi_validation(answer: dict[str, Any]) -> bool:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == f"{REFS}HTTPValidationError")


def _taking(routes: list[Any], dependency: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    """(path, method) of each documented operation that depends on `dependency`."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.include_in_schema and _depends(
            route.dependant, dependency
        ):
            for method in context.methods or ():
                yield context.path_format or route.path_format, method.lower()


def _depends(dependant: Dependant, dependency: Callable[..., Any]) -> bool:
    return dependant.call is dependency or any(
        _depends(sub, dependency) for sub in dependant.dependencies
    )
