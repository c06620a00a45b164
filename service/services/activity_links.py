"""The links of one activity: what it names, what names it, and the money both report.

Read from `activity_link` (see `service.links`) in both directions, so an implementer's
activity shows the funder's transactions that name it even when it names no one itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, select
from sqlmodel import Session

from service.models import LinkKind
from service.services.activities import live_activity
from service.services.push.storage import ACTIVITY
from service.services.traceability import INCOMING, LINK, OUTGOING, TRANSACTION, Stage


class ActivityRef(BaseModel):
    """Another activity by its identifier; `stored`: a live activity of iati-ec."""

    iati_identifier: str
    stored: bool
    reporting_org: str | None = None
    title: str | None = None


class TransactionRef(BaseModel):
    """The transaction that states a link (`position` in its activity, from 1)."""

    position: int
    ref: str | None = None
    type: str | None = None
    date: dt.date | None = None
    amount: Decimal | None = None
    currency: str | None = None


class LinkPublic(BaseModel):
    """One reference between two activities: its kind and type, the other activity, the
    organisation named beside it, and the transaction that states it (if any)."""

    kind: LinkKind
    type: str | None
    activity: ActivityRef
    org_ref: str | None = None
    transaction: TransactionRef | None = None


class FlowPublic(BaseModel):
    """Money from a funder's activity to an implementer's, as each of them reports it."""

    stage: Stage
    funder: ActivityRef
    implementer: ActivityRef
    outgoing: list[TransactionRef] = Field(
        description="The funder's commitments (2) or disbursements (3) naming the implementer")
    incoming: list[TransactionRef] = Field(
        description="The implementer's incoming commitments (11) or funds (1) naming the funder")
    outgoing_total: dict[str, Decimal] = Field(description="By currency")
    incoming_total: dict[str, Decimal] = Field(description="By currency")
    matched: bool = Field(
        description="Both report it: net figures leave out the funder's outgoing side when "
        "both activities are counted")


class SharedIdentifier(BaseModel):
    """Another live activity giving the same other-identifier: a co-reported project."""

    identifier: str
    type: str | None
    activity: ActivityRef


class ActivityLinks(BaseModel):
    """An activity's links: `outgoing`, those it states; `incoming`, those other live
    activities state about it; `flows`, the transaction links paired up by stage;
    `shared_identifiers`, other activities giving one of its other-identifiers."""

    activity: ActivityRef
    outgoing: list[LinkPublic]
    incoming: list[LinkPublic]
    flows: list[FlowPublic]
    shared_identifiers: list[SharedIdentifier]


def activity_links(session: Session, identifier: str) -> ActivityLinks:
    """The links of the live activity `identifier` (404 if unknown, 410 if deleted)."""
    activity = live_activity(session, identifier)
    connection = session.connection()
    own = ActivityRef(
        iati_identifier=activity.iati_identifier, stored=True,
        reporting_org=activity.reporting_org_ref, title=activity.title,
    )
    outgoing_rows = _rows(connection, LINK.c.activity_id == activity.id)
    incoming_rows = _rows(connection, LINK.c.target == activity.iati_identifier)
    known = _activities(connection, [row["target"] for row in outgoing_rows])
    outgoing = [_link(row, known.get(row["target"], _unknown(row["target"])))
                for row in outgoing_rows]
    incoming = [_link(row, _ref(row)) for row in incoming_rows]
    others = [row["target"] for row in outgoing_rows
              if row["kind"] == LinkKind.other_identifier.value]
    shared = _rows(connection, and_(
        LINK.c.kind == LinkKind.other_identifier.value, LINK.c.target.in_(others),
        LINK.c.activity_id != activity.id,
    )) if others else []
    return ActivityLinks(
        activity=own, outgoing=outgoing, incoming=incoming,
        flows=_flows(own, outgoing, incoming),
        shared_identifiers=[
            SharedIdentifier(identifier=row["target"], type=row["type"], activity=_ref(row))
            for row in shared
        ],
    )


def _rows(connection: Connection, condition: Any) -> list[dict[str, Any]]:
    """Links meeting `condition`, stated by live activities, with their transactions."""
    statement = (
        select(
            LINK.c.kind, LINK.c.type, LINK.c.target, LINK.c.org_ref,
            ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref, ACTIVITY.c.title,
            TRANSACTION.c.position, TRANSACTION.c.ref.label("transaction_ref"),
            TRANSACTION.c.type.label("transaction_type"), TRANSACTION.c.date,
            TRANSACTION.c.amount, TRANSACTION.c.currency,
        )
        .join_from(LINK, ACTIVITY, ACTIVITY.c.id == LINK.c.activity_id)
        .outerjoin(TRANSACTION, TRANSACTION.c.id == LINK.c.transaction_id)
        .where(condition, ACTIVITY.c.deleted_at.is_(None))
        .order_by(ACTIVITY.c.iati_identifier, LINK.c.id)
    )
    return [dict(row) for row in connection.execute(statement).mappings()]


def _activities(connection: Connection, identifiers: Iterable[str]) -> dict[str, ActivityRef]:
    wanted = sorted(set(identifiers))
    if not wanted:
        return {}
    statement = select(
        ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref, ACTIVITY.c.title
    ).where(ACTIVITY.c.iati_identifier.in_(wanted), ACTIVITY.c.deleted_at.is_(None))
    return {
        row.iati_identifier: ActivityRef(
            iati_identifier=row.iati_identifier, stored=True,
            reporting_org=row.reporting_org_ref, title=row.title,
        )
        for row in connection.execute(statement)
    }


def _unknown(identifier: str) -> ActivityRef:
    return ActivityRef(iati_identifier=identifier, stored=False)


def _ref(row: dict[str, Any]) -> ActivityRef:
    """The activity that states the link of `row`."""
    return ActivityRef(
        iati_identifier=row["iati_identifier"], stored=True,
        reporting_org=row["reporting_org_ref"], title=row["title"],
    )


def _link(row: dict[str, Any], other: ActivityRef) -> LinkPublic:
    transaction = None
    if row["position"] is not None:
        transaction = TransactionRef(
            position=row["position"], ref=row["transaction_ref"],
            type=row["transaction_type"], date=row["date"], amount=row["amount"],
            currency=row["currency"],
        )
    return LinkPublic(
        kind=LinkKind(row["kind"]), type=row["type"], activity=other, org_ref=row["org_ref"],
        transaction=transaction,
    )


def _flows(
    own: ActivityRef, outgoing: list[LinkPublic], incoming: list[LinkPublic]
) -> list[FlowPublic]:
    """The transaction links paired by (funder, implementer, stage): each side as the
    funder's outgoing and the implementer's incoming transactions."""
    sides: dict[tuple[str, str, Stage], tuple[list[TransactionRef], list[TransactionRef]]]
    sides = defaultdict(lambda: ([], []))
    refs = {own.iati_identifier: own}
    for stated_by_own, links in ((True, outgoing), (False, incoming)):
        for link in links:
            if link.transaction is None:
                continue
            refs.setdefault(link.activity.iati_identifier, link.activity)
            this, other = own.iati_identifier, link.activity.iati_identifier
            stater, named = (this, other) if stated_by_own else (other, this)
            if link.kind is LinkKind.transaction_outgoing and link.type in OUTGOING:
                sides[(stater, named, OUTGOING[link.type])][0].append(link.transaction)
            elif link.kind is LinkKind.transaction_incoming and link.type in INCOMING:
                sides[(named, stater, INCOMING[link.type])][1].append(link.transaction)
    return [
        FlowPublic(
            stage=stage, funder=refs[funder], implementer=refs[implementer],
            outgoing=sent, incoming=received, outgoing_total=_totals(sent),
            incoming_total=_totals(received), matched=bool(sent and received),
        )
        for (funder, implementer, stage), (sent, received) in sorted(sides.items())
    ]


def _totals(transactions: list[TransactionRef]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = defaultdict(Decimal)
    for transaction in transactions:
        if transaction.amount is not None:
            found[transaction.currency or ""] += transaction.amount
    return dict(found)
