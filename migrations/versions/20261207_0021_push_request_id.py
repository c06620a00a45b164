"""The id of the HTTP request that made each push (its X-Request-ID), for its log lines.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("push") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_push_request_id", ["request_id"])


def downgrade() -> None:
    with op.batch_alter_table("push") as batch:
        batch.drop_index("ix_push_request_id")
        batch.drop_column("request_id")
