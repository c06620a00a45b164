"""Add activity.received_hash: the SHA-256 of the activity's XML as last received.

A re-pushed activity whose XML is byte for byte the stored version's is known unchanged
without being read or validated. Rows stored before this revision have none; their next
push computes it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch_op:
        batch_op.add_column(sa.Column("received_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch_op:
        batch_op.drop_column("received_hash")
