"""Push records: started, advanced per activity, finished; shown as the push document."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy import Engine, Table, insert, update
from sqlmodel import Session, col, select

from service.db import session_scope
from service.errors import DomainError
from service.identifiers import shown, within_limit
from service.models import Outcome, Push, PushActivity, PushMode, PushScope, PushStatus, utcnow
from service.readmodel.clock import record as record_event

_PUSHES: Table = Push.__table__  # type: ignore[attr-defined]
_OUTCOMES: Table = PushActivity.__table__  # type: ignore[attr-defined]
_INSERT_OUTCOMES = insert(_OUTCOMES)  # built once: compiled once


class FindingPublic(BaseModel):
    """One finding: the validator's (schema, codelist, ruleset …) or the push service's."""

    code: str
    severity: str
    message: str
    stage: str
    xpath: str | None = None
    line: int | None = None
    activity: str | None = None
    actual: str | None = None
    category: str | None = None


class OutcomeCounts(BaseModel):
    """How many activities had each outcome."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    deleted: int = 0


class ActivityOutcome(BaseModel):
    """What the push did to one activity (`position` in the file, from 1; deletions last)."""

    position: int
    iati_identifier: str | None
    outcome: Outcome
    version: int | None = Field(description="The activity's version after the push")
    findings: list[FindingPublic]


class PushPublic(BaseModel):
    """A push: who sent which file, how far it got, and what became of each activity."""

    id: str
    status: PushStatus
    mode: PushMode
    scope: PushScope
    organisation_id: int
    received_at: datetime
    finished_at: datetime | None
    request_id: str | None = Field(
        default=None, description="The X-Request-ID of the request that made it (null from "
        "the command line), as in the service's log lines")
    sha256: str | None
    size: int | None = Field(description="Bytes in the file")
    bytes_read: int = Field(description="Bytes processed so far (progress while running)")
    activities_seen: int
    counts: OutcomeCounts
    findings: list[FindingPublic] = Field(description="Findings about the file as a whole")
    activities: list[ActivityOutcome]


class PushRehearsal(BaseModel):
    """What a push of the file would do now, decided as the push decides, storing nothing."""

    mode: PushMode
    scope: PushScope
    counts: OutcomeCounts
    findings: list[FindingPublic] = Field(description="Findings about the file as a whole")
    activities: list[ActivityOutcome]

    @classmethod
    def of(
        cls, records: list[OutcomeRecord], findings: list[dict[str, Any]], *,
        mode: PushMode, scope: PushScope,
    ) -> PushRehearsal:
        counts = OutcomeCounts()
        for record in records:
            setattr(counts, record.outcome.value, getattr(counts, record.outcome.value) + 1)
        return cls(
            mode=mode, scope=scope, counts=counts,
            findings=[FindingPublic.model_validate(f) for f in findings],
            activities=[
                _activity_outcome(r.position, r.identifier, r.outcome, r.version, r.findings)
                for r in records
            ],
        )


class PushNotFoundError(DomainError):
    """No push with this id is visible to the caller."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "push.not-found"
    title: ClassVar[str] = "Unknown push"


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One activity's outcome, as a push records it (`position` in the file, from 1)."""

    position: int
    identifier: str | None
    outcome: Outcome
    version: int | None
    findings: list[dict[str, Any]]
    activity_id: int | None = None  # the activity this outcome wrote, if it wrote one


def record_outcome(
    session: Session, push_id: str, *, position: int, identifier: str | None,
    outcome: Outcome, version: int | None, findings: list[dict[str, Any]],
    bytes_read: int | None = None, activity_id: int | None = None,
) -> None:
    """Add one activity's outcome to the push and count it (in the caller's transaction)."""
    record = OutcomeRecord(position, identifier, outcome, version, findings, activity_id)
    record_outcomes(session, push_id, [record], bytes_read=bytes_read)


def record_outcomes(
    session: Session, push_id: str, records: list[OutcomeRecord], *,
    bytes_read: int | None = None,
) -> None:
    """Add these outcomes to the push and count them, in one INSERT and one UPDATE, and
    move the clock (an outcome is read by the kept answers; a refusal is one): the last
    write of each of a push's transactions.

    An identifier longer than any activity may have (refused, `IDENTIFIER_LIMIT`) is
    recorded cut short, as its refusal quotes it: the column is indexed.
    """
    if not records:
        return
    connection = session.connection()
    connection.execute(_INSERT_OUTCOMES, [
        {
            "push_id": push_id, "position": record.position,
            "iati_identifier": record.identifier if record.identifier is None
            or within_limit(record.identifier) else shown(record.identifier),
            "outcome": record.outcome,
            "version": record.version, "findings": record.findings,
        }
        for record in records
    ])
    counts = Counter(record.outcome for record in records)
    values: dict[Any, Any] = {
        _PUSHES.c[outcome.value]: _PUSHES.c[outcome.value] + count
        for outcome, count in counts.items()
    }
    if seen := len(records) - counts[Outcome.deleted]:
        values[_PUSHES.c.activities_seen] = _PUSHES.c.activities_seen + seen
    if bytes_read is not None:
        values[_PUSHES.c.bytes_read] = bytes_read
    connection.execute(update(_PUSHES).where(_PUSHES.c.id == push_id).values(values))
    record_event(connection, "push", details={"push": push_id}, activities=[
        outcome.activity_id for outcome in records if outcome.activity_id is not None])


def finish_push(
    engine: Engine, push_id: str, *, status: PushStatus, findings: list[dict[str, Any]],
    bytes_read: int | None = None,
) -> None:
    """Close the push record with its final status and file-level findings."""
    values: dict[Any, Any] = {
        Push.status: status, Push.finished_at: utcnow(), Push.findings: findings,
    }
    if bytes_read is not None:
        values[Push.bytes_read] = bytes_read
    with session_scope(engine, write=True) as session:
        session.execute(update(Push).where(col(Push.id) == push_id).values(values))


def push_document(session: Session, push_id: str) -> PushPublic:
    """The push `push_id` with every activity's outcome so far."""
    push = session.get(Push, push_id, populate_existing=True)
    if push is None:
        raise PushNotFoundError(f"There is no push {push_id}.", push_id=push_id)
    outcomes = session.exec(
        select(PushActivity)
        .where(PushActivity.push_id == push_id)
        .order_by(col(PushActivity.position))
    ).all()
    return PushPublic(
        id=push.id, status=push.status, mode=push.mode, scope=push.scope,
        organisation_id=push.organisation_id, received_at=push.received_at,
        finished_at=push.finished_at, request_id=push.request_id, sha256=push.sha256,
        size=push.size_bytes,
        bytes_read=push.bytes_read, activities_seen=push.activities_seen,
        counts=OutcomeCounts(**{o.value: getattr(push, o.value) for o in Outcome}),
        findings=[FindingPublic.model_validate(f) for f in push.findings],
        activities=[
            _activity_outcome(row.position, row.iati_identifier, row.outcome, row.version,
                              row.findings)
            for row in outcomes
        ],
    )


def _activity_outcome(
    position: int, identifier: str | None, outcome: Outcome, version: int | None,
    findings: list[dict[str, Any]],
) -> ActivityOutcome:
    return ActivityOutcome(
        position=position, iati_identifier=identifier, outcome=outcome, version=version,
        findings=[FindingPublic.model_validate(f) for f in findings],
    )


def visible_push(
    session: Session, push_id: str, *, organisation_id: int, admin: bool
) -> PushPublic:
    """The push `push_id` if it is the organisation's own (any push for an admin)."""
    push = session.get(Push, push_id)
    if push is None or (push.organisation_id != organisation_id and not admin):
        raise PushNotFoundError(f"There is no push {push_id} of yours.", push_id=push_id)
    return push_document(session, push_id)
