"""Helpers of the push and activity tests: a committed database cleaned per test, publishers
and variants of the real sample files (no tests here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from lxml import etree
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, select

from service.db import session_scope
from service.models import Activity, Organisation, OrganisationRef
from service.services.push import Publisher, PushOptions, PushPublic, ReceivedFile, push_file
from tests.conftest import sample

USAID = "US-GOV-1"
USAID_EC = "real/usaid-ec.xml"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def clean(engine: Engine) -> None:
    """Remove every row the push tests committed (they commit, so nothing rolls back)."""
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
        # The change counter's one row, as the migration makes it.
        connection.execute(text("INSERT INTO change_counter (id, value) VALUES (1, 0)"))


def clean_engine(engine: Engine) -> Iterator[Engine]:
    """`engine`, empty before the test and again after it."""
    clean(engine)
    yield engine
    clean(engine)


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
