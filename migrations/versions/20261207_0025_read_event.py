"""The read model's clock: `read_event`, one row per write that changes derived data.

`seq` never goes back (SQLite's AUTOINCREMENT, PostgreSQL's identity). The table starts
with one event, so that a database migrated from one before it has a clock that differs
from an empty one's.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    event = op.create_table(
        "read_event",
        sa.Column("seq", SEQ, sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("activities", JSON_DOCUMENT, nullable=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_read_event")),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(event, [{"kind": "migrated", "at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("read_event")
