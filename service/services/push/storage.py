"""Store one pushed activity, or its tombstone, inside the caller's transaction.

The activity's row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
write sessions already hold the database's write lock), so two pushes of the same
activity take turns and the second compares with what the first stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from iati.elements.activity import Activity as IatiActivity
from service.models import QUERY_TABLES, Activity, ActivityVersion, Outcome, utcnow
from service.models.types import as_utc
from service.projection import ActivityRows, activity_columns, rows_for
from service.services.organisations import link_partners, partner_key
from service.services.push.changes import ChangeKind, summarise
from service.services.push.findings import PushCode, push_finding, reported
from service.services.push.reading import Incoming


@dataclass(slots=True)
class Applied:
    """What storing one activity did: its outcome, its version now, and its findings."""

    outcome: Outcome
    version: int | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


def locked_activity(session: Session, identifier: str) -> Activity | None:
    """The stored activity `identifier`, locked until the transaction ends."""
    statement = (
        select(Activity)
        .where(Activity.iati_identifier == identifier)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def store(
    session: Session, incoming: Incoming, *, organisation_id: int, push_id: str,
    iati_version: str | None,
) -> Applied:
    """Create, update or leave the stored activity as `incoming` says (not committed)."""
    identifier = incoming.identifier
    assert identifier
    kept = reported(incoming.findings)
    stored = locked_activity(session, identifier)
    if stored is not None and stored.organisation_id != organisation_id:
        refusal = push_finding(
            PushCode.not_your_activity,
            f"{identifier} is published by another organisation; only it may change it.",
            activity=identifier,
        )
        return Applied(Outcome.rejected, None, [*kept, refusal])
    if stored is not None and stored.deleted_at is None:
        if _older(incoming, stored):
            return Applied(Outcome.stale, stored.version, [*kept, _stale(incoming, stored)])
        if stored.content_hash == incoming.content_hash:
            return Applied(Outcome.unchanged, stored.version, kept)
    activity = stored or Activity(
        iati_identifier=identifier, organisation_id=organisation_id,
        content_hash=incoming.content_hash,
    )
    kind = _kind(stored)
    before = None if stored is None or stored.deleted_at is not None else stored.document
    _fill(activity, incoming, kept, push_id=push_id, iati_version=iati_version)
    session.add(activity)
    session.flush()
    assert activity.id is not None
    session.add(ActivityVersion(
        activity_id=activity.id, version=activity.version, push_id=push_id,
        content_hash=incoming.content_hash, received_xml=incoming.received_xml,
        summary=summarise(kind, before, incoming.document).model_dump(mode="json"),
    ))
    _replace_rows(session, activity.id, rows_for(incoming.model), incoming.model)
    outcome = Outcome.updated if kind is ChangeKind.updated else Outcome.created
    return Applied(outcome, activity.version, kept)


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
    _replace_rows(session, activity.id, None)
    session.flush()
    return activity.version


def _kind(stored: Activity | None) -> ChangeKind:
    if stored is None:
        return ChangeKind.created
    return ChangeKind.restored if stored.deleted_at is not None else ChangeKind.updated


def _older(incoming: Incoming, stored: Activity) -> bool:
    moment = incoming.model.last_updated_datetime
    if moment is None or stored.last_updated_datetime is None:
        return False
    return as_utc(moment) < stored.last_updated_datetime


def _stale(incoming: Incoming, stored: Activity) -> dict[str, Any]:
    moment = incoming.model.last_updated_datetime
    assert moment is not None
    assert stored.last_updated_datetime is not None
    return push_finding(
        PushCode.stale,
        f"last-updated-datetime {moment.isoformat()} is older than the stored version's "
        f"({stored.last_updated_datetime.isoformat()}); this activity was not applied.",
        activity=incoming.identifier, actual=moment.isoformat(),
    )


def _fill(
    activity: Activity, incoming: Incoming, findings: list[dict[str, Any]], *, push_id: str,
    iati_version: str | None,
) -> None:
    columns = activity_columns(incoming.model)
    if activity.id is not None:
        activity.version += 1
    activity.reporting_org_ref = columns["reporting_org_ref"]
    activity.last_updated_datetime = columns["last_updated_datetime"]
    activity.title = columns["title"]
    activity.default_currency = columns["default_currency"]
    activity.activity_status = columns["activity_status"]
    activity.hierarchy = columns["hierarchy"]
    activity.humanitarian = columns["humanitarian"]
    activity.content_hash = incoming.content_hash
    activity.iati_version = iati_version
    activity.document = incoming.document
    activity.findings = findings
    activity.deleted_at = None
    activity.last_push_id = push_id
    activity.updated_at = utcnow()


def _replace_rows(
    session: Session, activity_id: int, rows: ActivityRows | None,
    model: IatiActivity | None = None,
) -> None:
    for table in QUERY_TABLES:
        column = col(table.activity_id)  # type: ignore[attr-defined]
        session.execute(delete(table).where(column == activity_id))
    if rows is None or model is None:
        return
    rows.attach(activity_id)
    _link_partners(session, rows, model)
    session.add_all(list(rows.all()))
    session.flush()


def _link_partners(session: Session, rows: ActivityRows, model: IatiActivity) -> None:
    """Register or link the participating organisations, with their names as published."""
    participants = [
        (org.ref, org.type, org.role, [{"text": n.text, "lang": n.lang} for n in org.narratives])
        for org in model.participating_orgs
    ]
    if not participants:
        return
    linked = link_partners(session, participants=participants)
    for row, (ref, _type, _role, names) in zip(
        rows.participating_orgs, participants, strict=True
    ):
        key = partner_key(ref, names)
        row.organisation_id = None if key is None else linked.get(key)
