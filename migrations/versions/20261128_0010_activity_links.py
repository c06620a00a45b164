"""Add activity_link: the references of each activity to other activities (transactions'
provider and receiver activity ids, related activities, other identifiers).

Filled for the live activities already stored from their stored documents, read as the
push read them when it was written, each transaction link pointing to its transaction row.
The migration reads the documents (an activity's JSON form) itself, so that replaying it
gives the same rows whatever the application's code becomes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 15:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ACTIVITY = sa.table(
    "activity", sa.column("id", sa.Integer()), sa.column("document", JSON_DOCUMENT),
    sa.column("deleted_at", sa.DateTime(timezone=True)),
)
TRANSACTION = sa.table(
    "transaction", sa.column("id", sa.Integer()), sa.column("activity_id", sa.Integer()),
    sa.column("position", sa.Integer()),
)
LINK = sa.table(
    "activity_link", sa.column("activity_id", sa.Integer()),
    sa.column("transaction_id", sa.Integer()), sa.column("kind", sa.String()),
    sa.column("type", sa.String()), sa.column("target", sa.String()),
    sa.column("org_ref", sa.String()),
)
# One reference: its kind, target, type, organisation and transaction index (from 0).
Link = tuple[str, str, str | None, str | None, int | None]


def upgrade() -> None:
    op.create_table(
        "activity_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("org_ref", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_activity_link_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"], ["transaction.id"],
            name=op.f("fk_activity_link_transaction_id_transaction"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_link")),
    )
    op.create_index(op.f("ix_activity_link_activity_id"), "activity_link", ["activity_id"])
    op.create_index(op.f("ix_activity_link_transaction_id"), "activity_link", ["transaction_id"])
    op.create_index(op.f("ix_activity_link_target"), "activity_link", ["target"])
    _fill(op.get_bind())


def _fill(connection: sa.Connection) -> None:
    """The links of every live activity, from its stored document, in batches."""
    live = sa.select(ACTIVITY.c.id, ACTIVITY.c.document).where(ACTIVITY.c.deleted_at.is_(None))
    stored = connection.execute(live.order_by(ACTIVITY.c.id))
    while batch := stored.fetchmany(500):
        keys = [key for key, _ in batch]
        positions = {
            (activity, position): key
            for key, activity, position in connection.execute(
                sa.select(TRANSACTION.c.id, TRANSACTION.c.activity_id, TRANSACTION.c.position)
                .where(TRANSACTION.c.activity_id.in_(keys))
            )
        }
        rows = [
            row for key, document in batch for row in _rows(key, document or {}, positions)
        ]
        if rows:
            connection.execute(LINK.insert(), rows)


def _rows(
    key: int, document: dict[str, Any], positions: dict[tuple[int, int], int]
) -> list[dict[str, Any]]:
    return [
        {
            "activity_id": key, "kind": kind, "type": type_, "target": target,
            "org_ref": org_ref,
            "transaction_id": None if index is None else positions.get((key, index + 1)),
        }
        for kind, target, type_, org_ref, index in _links(document)
    ]


def _links(document: dict[str, Any]) -> list[Link]:
    """Every reference a stored document makes to another activity, in file order
    (transactions first, each with its index from 0); references to itself and empty ones
    are left out."""
    own = ((document.get("iati_identifier") or {}).get("text") or "").strip()
    found: list[Link] = []
    for index, transaction in enumerate(document.get("transactions") or []):
        kind = (transaction.get("transaction_type") or {}).get("code")
        if (provider := transaction.get("provider_org")) is not None:
            found.append((
                "transaction_incoming", _clean(provider.get("provider_activity_id")), kind,
                provider.get("ref"), index,
            ))
        if (receiver := transaction.get("receiver_org")) is not None:
            found.append((
                "transaction_outgoing", _clean(receiver.get("receiver_activity_id")), kind,
                receiver.get("ref"), index,
            ))
    found += [
        ("related_activity", _clean(related.get("ref")), related.get("type"), None, None)
        for related in document.get("related_activities") or []
    ]
    found += [
        (
            "other_identifier", _clean(other.get("ref")), other.get("type"),
            (other.get("owner_org") or {}).get("ref"), None,
        )
        for other in document.get("other_identifiers") or []
    ]
    return [link for link in found if link[1] and link[1] != own]


def _clean(identifier: str | None) -> str:
    return (identifier or "").strip()


def downgrade() -> None:
    op.drop_table("activity_link")
