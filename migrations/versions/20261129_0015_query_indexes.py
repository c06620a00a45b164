"""Index the columns the activity list filters and sorts on so that a filter is answered
from an index alone: `activity.updated_at`, and covering indexes (the code, then the
activity) on sectors, recipient countries and regions, and participating organisations.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (the index replaced, its columns), (the covering index, its columns)
COVERING = {
    "sector": (
        ("ix_sector_code", ["code"]),
        ("ix_sector_code", ["code", "vocabulary", "activity_id"]),
    ),
    "recipient_country": (
        ("ix_recipient_country_code", ["code"]),
        ("ix_recipient_country_code", ["code", "activity_id"]),
    ),
    "recipient_region": (
        ("ix_recipient_region_code", ["code"]),
        ("ix_recipient_region_code", ["code", "activity_id"]),
    ),
    "participating_org": (
        ("ix_participating_org_ref", ["ref"]),
        ("ix_participating_org_ref_role", ["ref", "role", "activity_id"]),
    ),
}


def upgrade() -> None:
    op.create_index("ix_activity_updated_at", "activity", ["updated_at"])
    for table, ((old, _), (new, columns)) in COVERING.items():
        op.drop_index(old, table_name=table)
        op.create_index(new, table, columns)


def downgrade() -> None:
    for table, ((old, columns), (new, _)) in COVERING.items():
        op.drop_index(new, table_name=table)
        op.create_index(old, table, columns)
    op.drop_index("ix_activity_updated_at", table_name="activity")
