"""The API keeps its committed contract: Schemathesis sends every operation of
`openapi/openapi.json` to the app in-process, with a donor's key (publish and read) and
with the ministry's admin key, on a small database of real activities, and checks every
answer against the document (`--checks all`: status, media type, headers, body schema,
`Allow`, authentication, and that valid requests are accepted and invalid ones refused).
Any server error fails, and so does any other failure but the exclusions named here.

What runs, within about a minute:
- examples and fuzzing (random requests), for each operation with each key on SQLite and
  on PostgreSQL; reads share one database per backend, writes get a copy of their own;
- coverage (every boundary and misfit of every parameter, each method the path does not
  take), once per operation, with the admin key (which reaches every operation) on SQLite.
  The activity filters (`service.api.filters`), one dependency shared by a dozen lists
  and exports, are covered on `GET /api/v1/activities` only; elsewhere coverage runs on
  each operation's own parameters.
- The stateful phase is not run: the document declares no links between operations.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.specs.openapi.checks import RejectedPositiveData, positive_data_acceptance
from sqlalchemy import Engine
from sqlmodel import Session

from service.api.filters import activity_filter
from service.api.routes.activities import PushLimits, push_limits
from service.app import create_app
from service.db import get_engine, get_session
from tests.support.databases import Copy, Databases
from tests.support.loads import FEW_USAID, FewKeys

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
KEYS = ("donor", "admin")


def _config(*phases: str, max_examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "base-url": "http://iati-ec",
        "seed": 20_250_128,  # reproducible: the same requests on every run
        "generation": {
            "max-examples": max_examples, "database": "none", "deterministic": True,
            # U+0000 is refused in any input (422 `request.nul-character`, service.api.nul):
            # no IATI value holds it, but the document cannot say so of every string.
            "allow-x00": False,
            # The key is the test's (its header is sent with every case): Schemathesis
            # neither generates nor leaves out Authorization; `ignored_auth` still sends
            # each operation without a key and with a wrong one.
            "with-security-parameters": False,
        },
        "phases": {phase: {"enabled": phase in phases}
                   for phase in ("examples", "coverage", "fuzzing", "stateful")},
        "checks": {
            # 410 Gone answers an identifier of a deleted activity (with its tombstone):
            # as much an acceptance of a valid request as a 404.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410"],
            },
        },
    })


def _own_parameters_only(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the shared activity filters left out of every operation but the
    list of activities (they are optional: leaving them out is a valid request)."""
    shared = set(inspect.signature(activity_filter).parameters)
    trimmed = copy.deepcopy(document)
    for path, item in trimmed["paths"].items():
        for method, operation in item.items():
            if (method, path) != ("get", "/api/v1/activities"):
                operation["parameters"] = [p for p in operation.get("parameters", [])
                                           if p["in"] != "query" or p["name"] not in shared]
    return trimmed


APP = create_app()  # one app in-process for every test; each points it at its database
APP.dependency_overrides[push_limits] = lambda: PushLimits(
    max_bytes=1024**2, background_bytes=1024**2, spool_directory=None
)
DOCUMENT = json.loads(OPENAPI.read_text(encoding="utf-8"))
RANDOM = schemathesis.openapi.from_dict(
    DOCUMENT, config=_config("examples", "fuzzing", max_examples=5))
BOUNDARIES = schemathesis.openapi.from_dict(
    _own_parameters_only(DOCUMENT), config=_config("coverage", max_examples=1))
RANDOM.app = BOUNDARIES.app = APP
READS, WRITES = RANDOM.include(method="GET"), RANDOM.exclude(method="GET")

# Exclusions from "a request the document calls valid is accepted", each with its reason.
# An IATI file is a binary body to the document: bytes a generator invents are not IATI
# XML, and refusing them (422 `input.*`) is the operation's job.
INVENTED_FILES = {"push_activities", "put_activity", "put_activity_by_identifier"}
# Refusals of values the document cannot rule out, by the problem's code:
JUSTIFIED_REFUSALS = {
    # a cursor is whatever a page's `next_cursor` was; an invented one names no page;
    "query.bad-cursor",
    # a search needs a word, letters or digits in Unicode's sense, which an ECMA-262
    # pattern cannot state (its \w is ASCII): "¿?" or "—" is refused, "año" is not.
    "query.bad-search",
    # `limit` caps the traceability graph: more matching activities is refused (400), not
    # a graph cut short, and how many match is the data's, not the document's.
    "traceability.too-many-activities",
    # a change-feed cursor beyond the last change names no page (the head is the data's);
    "changes.cursor-ahead",
    # a webhook's host must resolve to public addresses only: a generated host name does
    # not resolve, or names an internal address, which DNS decides, not the document;
    "webhook.destination-not-allowed",
    # an organisation's identifier may hold no control or invisible format character
    # (Unicode's Cc and Cf) and at most 500 bytes of UTF-8, which a pattern cannot state.
    "identifier.invalid-prefix",
    # an agreement's parts are judged against each other and the store: the end after the
    # start, registered organisations, objectives of the plan in force on its signing,
    # activities named once (in NFC), metrics read from its own activities.
    "agreement.invalid",
    # the aggregates' groupings (and the security lens, read through the sector split)
    # cross only where the budget view's splits allow: a rule between parameters, which
    # OpenAPI cannot state (group_by=province with lens=security is refused, each alone is
    # not).
    "aggregates.crossed-classifications",
    # a JSON body's strings may hold no character XML 1.0 cannot (C0 controls but tab, LF
    # and CR, lone surrogates, U+FFFE, U+FFFF), since what they name is written into IATI
    # files and feeds; the document cannot say so of every string.
    "request.illegal-character",
}


def valid_requests_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Schemathesis's `positive_data_acceptance`, but for the exclusions named above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if case.operation.definition.raw.get("operationId") in INVENTED_FILES:
            return None
        if _problem_code(response) in JUSTIFIED_REFUSALS:
            return None
        raise


def _problem_code(response: Response) -> Any:
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class Caller:
    """Who sends the requests: the app on a test database, and a key's header."""

    app: FastAPI
    headers: dict[str, str]

    def send(self, case: Case) -> None:
        case.call_and_validate(
            app=self.app, headers=self.headers,
            excluded_checks=[positive_data_acceptance],
            additional_checks=[valid_requests_accepted],
        )


@pytest.fixture(scope="session")
def _shared_few(databases: Databases) -> Iterator[Copy[FewKeys]]:
    made = databases.copy(FEW_USAID)
    yield made
    databases.drop(made)


@pytest.fixture(params=KEYS)
def reader(request: pytest.FixtureRequest, _shared_few: Copy[FewKeys]) -> Iterator[Caller]:
    """The app on this backend's one copy of the small database, shared by the reads."""
    yield from _caller(_shared_few, request.param)


@pytest.fixture(params=KEYS)
def writer(request: pytest.FixtureRequest, few_usaid: Copy[FewKeys]) -> Iterator[Caller]:
    """The app on the test's own copy of the small database."""
    yield from _caller(few_usaid, request.param)


@pytest.fixture
def admin_on_sqlite(sqlite_databases: Databases) -> Iterator[Caller]:
    """The app on the test's own SQLite copy of the small database, with the admin key."""
    made = sqlite_databases.copy(FEW_USAID)
    try:
        yield from _caller(made, "admin")
    finally:
        sqlite_databases.drop(made)


def _caller(made: Copy[FewKeys], key: str) -> Iterator[Caller]:
    engine: Engine = made.engine

    def session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as opened:
            yield opened

    APP.dependency_overrides[get_session] = session
    APP.dependency_overrides[get_engine] = lambda: engine
    yield Caller(APP, {"Authorization": f"Bearer {getattr(made.value, key)}"})
    del APP.dependency_overrides[get_session], APP.dependency_overrides[get_engine]


# A test's database serves every case of its operation: what one case writes, the next may
# read, as a client's requests would (hence the function-scoped fixtures).
ONE_DATABASE_PER_TEST = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@READS.parametrize()
@ONE_DATABASE_PER_TEST
def test_reads_keep_the_contract(case: Case, reader: Caller) -> None:
    reader.send(case)


@WRITES.parametrize()
@ONE_DATABASE_PER_TEST
def test_writes_keep_the_contract(case: Case, writer: Caller) -> None:
    writer.send(case)


@BOUNDARIES.parametrize()
@ONE_DATABASE_PER_TEST
def test_every_boundary_keeps_the_contract(case: Case, admin_on_sqlite: Caller) -> None:
    admin_on_sqlite.send(case)
