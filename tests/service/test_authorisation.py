"""Authorisation, route by route: every route of the application answers each kind of
caller as the tables of docs/security.md say, and the tables name every route.

The tables are the one statement of who may call what. Each route found in the app is
called once per column with a real key (and for a route with an *own* cell once more, on
another organisation's activity or push): one app, in-process, on one small database per
backend (`tests.support.keyring`). Bodies are empty JSON objects, which every route that
stores what it is sent refuses (422) once it has let the caller in; the DELETEs remove an
activity and a webhook kept for them, so every other request finds what it asks for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from service.app import create_app
from tests.support.databases import Copy, Databases
from tests.support.keyring import KEYRING, KINDS, OTHER_FILE, Held, Keyring
from tests.support.publishing import Api

SECURITY = Path(__file__).resolve().parents[2] / "docs" / "security.md"
SECTION = "## Authorisation"
HEADER = ["method", "path", *KINDS]
CELL = re.compile(r"yes|401|403|own \((?P<others>403|404|rejected)\)")
REFUSALS = {401: "auth.invalid-key", 403: "auth.insufficient-scope"}
# Routes whose parameter the shared values cannot fill plausibly.
URLS = {"/static/{name}": "/static/app.css"}

pytestmark = pytest.mark.xdist_group("authorisation")


class Route(NamedTuple):
    method: str
    path: str  # as the OpenAPI document writes it, without converters


class Cell(NamedTuple):
    """A cell of the tables: a refusal (401 or 403), or allowed — on any organisation's
    activities and pushes, or on the key's own only, `others` saying what another
    organisation's get (403, 404 or rejected)."""

    text: str
    refusal: int | None
    others: str | None

    @classmethod
    def of(cls, text: str) -> Cell:
        match = CELL.fullmatch(text)
        assert match is not None, f"{text!r} is not a cell of the tables"
        refusal = int(text) if text.isdigit() else None
        return cls(text, refusal, match["others"])


def app_routes(app: FastAPI) -> list[Route]:
    """Every method of every route of `app`."""
    found = []
    for context in iter_route_contexts(app.routes):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", str(context.path))
        found += [Route(method, path) for method in sorted(context.methods or ())]
    return found


def documented() -> dict[Route, dict[str, Cell]]:
    """The rows of the tables in docs/security.md's Authorisation section."""
    text = SECURITY.read_text(encoding="utf-8").split(SECTION + "\n", 1)[1]
    section = re.split(r"^## ", text, flags=re.MULTILINE)[0]
    rows: dict[Route, dict[str, Cell]] = {}
    header: list[str] | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif header == HEADER and not set(cells[0]) <= {"-"}:
            route = Route(cells[0], cells[1])
            assert route not in rows, f"two rows for {route}"
            rows[route] = {kind: Cell.of(cell) for kind, cell in zip(KINDS, cells[2:],
                                                                      strict=True)}
    return rows


# One app for both backends: it builds each route and the OpenAPI document once.
APP = create_app()
ROUTES = app_routes(APP)
TABLE = documented()


@pytest.fixture(scope="module")
def _keyring(databases: Databases) -> Iterator[Copy[Keyring]]:
    made = databases.copy(KEYRING)
    try:
        yield made
    finally:
        databases.drop(made)


@pytest.fixture
def keyring(_keyring: Copy[Keyring]) -> tuple[Api, Keyring]:
    """The keyring load in a database of this module's own, and the app pointed at it."""
    return Api(_keyring.engine, app=APP), _keyring.value


def url(route: Route, ring: Keyring, held: Held) -> str:
    """`route`'s path with plausible values: `held`'s organisation, activity and push.
    A DELETE of the own organisation's takes the activity and webhook kept for it, so
    that every other request still finds its own."""
    deleting = route.method == "DELETE" and held == ring.own
    activity = ring.doomed_activity if deleting else held.activity
    path = URLS.get(route.path) or route.path.format(
        iati_identifier=activity, identifier=activity, version=1, push_id=held.push,
        organisation=held.ref, publisher=held.ref,
        webhook_id=ring.doomed_webhook if deleting else ring.webhook,
        name="sector-investment-subsector", key="1/15210", prefix=f"{held.ref}-NO-SUCH",
        agreement_id=1,
    )
    if path.startswith(("/api/v1/activity/", "/api/v1/activity?")) or path == "/api/v1/activity":
        return f"{path}?{urlencode({'iati_identifier': activity})}"  # named in the query
    return path


def call(api: Api, route: Route, key: str | None, target: str,
         content: bytes = b"{}") -> httpx.Response:
    if route.method not in ("POST", "PUT"):
        return api.request(route.method, target, key=key)
    return api.request(route.method, target, key=key, content=content,
                       headers={"Content-Type": "application/json"})


def as_others_get(answer: httpx.Response, others: str | None) -> bool:
    """Whether `answer`, on another organisation's activity or push, is as `others` says
    (None: the caller may act on any organisation's)."""
    if others is None:
        return answer.is_success
    if others == "rejected":
        outcomes = [(row["outcome"], [finding["code"] for finding in row["findings"]])
                    for row in answer.json()["activities"]] if answer.is_success else []
        return outcomes == [("rejected", ["push.not-your-activity"])]
    return answer.status_code == int(others)


def differences(api: Api, ring: Keyring, route: Route, kind: str, cell: Cell) -> list[str]:
    """How the route's answers to `kind` differ from its cell (nothing when they agree)."""
    key = ring.keys[kind]
    said = f"{kind}: `{cell.text}` in the table, but {route.method}"
    mine = call(api, route, key, url(route, ring, ring.own))
    if cell.refusal is not None or mine.status_code in REFUSALS:
        if mine.status_code == cell.refusal and _code(mine) == REFUSALS[cell.refusal]:
            return []
        return [f"{said} {mine.request.url.path} answers {mine.status_code} {mine.text[:200]}"]
    if all(other.others is None for other in TABLE[route].values()):
        return []
    content = OTHER_FILE.read_bytes() if cell.others == "rejected" else b"{}"
    theirs = call(api, route, key, url(route, ring, ring.other), content)
    if as_others_get(theirs, cell.others):
        return []
    return [f"{said} {theirs.request.url.path} (another organisation's) answers "
            f"{theirs.status_code} {theirs.text[:200]}"]


def _code(answer: httpx.Response) -> str | None:
    """The code of a problem answer."""
    if answer.headers.get("content-type") != "application/problem+json":
        return None
    return str(answer.json().get("code"))


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_the_route_answers_every_kind_of_caller_as_documented(
    keyring: tuple[Api, Keyring], route: Route
) -> None:
    api, ring = keyring
    if route not in TABLE:
        pytest.fail(f"docs/security.md has no row for {route.method} {route.path}")
    wrong = [line for kind, cell in TABLE[route].items()
             for line in differences(api, ring, route, kind, cell)]
    assert not wrong, "\n".join(wrong)


def test_every_row_names_a_route_of_the_app() -> None:
    assert TABLE, f"no table under {SECTION} in {SECURITY}"
    assert set(TABLE) - set(ROUTES) == set()
