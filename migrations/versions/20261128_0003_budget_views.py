"""Add budget_view and budget_figure: activities' Ecuador budget views per mapping version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as they stand in this revision (see 0001).
EXACT_DECIMAL = sa.Text().with_variant(postgresql.NUMERIC(), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "budget_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("activity_version", sa.Integer(), nullable=False),
        sa.Column("mapping_version", sa.String(length=12), nullable=False),
        sa.Column("ecuador_share", EXACT_DECIMAL, nullable=True),
        sa.Column("findings", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_budget_view_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_view")),
        sa.UniqueConstraint(
            "activity_id", "mapping_version",
            name=op.f("uq_budget_view_activity_id_mapping_version"),
        ),
    )
    op.create_index(
        op.f("ix_budget_view_mapping_version"), "budget_view", ["mapping_version"]
    )
    op.create_table(
        "budget_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("view_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("measure", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("amount_usd", EXACT_DECIMAL, nullable=False),
        sa.Column("original_amount", EXACT_DECIMAL, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", EXACT_DECIMAL, nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("table_version", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["view_id"], ["budget_view.id"],
            name=op.f("fk_budget_figure_view_id_budget_view"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_figure")),
    )
    for column in ("view_id", "measure", "year", "classification", "code"):
        op.create_index(op.f(f"ix_budget_figure_{column}"), "budget_figure", [column])


def downgrade() -> None:
    op.drop_table("budget_figure")
    op.drop_table("budget_view")
