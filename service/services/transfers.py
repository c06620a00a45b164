"""The ministry's transfers of activities between organisations, and every transfer listed.

An admin transfers a stored activity, live or deleted, to another organisation: the row
and its versions become that organisation's, the identifier itself is registered as that
organisation's prefix (the longest there can be, so the decision stands above any prefix
registered before or after; see `service.services.push.ownership`), and the transfer is
recorded with who, when, why and the evidence: a push the admin cites (a refusal that
quotes a ``B1`` other-identifier, say) and the previous reporting organisations the stored
version names. The change feed logs it (kind ``transferred``), so what is kept per
activity and per organisation is brought up to date. Transferring an activity to the
organisation that holds it confirms it there, above the prefixes.

Pushes record the other kind of transfer, ``prefix``: the owner of a prefix taking over
an activity another organisation held under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy import Table
from sqlmodel import Session, col, select

from service.errors import DomainError
from service.identifiers import identifier_key, shown
from service.models import (
    ActivityTransfer,
    IdentifierPrefix,
    Organisation,
    PrefixSource,
    Push,
    PushActivity,
    TransferKind,
)
from service.readmodel.clock import record as record_event
from service.services.activities import ActivityNotFoundError, find_activity
from service.services.changes import log_change
from service.services.prefixes import Decider, PrefixTakenError, register_prefix, registered
from service.services.push.ownership import previous_reporting_orgs
from service.services.push.storage import locked_activity

PREFIX: Table = IdentifierPrefix.__table__  # type: ignore[attr-defined]
TRANSFERRED = "transferred"  # the change log's kind for a transfer


class TransferIn(BaseModel):
    """A transfer to decide: to whom, why, and the push it cites as evidence (if any)."""

    to: str = Field(description="Identifier (or registry id) of the organisation it goes to")
    reason: str = Field(min_length=3, description="Why: the evidence checked, a source")
    evidence_push: str | None = Field(
        default=None, max_length=36,
        description="Id of a push whose outcome for this activity is evidence (a refusal "
                    "quoting a B1 other-identifier, say)",
    )


class OrganisationShown(BaseModel):
    id: int
    name: str


class TransferPublic(BaseModel):
    """One transfer: the activity, from and to whom, by whom, when, why and on what evidence."""

    id: int
    iati_identifier: str
    version: int = Field(description="The activity's version when it changed hands")
    kind: TransferKind
    from_organisation: OrganisationShown
    to_organisation: OrganisationShown
    reason: str
    evidence: list[dict[str, Any]]
    push_id: str | None
    decided_by: str
    decided_at: datetime


class InvalidEvidenceError(DomainError):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "transfer.invalid-evidence"
    title: ClassVar[str] = "Not evidence about this activity"


def transfer_activity(
    session: Session, *, identifier: str, to: Organisation, reason: str,
    evidence_push: str | None, decider: Decider,
) -> TransferPublic:
    """Give the stored activity `identifier` (any spelling) to `to`, with its history."""
    assert to.id is not None
    activity = locked_activity(session, identifier)
    if activity is None or activity.id is None:
        raise ActivityNotFoundError(identifier)
    evidence = [] if evidence_push is None else [
        _cited(session, evidence_push, activity.iati_identifier)
    ]
    if previous := previous_reporting_orgs(activity.document):
        evidence.append({"kind": "previous-reporting-org", "refs": list(previous),
                         "version": activity.version})
    _give_identifier(session, activity.iati_identifier, to, reason=reason, decider=decider)
    record = ActivityTransfer(
        activity_id=activity.id, iati_identifier=activity.iati_identifier,
        from_organisation_id=activity.organisation_id, to_organisation_id=to.id,
        version=activity.version, kind=TransferKind.ministry, reason=reason,
        evidence=evidence, decided_by=decider.by, decided_by_key_id=decider.key_id,
    )
    session.add(record)
    if activity.organisation_id != to.id:
        activity.organisation_id = to.id
        session.add(activity)
        session.flush()
        log_change(
            session.connection(), activity_id=activity.id,
            iati_identifier=activity.iati_identifier,
            reporting_org_ref=activity.reporting_org_ref, version=activity.version,
            kind=TRANSFERRED, push_id=None,
        )
        record_event(session.connection(), "transfer", activities=[activity.id])
    session.flush()
    return _public(session, record)


def transfers(session: Session, identifier: str) -> list[TransferPublic]:
    """Every transfer of the stored activity `identifier` (any spelling), oldest first."""
    activity = find_activity(session, identifier)
    rows = session.exec(
        select(ActivityTransfer).where(ActivityTransfer.activity_id == activity.id)
        .order_by(col(ActivityTransfer.decided_at), col(ActivityTransfer.id))
    ).all()
    return [_public(session, row) for row in rows]


def _give_identifier(
    session: Session, identifier: str, to: Organisation, *, reason: str, decider: Decider
) -> None:
    """Register `identifier` itself as a prefix of `to`, taking it from whoever a transfer
    gave it before; `PrefixTakenError` if it is a prefix registered otherwise."""
    taken = registered(session, identifier)
    if taken is not None and taken.source is not PrefixSource.transfer:
        raise PrefixTakenError(taken)
    if taken is not None:
        session.connection().execute(
            PREFIX.delete().where(PREFIX.c.prefix_key == identifier_key(identifier))
        )
    register_prefix(session, organisation=to, prefix=identifier, reason=reason,
                    decider=decider, source=PrefixSource.transfer)


def _cited(session: Session, push_id: str, identifier: str) -> dict[str, Any]:
    """The outcome of `identifier` in the push `push_id`, as evidence."""
    key = identifier_key(identifier)
    push = session.get(Push, push_id)
    named = [] if push is None else session.exec(
        select(PushActivity.id, PushActivity.iati_identifier)
        .where(PushActivity.push_id == push_id, col(PushActivity.iati_identifier).is_not(None))
    ).all()
    found = next((row for row, spelt in named if identifier_key(spelt or "") == key), None)
    cited = None if found is None else session.get(PushActivity, found)
    if push is None or cited is None:
        raise InvalidEvidenceError(
            f"Push {shown(push_id)} has no outcome for {identifier}: cite a push of this "
            "activity.", push_id=shown(push_id),
        )
    organisation = session.get(Organisation, push.organisation_id)
    return {
        "kind": "push", "push_id": push_id, "received_at": push.received_at.isoformat(),
        "organisation": None if organisation is None else organisation.name,
        "outcome": cited.outcome, "findings": [
            {"code": f.get("code"), "message": f.get("message")}
            for f in cited.findings or [] if f.get("stage") == "push"
        ],
    }


def _public(session: Session, record: ActivityTransfer) -> TransferPublic:
    assert record.id is not None
    shown_as = {
        organisation_id: OrganisationShown(id=organisation_id,
                                           name=session.get_one(Organisation, organisation_id).name)
        for organisation_id in (record.from_organisation_id, record.to_organisation_id)
    }
    return TransferPublic(
        id=record.id, iati_identifier=record.iati_identifier, version=record.version,
        kind=TransferKind(record.kind), from_organisation=shown_as[record.from_organisation_id],
        to_organisation=shown_as[record.to_organisation_id], reason=record.reason,
        evidence=record.evidence, push_id=record.push_id, decided_by=record.decided_by,
        decided_at=record.decided_at,
    )
