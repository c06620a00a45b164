"""Store one pushed activity, or its tombstone, inside the caller's transaction.

Activities are found by their identifier's key (its Unicode NFC form, see
`service.identifiers`): another spelling of a stored identifier is that activity. The
activity's row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
write sessions already hold the database's write lock), so two pushes of the same
activity take turns and the second compares with what the first stored. That first
query reads only what decides the outcome, so an unchanged or stale activity costs no
more. A new version is written with SQLAlchemy Core: the activity's row, its version,
then its query-table rows (see `service.services.push.rows`) and its Ecuador budget view
(see `service.services.budget.storage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlmodel
from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlmodel import Session

from service.identifiers import identifier_key, within_limit
from service.models import Activity, ActivityVersion, Outcome, utcnow
from service.models.types import as_utc
from service.projection import activity_columns, query_rows
from service.services.budget.storage import drop_views, replace_views
from service.services.changes import log_change
from service.services.push.changes import ChangeKind, summarise
from service.services.push.findings import PushCode, push_finding
from service.services.push.ownership import (
    Claim,
    Publisher,
    claim_of,
    holder,
    ownership_refusal,
    record_takeover,
)
from service.services.push.partners import PartnerLinks
from service.services.push.reading import Incoming
from service.services.push.rows import delete_rows, indexable, indexed_text, insert_rows

ACTIVITY: Table = Activity.__table__  # type: ignore[attr-defined]
VERSION: Table = ActivityVersion.__table__  # type: ignore[attr-defined]
_STATE = (  # the columns of `StoredState`, in its order
    ACTIVITY.c.id, ACTIVITY.c.organisation_id, ACTIVITY.c.version, ACTIVITY.c.content_hash,
    ACTIVITY.c.last_updated_datetime, ACTIVITY.c.deleted_at,
)
# Built once, so that SQLAlchemy compiles each once per process.
_LOCK = select(*_STATE).where(ACTIVITY.c.identifier_key == bindparam("key")).with_for_update()
_DOCUMENT = select(ACTIVITY.c.document).where(ACTIVITY.c.id == bindparam("activity"))
_INSERT_ACTIVITY = insert(ACTIVITY).returning(ACTIVITY.c.id)
_UPDATE_ACTIVITY = update(ACTIVITY).where(ACTIVITY.c.id == bindparam("stored"))
_INSERT_VERSION = insert(VERSION)
_ACTIVITY_INDEXED = indexed_text(ACTIVITY)


@dataclass(slots=True)
class Applied:
    """What storing one activity did: its outcome, its version now, and its findings."""

    outcome: Outcome
    version: int | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    activity_id: int | None = None  # the activity written, if one was


@dataclass(frozen=True, slots=True)
class StoredState:
    """What decides a push's outcome about a stored activity (from its row, locked)."""

    id: int
    organisation_id: int
    version: int
    content_hash: str
    last_updated_datetime: datetime | None
    deleted_at: datetime | None


def locked_activity(session: Session, identifier: str) -> Activity | None:
    """The stored activity `identifier` (any spelling), locked until the transaction ends;
    None for an identifier too long to be stored."""
    if not within_limit(identifier):
        return None
    statement = (
        sqlmodel.select(Activity)
        .where(Activity.identifier_key == identifier_key(identifier))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def store(
    session: Session, incoming: Incoming, *, publisher: Publisher, push_id: str,
    iati_version: str | None, partners: PartnerLinks, absent: bool = False,
) -> Applied:
    """Create, update or leave the stored activity as `incoming` says (not committed).

    With `absent` (the activity was not stored a moment ago) it is inserted without being
    looked up: if a concurrent push has inserted it since, its unique identifier raises
    `IntegrityError`, and the caller tries again without `absent`. The prefixes are read
    after the row is locked, so a transfer committed meanwhile is seen.
    """
    assert incoming.identifier
    connection = session.connection()
    key = identifier_key(incoming.identifier)
    stored = None if absent else _locked(connection, key)
    claim = claim_of(connection, key)
    settled = verdict(connection, stored, incoming, publisher=publisher, claim=claim)
    if settled is not None:
        return settled
    kind = _kind(stored)
    before = _document(connection, stored.id) if stored and kind is ChangeKind.updated else None
    kept = incoming.kept
    notices: list[dict[str, Any]] = []
    taken = stored is not None and stored.organisation_id != publisher.organisation_id
    held = holder(connection, stored.id, stored.organisation_id) if stored and taken else None
    activity_id, version = _write_activity(
        connection, stored, incoming, kept, organisation_id=publisher.organisation_id,
        push_id=push_id, iati_version=iati_version,
    )
    if held is not None:
        assert claim is not None
        notices.append(record_takeover(
            connection, activity_id=activity_id, identifier=incoming.identifier,
            version=version, held=held, claim=claim, publisher=publisher, push_id=push_id,
        ))
    connection.execute(_INSERT_VERSION, {
        "activity_id": activity_id, "version": version, "push_id": push_id,
        "content_hash": incoming.content_hash, "received_xml": incoming.received_xml,
        "summary": summarise(kind, before, incoming.document).model_dump(mode="json"),
        "deleted": False, "created_at": utcnow(),
    })
    if stored is not None:
        delete_rows(connection, activity_id)
    rows = query_rows(incoming.model)
    for row, organisation in zip(
        rows.participating_orgs, partners.link(session, incoming.model), strict=True
    ):
        row["organisation_id"] = organisation
    insert_rows(connection, activity_id, rows)
    replace_views(connection, activity_id, version, incoming.model)
    log_change(
        connection, activity_id=activity_id, iati_identifier=incoming.identifier,
        reporting_org_ref=incoming.reporting_org_ref, version=version, kind=kind.value,
        push_id=push_id,
    )
    outcome = Outcome.updated if kind is ChangeKind.updated else Outcome.created
    return Applied(outcome, version, [*kept, *notices], activity_id)


def verdict(
    connection: Connection, stored: StoredState | None, incoming: Incoming, *,
    publisher: Publisher, claim: Claim | None,
) -> Applied | None:
    """The outcome of `incoming` if it writes nothing (rejected as another organisation's,
    stale, unchanged); None if it is to be stored (taking it over, if another holds it).

    `claim` is the registered prefix covering its identifier, if any (see `ownership`)."""
    refusal = ownership_refusal(
        connection, incoming.identifier or "", incoming.previous_reporting_orgs,
        stored=stored, publisher=publisher, claim=claim,
    )
    if refusal is not None:
        return Applied(Outcome.rejected, None, [*incoming.kept, refusal])
    if stored is None or stored.organisation_id != publisher.organisation_id:
        return None
    kept = incoming.kept
    if stored.deleted_at is None:
        # The same content has the same last-updated-datetime: the hash decides first,
        # so that an activity assumed unchanged is never read.
        if stored.content_hash == incoming.content_hash:
            return Applied(Outcome.unchanged, stored.version, kept)
        if not incoming.checked:  # assumed unchanged, but changed since: to be read
            return None
        if _older(incoming, stored):
            return Applied(Outcome.stale, stored.version, [*kept, _stale(incoming, stored)])
    return None


@dataclass(frozen=True, slots=True)
class StoredHashes:
    """What tells, before any lock, that a pushed activity is its stored version."""

    received_hash: str | None
    content_hash: str
    findings: list[dict[str, Any]]


def unlocked_hashes(
    connection: Connection, keys: list[str], *, organisation_id: int
) -> dict[str, StoredHashes]:
    """The hashes and findings of each live activity of `keys` (identifier keys) that
    `organisation_id` publishes, read without locks: a hint, checked again under them."""
    if not keys:
        return {}
    columns = ACTIVITY.c
    statement = select(
        columns.identifier_key, columns.received_hash, columns.content_hash, columns.findings
    ).where(
        columns.identifier_key.in_(keys),
        columns.organisation_id == organisation_id,
        columns.deleted_at.is_(None),
    )
    return {row[0]: StoredHashes(*row[1:]) for row in connection.execute(statement)}


def locked_states(
    connection: Connection, keys: list[str], *, lock: bool = True
) -> dict[str, StoredState]:
    """The state of each stored activity of `keys` (identifier keys), locked until the
    transaction ends (unless `lock` is false: a rehearsal only reads).

    Rows are locked in key order, as every push locks several, so that two pushes never
    wait for each other's rows crosswise.
    """
    if not keys:
        return {}
    columns = ACTIVITY.c
    statement = (
        select(columns.identifier_key, *_STATE)
        .where(columns.identifier_key.in_(keys))
        .order_by(columns.identifier_key)
    )
    if lock:
        statement = statement.with_for_update()
    return {row[0]: StoredState(*row[1:]) for row in connection.execute(statement)}


def tombstone(session: Session, activity: Activity, *, push_id: str | None) -> int:
    """Mark `activity` deleted: a version saying so, and no rows in the query tables."""
    assert activity.id is not None
    activity.version += 1
    activity.deleted_at = utcnow()
    activity.last_push_id = push_id
    session.add(activity)
    session.add(ActivityVersion(
        activity_id=activity.id, version=activity.version, push_id=push_id, deleted=True,
        summary=summarise(ChangeKind.deleted, activity.document, None).model_dump(mode="json"),
    ))
    delete_rows(session.connection(), activity.id)
    drop_views(session.connection(), activity.id)
    session.flush()
    log_change(
        session.connection(), activity_id=activity.id, iati_identifier=activity.iati_identifier,
        reporting_org_ref=activity.reporting_org_ref, version=activity.version,
        kind=ChangeKind.deleted.value, push_id=push_id,
    )
    return activity.version


def _locked(connection: Connection, key: str) -> StoredState | None:
    found = connection.execute(_LOCK, {"key": key}).first()
    return None if found is None else StoredState(*found)


def _document(connection: Connection, activity_id: int) -> dict[str, Any] | None:
    document: dict[str, Any] | None = connection.execute(
        _DOCUMENT, {"activity": activity_id}
    ).scalar_one()
    return document


def _write_activity(
    connection: Connection, stored: StoredState | None, incoming: Incoming,
    findings: list[dict[str, Any]], *, organisation_id: int, push_id: str,
    iati_version: str | None,
) -> tuple[int, int]:
    """Insert the activity's row, or update the stored one: its id and version."""
    now = utcnow()
    values: dict[str, Any] = {
        **activity_columns(incoming.model),
        "content_hash": incoming.content_hash, "received_hash": incoming.received_hash,
        "iati_version": iati_version,
        "document": incoming.document, "findings": findings, "deleted_at": None,
        "last_push_id": push_id, "updated_at": now, "organisation_id": organisation_id,
    }
    indexable(values, _ACTIVITY_INDEXED)  # its identifier is within the limit (screened)
    if stored is None:
        values.update(version=1, created_at=now)
        return int(connection.execute(_INSERT_ACTIVITY, values).scalar_one()), 1
    version = stored.version + 1
    connection.execute(_UPDATE_ACTIVITY, {**values, "version": version, "stored": stored.id})
    return stored.id, version


def _kind(stored: StoredState | None) -> ChangeKind:
    if stored is None:
        return ChangeKind.created
    return ChangeKind.restored if stored.deleted_at is not None else ChangeKind.updated


def _older(incoming: Incoming, stored: StoredState) -> bool:
    moment = incoming.model.last_updated_datetime
    if moment is None or stored.last_updated_datetime is None:
        return False
    return as_utc(moment) < stored.last_updated_datetime


def _stale(incoming: Incoming, stored: StoredState) -> dict[str, Any]:
    moment = incoming.model.last_updated_datetime
    assert moment is not None
    assert stored.last_updated_datetime is not None
    return push_finding(
        PushCode.stale,
        f"last-updated-datetime {moment.isoformat()} is older than the stored version's "
        f"({stored.last_updated_datetime.isoformat()}); this activity was not applied.",
        activity=incoming.identifier, actual=moment.isoformat(),
    )
