"""Publishing in tests: donors and their keys, pushes through the service and through the
HTTP API in-process, and variants of the real sample files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from lxml import etree
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.api.routes.activities import PushLimits, push_limits
from service.app import create_app
from service.db import get_engine, get_session, session_scope
from service.models import Activity, KeyScope, Organisation, OrganisationRef
from service.readmodel.clock import record
from service.services.jobs import JobPolicy, PushWork, Worker
from service.services.keys import create_key
from service.services.push import Publisher, PushOptions, PushPublic, ReceivedFile, push_file
from tests.support.samples import PARSER, sample

USAID = "US-GOV-1"
USAID_EC = "real/usaid-ec.xml"


class InProcess:
    """httpx against an app in-process (one event loop per request)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(
        self, method: str, url: str, *, key: str | None = None, **options: Any
    ) -> httpx.Response:
        headers = dict(options.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://iati-ec") as http:
                return await http.request(method, url, headers=headers, timeout=120, **options)

        return asyncio.run(send())


class Api(InProcess):
    """The service's app in-process (a new one, or `app` pointed here), on the test's
    database."""

    def __init__(
        self, engine: Engine, *, background_bytes: int = 20 * 1024**2, app: FastAPI | None = None
    ) -> None:
        super().__init__(app or create_app())
        self.engine = engine

        def test_session() -> Iterator[Session]:
            with Session(engine, expire_on_commit=False) as session:
                yield session

        self.app.dependency_overrides[get_session] = test_session
        self.app.dependency_overrides[get_engine] = lambda: engine
        self.app.dependency_overrides[push_limits] = lambda: PushLimits(
            max_bytes=50 * 1024**2, background_bytes=background_bytes, spool_directory=None
        )


@contextmanager
def working(engine: Engine, **policy: Any) -> Iterator[Worker]:
    """A job worker in a thread of this process on `engine`, until the block ends (its
    policy's other values given as `policy`)."""
    worker = Worker(engine, policy=JobPolicy(**{"poll_seconds": 0.05, **policy}),
                    work=PushWork(max_bytes=1 << 31))
    thread = worker.start()
    try:
        yield worker
    finally:
        worker.stopping.set()
        thread.join(timeout=120)


def new_key(engine: Engine, ref: str, *scopes: KeyScope) -> str:
    with session_scope(engine, write=True) as session:
        _, token = create_key(session, organisation_ref=ref, scopes=scopes)
    return token


def stored_activity(engine: Engine, identifier: str) -> Activity:
    """The stored row of activity `identifier`."""
    with Session(engine) as session:
        return session.exec(select(Activity).where(Activity.iati_identifier == identifier)).one()


def add_publisher(engine: Engine, *refs: str, name: str = "USAID") -> Publisher:
    """A donor organisation with `refs`, as the publisher of pushes."""
    with session_scope(engine, write=True) as session:
        organisation = Organisation(name=name, roles=["donor"], names=[{"text": name}])
        session.add(organisation)
        session.flush()
        assert organisation.id is not None
        session.add_all(OrganisationRef(organisation_id=organisation.id, ref=r) for r in refs)
        record(session, "organisation", details={"organisation": organisation.id})
    return Publisher(organisation_id=organisation.id, refs=frozenset(refs))


def push(
    engine: Engine, publisher: Publisher, path: Path, **options: object
) -> PushPublic:
    """Push the file at `path` through the service, as the API and the CLI do."""
    return push_file(
        engine, publisher=publisher, received=ReceivedFile.of_path(path),
        options=PushOptions(**options),  # type: ignore[arg-type]
        max_bytes=1 << 31,
    )


Edit = Callable[[etree._Element], None]


def variant(source: str, target: Path, *, keep: int | None = None, **edits: Edit) -> Path:
    """`source` (a sample) written to `target`, its first `keep` activities only, with
    `edits` applied to the activities whose position (``a1``, ``a2`` …) they name."""
    tree = etree.parse(str(sample(source)), PARSER)
    root = tree.getroot()
    activities = root.findall("iati-activity")
    for surplus in activities[keep:] if keep is not None else []:
        root.remove(surplus)
    for name, edit in edits.items():
        edit(activities[int(name[1:]) - 1])
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def activity_element(source: str, position: int) -> etree._Element:
    """The `position`-th activity of a sample (from 1)."""
    return etree.parse(str(sample(source)), PARSER).getroot().findall("iati-activity")[
        position - 1
    ]


def identifier_of(source: str, position: int) -> str:
    return str(activity_element(source, position).findtext("iati-identifier")).strip()


def set_first_transaction(amount: str, updated: str | None) -> Edit:
    """An edit: the first transaction's value becomes `amount`, and last-updated-datetime
    `updated` (when given)."""

    def edit(activity: etree._Element) -> None:
        value = activity.find("transaction/value")
        assert value is not None
        value.text = amount
        if updated is not None:
            activity.set("last-updated-datetime", updated)

    return edit


def set_reporting_org(ref: str) -> Edit:
    def edit(activity: etree._Element) -> None:
        org = activity.find("reporting-org")
        assert org is not None
        org.set("ref", ref)

    return edit


def set_identifier(identifier: str) -> Edit:
    def edit(activity: etree._Element) -> None:
        element = activity.find("iati-identifier")
        assert element is not None
        element.text = identifier

    return edit


def add_other_identifier(ref: str, kind: str) -> Edit:
    """An edit: an other-identifier of type `kind` (``B1``: the previous reporting
    organisation) with `ref`, where the schema puts it (before activity-status)."""

    def edit(activity: etree._Element) -> None:
        status = activity.find("activity-status")
        assert status is not None
        status.addprevious(etree.Element("other-identifier", ref=ref, type=kind))

    return edit


def combined(*edits: Edit) -> Edit:
    """One edit making each of `edits` in turn."""

    def edit(activity: etree._Element) -> None:
        for each in edits:
            each(activity)

    return edit


def every_page(api: Api, key: str, path: str = "/api/v1/activities", name: str = "activities",
               **params: Any) -> list[dict[str, Any]]:
    """The rows of every page of a keyset-paged list, following `next_cursor`."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        asked = {**params, **({"cursor": cursor} if cursor else {})}
        answer = api.request("GET", path, key=key, params=asked)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found += page[name]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def identifiers(rows: list[dict[str, Any]]) -> list[str]:
    """The `iati_identifier` of each row."""
    return [row["iati_identifier"] for row in rows]
