"""The traceability graph of a set of activities: who passes money to whom, as reported.

Nodes are activities (those asked for, and those they name) and organisations (named by
a transaction without an activity id); edges are what the asked activities report: their
transactions summed per counterpart, transaction type and currency, and their
related-activity and other-identifier links. A transaction edge that the net figures
leave out (see `service.services.traceability`) says so, so that every net and gross
total can be traced to the activities and transactions behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Select, func, select

from service.errors import DomainError
from service.models import LinkKind
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter
from service.services.traceability import (
    LINK,
    TRANSACTION,
    duplicated_transactions,
    matching,
)

# Transaction types whose counterpart is the provider (money coming in); for the others
# it is the receiver.
INCOMING_TYPES = frozenset({"1", "11", "13"})


class TooManyActivitiesError(DomainError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "traceability.too-many-activities"
    title: ClassVar[str] = "Too many activities for one graph"


class NodeKind(StrEnum):
    activity = "activity"
    organisation = "organisation"


class EdgeKind(StrEnum):
    transaction = "transaction"
    related_activity = "related_activity"
    other_identifier = "other_identifier"


class GraphNode(BaseModel):
    """An activity (`ref`: its identifier) or an organisation (`ref`: its identifier)."""

    id: str = Field(description="`activity:<identifier>` or `organisation:<ref>`")
    kind: NodeKind
    ref: str
    in_set: bool = Field(description="One of the activities asked for")
    stored: bool = Field(description="A live activity of iati-ec")
    reporting_org: str | None = None
    title: str | None = None
    name: str | None = None


class GraphEdge(BaseModel):
    """What one activity of the set reports between two nodes: for transactions, how many
    and their sum per currency; `duplicate`: left out of the net figures."""

    source: str
    target: str
    kind: EdgeKind
    type: str | None
    reported_by: str
    transactions: int = 0
    amounts: dict[str, Decimal] = Field(default_factory=dict)
    duplicate: bool = False


class Traceability(BaseModel):
    activities: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]


@dataclass(frozen=True, slots=True)
class _Key:
    source: str
    target: str
    kind: EdgeKind
    type: str | None
    reported_by: str
    duplicate: bool = False


def traceability(
    connection: Connection, chosen: ActivityFilter, *, identifiers: Sequence[str] = (),
    limit: int,
) -> Traceability:
    """The graph of the live activities matching `chosen` (and among `identifiers`, when
    given); more than `limit` of them is refused."""
    within = matching(chosen, dialect=connection.dialect.name)
    if identifiers:
        within = within.where(ACTIVITY.c.iati_identifier.in_(list(identifiers)))
    count = connection.execute(select(func.count()).select_from(within.subquery())).scalar_one()
    if count > limit:
        raise TooManyActivitiesError(
            f"{count} activities match; a graph holds at most {limit}. Narrow the filters.",
            activities=count, limit=limit,
        )
    members = {
        row.id: row for row in connection.execute(
            select(ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref,
                   ACTIVITY.c.title).where(ACTIVITY.c.id.in_(within))
        )
    }
    nodes: dict[str, GraphNode] = {
        _activity(row.iati_identifier): GraphNode(
            id=_activity(row.iati_identifier), kind=NodeKind.activity, ref=row.iati_identifier,
            in_set=True, stored=True, reporting_org=row.reporting_org_ref, title=row.title,
        )
        for row in members.values()
    }
    edges: dict[_Key, GraphEdge] = {}
    named = _transaction_edges(connection, within, members, nodes, edges)
    named |= _link_edges(connection, within, members, edges)
    _add_named(connection, named, nodes)
    return Traceability(
        activities=count, nodes=sorted(nodes.values(), key=lambda node: node.id),
        edges=sorted(edges.values(), key=lambda e: (e.source, e.target, e.kind, e.type or "")),
    )


def _transaction_edges(
    connection: Connection, within: Select[Any], members: dict[int, Any],
    nodes: dict[str, GraphNode], edges: dict[_Key, GraphEdge],
) -> set[str]:
    """Sum the set's transactions into edges; the activity identifiers they name."""
    duplicate = duplicated_transactions(connection, within)
    rows = connection.execute(
        select(TRANSACTION).where(TRANSACTION.c.activity_id.in_(within))
        .order_by(TRANSACTION.c.activity_id, TRANSACTION.c.position)
    ).mappings()
    named: set[str] = set()
    for row in rows:
        own = members[row["activity_id"]].iati_identifier
        side = "provider" if row["type"] in INCOMING_TYPES else "receiver"
        other = (row[f"{side}_activity_id"] or "").strip()
        ref, name = row[f"{side}_ref"], row[f"{side}_name"]
        if other and other != own:
            named.add(other)
            counterpart = _activity(other)
        elif ref:
            counterpart = f"organisation:{ref}"
            nodes.setdefault(counterpart, GraphNode(
                id=counterpart, kind=NodeKind.organisation, ref=ref, in_set=False,
                stored=False, name=name,
            ))
        else:
            continue
        ends = (counterpart, _activity(own)) if side == "provider" else (_activity(own),
                                                                         counterpart)
        key = _Key(*ends, EdgeKind.transaction, row["type"], own, row["id"] in duplicate)
        edge = edges.setdefault(key, GraphEdge(**_fields(key)))
        edge.transactions += 1
        if row["amount"] is not None:
            currency = row["currency"] or ""
            edge.amounts[currency] = edge.amounts.get(currency, Decimal(0)) + row["amount"]
    return named


def _link_edges(
    connection: Connection, within: Select[Any], members: dict[int, Any],
    edges: dict[_Key, GraphEdge],
) -> set[str]:
    """The set's related-activity links, and its other-identifiers that name a stored
    activity, as edges; the identifiers they name."""
    kinds = [LinkKind.related_activity.value, LinkKind.other_identifier.value]
    stored = select(ACTIVITY.c.iati_identifier).where(ACTIVITY.c.deleted_at.is_(None))
    rows = connection.execute(
        select(LINK.c.activity_id, LINK.c.kind, LINK.c.type, LINK.c.target)
        .where(LINK.c.activity_id.in_(within), LINK.c.kind.in_(kinds))
        .where((LINK.c.kind == LinkKind.related_activity.value) | LINK.c.target.in_(stored))
        .order_by(LINK.c.id)
    )
    named: set[str] = set()
    for row in rows:
        own = members[row.activity_id].iati_identifier
        named.add(row.target)
        key = _Key(_activity(own), _activity(row.target), EdgeKind(row.kind), row.type, own)
        edges.setdefault(key, GraphEdge(**_fields(key)))
    return named


def _add_named(connection: Connection, named: set[str], nodes: dict[str, GraphNode]) -> None:
    """A node for each named activity not in the set, stored or not."""
    missing = sorted(identifier for identifier in named if _activity(identifier) not in nodes)
    found = {
        row.iati_identifier: row for row in connection.execute(
            select(ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref, ACTIVITY.c.title)
            .where(ACTIVITY.c.iati_identifier.in_(missing), ACTIVITY.c.deleted_at.is_(None))
        )
    } if missing else {}
    for identifier in missing:
        row = found.get(identifier)
        nodes[_activity(identifier)] = GraphNode(
            id=_activity(identifier), kind=NodeKind.activity, ref=identifier, in_set=False,
            stored=row is not None, reporting_org=row.reporting_org_ref if row else None,
            title=row.title if row else None,
        )


def _fields(key: _Key) -> dict[str, Any]:
    return {
        "source": key.source, "target": key.target, "kind": key.kind, "type": key.type,
        "reported_by": key.reported_by, "duplicate": key.duplicate,
    }


def _activity(identifier: str) -> str:
    return f"activity:{identifier}"
