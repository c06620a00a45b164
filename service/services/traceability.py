"""Double counting along the delivery chain: which reports of the same money to leave out.

When a funder's activity A reports an outgoing commitment (transaction type 2) or
disbursement (3) whose receiver-activity-id is activity B, and B reports the matching
incoming commitment (11) or incoming funds (1) whose provider-activity-id is A, the same
money appears twice: once as A sends it and again as B spends or passes it on. The net
figures count it once, at the last link that reports it: A's matched outgoing transactions
are left out and B's own commitments, disbursements and expenditures stand for them. A
chain A → B → C thus counts only C's figures, and those of B and A that no one reports
receiving.

A pair counts only when both activities are live and both are among the activities being
totalled (the query's filters): leaving out A's figure while B's is not counted would lose
the money instead of counting it once. A one-sided link (B does not report receiving, or
reports it under the other stage) is not a match; related-activity and other-identifier
never remove money, nor are budgets or planned disbursements paired. Gross figures count
every report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    cast,
    exists,
    literal,
    or_,
    select,
    tuple_,
)

from service.models import ActivityLink, LinkKind, Transaction
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions, live

LINK = ActivityLink.__table__  # type: ignore[attr-defined]
TRANSACTION = Transaction.__table__  # type: ignore[attr-defined]


class Basis(StrEnum):
    """Which figures a total counts: each flow once (net) or every report of it (gross)."""

    net = "net"
    gross = "gross"


class Stage(StrEnum):
    commitment = "commitment"
    disbursement = "disbursement"


# A funder's outgoing transaction type, and the type its implementer reports receiving it by.
OUTGOING = {"2": Stage.commitment, "3": Stage.disbursement}
INCOMING = {"11": Stage.commitment, "1": Stage.disbursement}
PAIRS = {"2": "11", "3": "1"}


def matching(chosen: ActivityFilter, *, dialect: str) -> Select[Any]:
    """The ids of the live activities that match `chosen`, as a subquery to embed."""
    return (
        select(ACTIVITY.c.id)
        .where(live(ACTIVITY.c.id), *activity_conditions(chosen, dialect=dialect))
        .correlate(None)
    )


def duplicates(within: Select[Any]) -> Select[Any]:
    """The funders' outgoing transactions that their implementers report receiving, both
    activities among `within` (a select of live activities' ids, see `matching`): the
    funder's activity id, the transaction's id and position, and the implementer's
    activity id."""
    outgoing, incoming = LINK.alias("outgoing_link"), LINK.alias("incoming_link")
    funder, implementer = ACTIVITY.alias("funder"), ACTIVITY.alias("implementer")
    paired = or_(*(
        and_(outgoing.c.type == sent, incoming.c.type == received)
        for sent, received in PAIRS.items()
    ))
    reported_back = exists().where(
        incoming.c.activity_id == implementer.c.id,
        incoming.c.kind == LinkKind.transaction_incoming.value,
        incoming.c.target == funder.c.iati_identifier,
        paired,
    )
    return (
        select(
            outgoing.c.activity_id, TRANSACTION.c.id.label("transaction_id"),
            TRANSACTION.c.position, implementer.c.id.label("implementer_id"),
        )
        .join_from(outgoing, TRANSACTION, TRANSACTION.c.id == outgoing.c.transaction_id)
        .join(funder, funder.c.id == outgoing.c.activity_id)
        .join(implementer, implementer.c.iati_identifier == outgoing.c.target)
        .where(
            outgoing.c.kind == LinkKind.transaction_outgoing.value,
            outgoing.c.type.in_(list(PAIRS)),
            funder.c.id.in_(within), implementer.c.id.in_(within),
            reported_back,
        )
        .distinct()
    )


def counted_twice(connection: Connection) -> list[tuple[int, str, int]]:
    """Every matched pair among the live activities: the funder's activity id, its matched
    transaction's location (``transaction[n]``), and the implementer's activity id. Most
    often there is none, which is first read from the links alone: no activity reports
    receiving anything."""
    received = select(LINK.c.id).where(
        LINK.c.kind == LinkKind.transaction_incoming.value, LINK.c.type.in_(list(INCOMING)),
    )
    if not connection.scalar(select(received.exists())):
        return []
    found = duplicates(matching(ActivityFilter(), dialect=connection.dialect.name)).subquery()
    pairs = connection.execute(
        select(found.c.activity_id, found.c.position, found.c.implementer_id).distinct()
    )
    return sorted((funder, f"transaction[{position}]", implementer)
                  for funder, position, implementer in pairs)


def duplicated_transactions(connection: Connection, within: Select[Any]) -> set[int]:
    """The ids of the transactions that the net figures of `within` leave out."""
    return set(connection.execute(
        select(duplicates(within).subquery().c.transaction_id)
    ).scalars())


def counted_once(
    activity_id: ColumnElement[Any], location: ColumnElement[Any], *, within: Select[Any]
) -> ColumnElement[bool]:
    """A budget figure (its activity and `location`, ``transaction[n]``) is not the
    funder's side of a matched pair among `within`.

    Written as ``NOT IN`` the pairs, which the database finds once; as a correlated
    ``NOT EXISTS``, SQLite looked for them again for each figure."""
    found = duplicates(within).subquery("duplicate")
    where = literal("transaction[", String) + cast(found.c.position, String) + literal("]")
    return tuple_(activity_id, location).not_in(select(found.c.activity_id, where))
