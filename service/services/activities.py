"""Stored activities read back (model, IATI XML, versions) and deleted (as tombstones)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from iati.elements.activity import Activity as IatiActivity
from iati.elements.classification import CountryBudgetItems
from iati.writer import to_bytes
from service.db import session_scope
from service.errors import DomainError
from service.identifiers import identifier_key, shown, within_limit
from service.logs import current_request_id
from service.models import Activity, ActivityVersion, Outcome, Push, PushStatus, utcnow
from service.services.push.changes import ChangeSummary
from service.services.push.reading import model_of
from service.services.push.records import record_outcome
from service.services.push.run import Publisher
from service.services.push.storage import locked_activity, tombstone


class ActivityNotFoundError(DomainError):
    """No activity has this identifier."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "activity.not-found"
    title: ClassVar[str] = "Unknown activity"

    def __init__(self, identifier: str) -> None:
        super().__init__(f"No activity {shown(identifier)} is stored.",
                         iati_identifier=shown(identifier))


class ActivityDeletedError(DomainError):
    """The activity was deleted; the problem carries its tombstone."""

    status: ClassVar[int] = 410
    code: ClassVar[str] = "activity.deleted"
    title: ClassVar[str] = "Activity deleted"

    def __init__(self, activity: Activity) -> None:
        assert activity.deleted_at is not None
        super().__init__(
            f"Activity {activity.iati_identifier} was deleted at "
            f"{activity.deleted_at.isoformat()}; its versions remain readable.",
            iati_identifier=activity.iati_identifier, version=activity.version,
            deleted_at=activity.deleted_at.isoformat(), push_id=activity.last_push_id,
        )


class NotYourActivityError(DomainError):
    """Only the publishing organisation may change an activity."""

    status: ClassVar[int] = 403
    code: ClassVar[str] = "activity.not-yours"
    title: ClassVar[str] = "Activity of another organisation"


class VersionNotFoundError(DomainError):
    """The activity has no such version, or that version has no XML (a deletion)."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "activity.version-not-found"
    title: ClassVar[str] = "Unknown version"


@dataclass(frozen=True, slots=True)
class StoredActivity:
    """The current version of a live activity: its model, version and content hash."""

    model: IatiActivity
    version: int
    content_hash: str
    updated_at: datetime
    activity_id: int


class VersionPublic(BaseModel):
    """One version of an activity: who pushed it, its hash, and what it changed."""

    version: int
    push_id: str | None
    content_hash: str | None
    deleted: bool
    created_at: datetime
    summary: ChangeSummary


def live_activity(session: Session, identifier: str) -> Activity:
    """The stored row of activity `identifier`; 404 if unknown, 410 if deleted."""
    activity = find_activity(session, identifier)
    if activity.deleted_at is not None:
        raise ActivityDeletedError(activity)
    return activity


def stored_activity(session: Session, identifier: str) -> StoredActivity:
    """The activity `identifier` as stored now; 404 if unknown, 410 if deleted."""
    activity = live_activity(session, identifier)
    assert activity.id is not None
    return StoredActivity(
        model=model_of(activity.document), version=activity.version,
        content_hash=activity.content_hash, updated_at=activity.updated_at,
        activity_id=activity.id,
    )


def activity_xml(
    stored: StoredActivity, *, country_budget_items: CountryBudgetItems | None = None
) -> bytes:
    """An IATI 2.03 activity file holding the stored activity, its country-budget-items
    replaced by `country_budget_items` when given."""
    model = stored.model
    if country_budget_items is not None:
        model = model.model_copy(update={"country_budget_items": country_budget_items})
    return to_bytes([model])


def list_versions(session: Session, identifier: str) -> list[VersionPublic]:
    """Every version of the activity (deleted ones too), oldest first."""
    activity = find_activity(session, identifier)
    rows = session.exec(
        select(ActivityVersion)
        .where(ActivityVersion.activity_id == activity.id)
        .order_by(col(ActivityVersion.version))
    ).all()
    return [
        VersionPublic(
            version=row.version, push_id=row.push_id, content_hash=row.content_hash,
            deleted=row.deleted, created_at=row.created_at,
            summary=ChangeSummary.model_validate(row.summary),
        )
        for row in rows
    ]


def version_xml(
    session: Session, identifier: str, version: int, *, organisation_id: int | None = None
) -> str:
    """The XML of version `version` exactly as it was received; with `organisation_id`,
    only of that organisation's activity (another's is not found)."""
    activity = find_activity(session, identifier)
    if organisation_id is not None and activity.organisation_id != organisation_id:
        raise ActivityNotFoundError(identifier)
    row = session.exec(
        select(ActivityVersion).where(
            ActivityVersion.activity_id == activity.id, ActivityVersion.version == version
        )
    ).first()
    if row is None or row.received_xml is None:
        what = "is a deletion" if row is not None else "does not exist"
        raise VersionNotFoundError(
            f"Version {version} of {identifier} {what}; it has no XML.",
            iati_identifier=identifier, version=version,
        )
    return row.received_xml


def delete_activity(engine: Engine, *, identifier: str, publisher: Publisher) -> None:
    """Mark the publisher's activity deleted (a tombstone and a push record saying so).

    Deleting an activity already deleted changes nothing.
    """
    delete_activities(engine, [identifier], publisher=publisher, strict=True)


def delete_activities(
    engine: Engine, identifiers: Iterable[str], *, publisher: Publisher, strict: bool = False
) -> list[str]:
    """Mark the publisher's live activities among `identifiers` deleted, in one transaction
    and one push record; those deleted. Unless `strict`, an identifier that is unknown,
    already deleted or another organisation's is passed over; with it, the first two raise
    (`ActivityNotFoundError`, `NotYourActivityError`)."""
    deleted: list[str] = []
    with session_scope(engine, write=True) as session:
        push: Push | None = None
        for identifier in dict.fromkeys(identifiers):
            activity = locked_activity(session, identifier)
            if activity is None:
                if strict:
                    raise ActivityNotFoundError(identifier)
                continue
            if activity.organisation_id != publisher.organisation_id:
                if strict:
                    raise NotYourActivityError(
                        f"{activity.iati_identifier} is published by another organisation; "
                        "only it may delete it.", iati_identifier=activity.iati_identifier,
                    )
                continue
            if activity.deleted_at is not None:
                continue
            if push is None:
                push = Push(
                    organisation_id=publisher.organisation_id,
                    api_key_id=publisher.api_key_id, status=PushStatus.completed,
                    finished_at=utcnow(), request_id=current_request_id(),
                )
                session.add(push)
                session.flush()
            version = tombstone(session, activity, push_id=push.id)
            deleted.append(activity.iati_identifier)
            record_outcome(
                session, push.id, position=len(deleted), identifier=activity.iati_identifier,
                outcome=Outcome.deleted, version=version, findings=[], activity_id=activity.id,
            )
    return deleted


def find_activity(session: Session, identifier: str) -> Activity:
    """The stored activity `identifier`, in any spelling (compared in Unicode NFC); 404 if
    none, without asking the database about an identifier too long to be stored."""
    activity = None
    if within_limit(identifier):
        activity = session.exec(
            select(Activity).where(Activity.identifier_key == identifier_key(identifier))
        ).first()
    if activity is None:
        raise ActivityNotFoundError(identifier)
    return activity
