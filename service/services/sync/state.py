"""What a sync remembers of each source (`sync_source`): read before a download, written after."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.db import session_scope
from service.models import (
    Organisation,
    Outcome,
    Push,
    PushActivity,
    PushStatus,
    SyncSource,
    SyncStatus,
    utcnow,
)
from service.services.sync.fetch import Validators


class SyncSourcePublic(BaseModel):
    """A source as `GET /api/v1/sync/sources` and `iati-ec sync --dry-run` show it."""

    url: str
    organisation_id: int
    organisation: str
    dataset: str | None
    status: SyncStatus | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    push_id: str | None
    error: str | None
    consecutive_failures: int
    checked_at: datetime | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of one sync of a source, to be remembered."""

    url: str
    organisation_id: int
    dataset: str | None
    status: SyncStatus
    validators: Validators | None = None  # of the file pushed or found unchanged
    sha256: str | None = None
    push_id: str | None = None
    error: str | None = None


def stored_sources(session: Session, urls: Iterable[str]) -> dict[str, SyncSource]:
    """The remembered state of each of `urls` that has been synced before."""
    wanted = list(urls)
    if not wanted:
        return {}
    rows = session.exec(select(SyncSource).where(col(SyncSource.url).in_(wanted))).all()
    return {row.url: row for row in rows}


def remember(engine: Engine, checked: Checked) -> None:
    """Write the outcome of a sync of `checked.url` (a new row the first time)."""
    now = utcnow()
    with session_scope(engine, write=True) as session:
        source = session.exec(
            select(SyncSource).where(SyncSource.url == checked.url).with_for_update()
        ).first() or SyncSource(url=checked.url, organisation_id=checked.organisation_id)
        source.organisation_id = checked.organisation_id
        source.dataset = checked.dataset or source.dataset
        source.status, source.checked_at = checked.status, now
        source.error = checked.error
        if checked.push_id is not None:
            source.push_id = checked.push_id
        if checked.status is SyncStatus.failed:
            source.consecutive_failures += 1
        else:
            source.consecutive_failures = 0
        if checked.status is SyncStatus.pushed:
            source.changed_at = now
        if checked.validators is not None:
            source.etag = checked.validators.etag
            source.last_modified = checked.validators.last_modified
        if checked.sha256 is not None:
            source.sha256 = checked.sha256
        session.add(source)


def forget_validators(engine: Engine, url: str) -> None:
    """Drop what identifies the last file of `url`, so that the next sync pushes it anew
    (its last push did not complete)."""
    with session_scope(engine, write=True) as session:
        source = session.exec(select(SyncSource).where(SyncSource.url == url)).first()
        if source is not None:
            source.etag = source.last_modified = source.sha256 = None
            session.add(source)


def retire_others(engine: Engine, organisation_id: int, urls: Iterable[str]) -> None:
    """Forget the validators of the organisation's sources other than `urls` (dropped from
    its datasets, their activities just deleted), so that a source added back is pushed
    whole rather than found not modified."""
    current = list(urls)
    with session_scope(engine, write=True) as session:
        for source in session.exec(select(SyncSource).where(
            SyncSource.organisation_id == organisation_id, col(SyncSource.url).not_in(current)
        )).all():
            source.etag = source.last_modified = source.sha256 = None
            session.add(source)


@dataclass(frozen=True, slots=True)
class Vanished:
    """A publisher none of whose remembered sources the sources file or its listings name
    any longer: `urls`, found gone by `since` (when the last of them left)."""

    organisation_id: int
    name: str
    urls: tuple[str, ...]
    since: datetime


def mark_gone(engine: Engine, *, listed: set[str], organisation_id: int | None = None
              ) -> list[Vanished]:
    """Mark `gone` each remembered source (of `organisation_id` only, if given) that is not
    in `listed`, and forget its failures; the publishers whose sources are all gone now.
    A source found gone earlier keeps the time it was first found so."""
    now = utcnow()
    statement = select(SyncSource, Organisation.name).join(
        Organisation, col(Organisation.id) == SyncSource.organisation_id
    ).with_for_update(of=SyncSource)
    if organisation_id is not None:
        statement = statement.where(SyncSource.organisation_id == organisation_id)
    sources: dict[int, list[SyncSource]] = defaultdict(list)
    names: dict[int, str] = {}
    with session_scope(engine, write=True) as session:
        for source, name in session.exec(statement).all():
            sources[source.organisation_id].append(source)
            names[source.organisation_id] = name
            if source.url in listed or source.status is SyncStatus.gone:
                continue
            source.status, source.checked_at = SyncStatus.gone, now
            source.error, source.consecutive_failures = None, 0
            session.add(source)
        return [
            Vanished(organisation, names[organisation], tuple(sorted(s.url for s in rows)),
                     max(s.checked_at or now for s in rows))
            for organisation, rows in sorted(sources.items())
            if all(s.status is SyncStatus.gone for s in rows)
        ]


def retire_sources(engine: Engine, urls: Iterable[str]) -> set[str]:
    """The activities the last complete pushes of `urls` held (a source whose last push is
    not known to be complete adds none), and those sources' validators forgotten, so that
    a source that comes back is pushed whole."""
    held: set[str] = set()
    with session_scope(engine, write=True) as session:
        for source in stored_sources(session, urls).values():
            held |= held_identifiers(session, source.push_id) or frozenset()
            source.etag = source.last_modified = source.sha256 = None
            session.add(source)
    return held


def held_identifiers(session: Session, push_id: str | None) -> frozenset[str] | None:
    """The activities the file of push `push_id` held (whatever became of each); None if
    that push did not complete, so that what the file held is not known."""
    if push_id is None:
        return None
    push = session.get(Push, push_id)
    if push is None or push.status is not PushStatus.completed:
        return None
    rows = session.exec(
        select(PushActivity.iati_identifier).where(
            PushActivity.push_id == push_id,
            col(PushActivity.outcome) != Outcome.deleted,
            col(PushActivity.iati_identifier).is_not(None),
        )
    ).all()
    return frozenset(identifier for identifier in rows if identifier)


def list_sources(session: Session, *, status: SyncStatus | None = None
                 ) -> list[SyncSourcePublic]:
    """Every remembered source (with the last status `status` if given), by organisation
    name and URL."""
    statement = select(SyncSource, Organisation.name).join(
        Organisation, col(Organisation.id) == SyncSource.organisation_id
    ).order_by(col(Organisation.name), col(SyncSource.url))
    if status is not None:
        statement = statement.where(SyncSource.status == status)
    return [
        SyncSourcePublic(organisation=name, **source.model_dump())
        for source, name in session.exec(statement).all()
    ]
