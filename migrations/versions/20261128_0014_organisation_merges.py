"""Add the ministry's recorded merges of organisations, and each merged entry's target.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_index("ix_organisation_merged_into_id", ["merged_into_id"])
        batch.create_foreign_key(
            "fk_organisation_merged_into_id_organisation", "organisation",
            ["merged_into_id"], ["id"], ondelete="SET NULL",
        )
    op.create_table(
        "organisation_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("into_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("refs", JSON_DOCUMENT, nullable=False),
        sa.Column("names", JSON_DOCUMENT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", JSON_DOCUMENT, nullable=False),
        sa.Column("decided_by_key_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["merged_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["into_id"], ["organisation.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["decided_by_key_id"], ["api_key.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("merged_id", "into_id", "decided_by_key_id"):
        op.create_index(f"ix_organisation_merge_{column}", "organisation_merge", [column])


def downgrade() -> None:
    op.drop_table("organisation_merge")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_constraint("fk_organisation_merged_into_id_organisation", type_="foreignkey")
        batch.drop_index("ix_organisation_merged_into_id")
        batch.drop_column("merged_into_id")
