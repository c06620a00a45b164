"""Index `activity.deleted_at` only where it is set (a tombstone).

Every list reads `deleted_at IS NULL`, which holds for nearly every row: the full index
let the planner walk it in place of the index on the filter or the sort (the list sorted
by `updated_at` read and sorted every live activity, 0.7 s at 100,000). The few queries
for deleted activities still have their index.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOMBSTONE = sa.text("deleted_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_activity_deleted_at", table_name="activity")
    op.create_index("ix_activity_deleted_at", "activity", ["deleted_at"],
                    sqlite_where=TOMBSTONE, postgresql_where=TOMBSTONE)


def downgrade() -> None:
    op.drop_index("ix_activity_deleted_at", table_name="activity")
    op.create_index("ix_activity_deleted_at", "activity", ["deleted_at"])
