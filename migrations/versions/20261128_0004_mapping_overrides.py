"""Add mapping_override: the ministry's decisions on crosswalk rows, with who and when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mapping_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crosswalk", sa.String(), nullable=False),
        sa.Column("key", JSON_DOCUMENT, nullable=False),
        sa.Column("rows", JSON_DOCUMENT, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_mapping_override_organisation_id_organisation"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"],
            name=op.f("fk_mapping_override_api_key_id_api_key"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_override")),
    )
    for column in ("crosswalk", "organisation_id", "api_key_id", "superseded_at"):
        op.create_index(op.f(f"ix_mapping_override_{column}"), "mapping_override", [column])


def downgrade() -> None:
    op.drop_table("mapping_override")
