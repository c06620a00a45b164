"""The demo: real Ecuador activities shipped with the package (`service/demo/`, sources and
licences in its SOURCES.md), loaded into an empty store as their publishers would push
them, so that a new installation shows real data at once."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from lxml import etree
from sqlalchemy import Engine, func
from sqlmodel import select

from service.db import session_scope
from service.errors import DomainError
from service.models import Activity, OrganisationRole
from service.services.organisations import find_organisation, refs_of, register_organisation
from service.services.push import Publisher, PushOptions, ReceivedFile, push_file

DEMO = Path(__file__).resolve().parents[1] / "demo"
# The files are the package's own, but read as any pushed file is: no DTD, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class StoreNotEmptyError(DomainError):
    """The demo goes into an empty store only: never mixed with real pushes."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "demo.store-not-empty"
    title: ClassVar[str] = "The store already holds activities"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"The store holds {count} activities; the demo is loaded into an empty store "
            "only. Point DATABASE_URL at a new database (or a new SQLite file) to try it.",
            activities=count,
        )


@dataclass(frozen=True, slots=True)
class Loaded:
    """One publisher's activities of one demo file, pushed: who, from where, the counts."""

    file: str
    ref: str
    name: str
    created: int
    rejected: int


def demo_files() -> list[Path]:
    """The demo's IATI files, by name."""
    return sorted(DEMO.glob("*.xml"))


def load_demo(engine: Engine, *, on_loaded: Callable[[Loaded], None] | None = None
              ) -> list[Loaded]:
    """Register each demo publisher and push its activities, into an empty store."""
    with session_scope(engine) as session:
        count = session.exec(select(func.count()).select_from(Activity)).one()
    if count:
        raise StoreNotEmptyError(count)
    loaded: list[Loaded] = []
    with tempfile.TemporaryDirectory(prefix="iati-ec-demo-") as folder:
        for path in demo_files():
            for number, part in enumerate(publisher_parts(path)):
                file = path
                if part.body is not None:  # one publisher's share of a file of several
                    file = Path(folder) / f"{path.stem}-{number}.xml"
                    file.write_bytes(part.body)
                document = push_file(
                    engine, publisher=_publisher(engine, part), options=PushOptions(),
                    received=ReceivedFile.of_path(file), max_bytes=file.stat().st_size + 1,
                )
                done = Loaded(path.name, part.ref, part.name, document.counts.created,
                              document.counts.rejected)
                loaded.append(done)
                if on_loaded is not None:
                    on_loaded(done)
    return loaded


@dataclass(frozen=True, slots=True)
class PublisherPart:
    """One reporting organisation's activities in a file: its ref, name and type, and the
    activities as a file's bytes (None: the whole file, which has no other publisher)."""

    ref: str
    name: str
    type: str | None
    body: bytes | None


def publisher_parts(path: Path) -> Iterator[PublisherPart]:
    """The file's activities by reporting organisation, in the order they first appear."""
    root = etree.parse(str(path), _PARSER).getroot()
    groups: dict[str, list[etree._Element]] = {}
    for activity in root.iterfind("iati-activity"):
        ref = str(activity.xpath("string(reporting-org/@ref)"))
        groups.setdefault(ref, []).append(activity)
    for ref, activities in groups.items():
        reporting = activities[0].find("reporting-org")
        assert reporting is not None
        name = (reporting.findtext("narrative") or "").strip() or ref
        body = None
        if len(groups) > 1:
            copy = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
            copy.extend(activities)
            body = etree.tostring(copy, xml_declaration=True, encoding="utf-8")
        yield PublisherPart(ref, name, reporting.get("type"), body)


def _publisher(engine: Engine, part: PublisherPart) -> Publisher:
    """The organisation `part.ref` (registered as a donor if new), as a publisher."""
    with session_scope(engine, write=True) as session:
        organisation = find_organisation(session, part.ref) or register_organisation(
            session, refs=[part.ref], name=part.name, type=part.type,
            roles=[OrganisationRole.donor],
        )
        session.flush()
        assert organisation.id is not None
        refs = frozenset(refs_of(session, [organisation.id])[organisation.id])
    return Publisher(organisation_id=organisation.id, refs=refs)
