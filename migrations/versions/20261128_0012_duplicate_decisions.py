"""Add duplicate_decision: the ministry's confirmations and dismissals of duplicate pairs.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-28 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "duplicate_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier_a", sa.String(), nullable=False),
        sa.Column("identifier_b", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("keep", sa.String(), nullable=True),
        sa.Column("excluded", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", MOMENT, nullable=False),
        sa.Column("superseded_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_duplicate_decision_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"],
            name=op.f("fk_duplicate_decision_api_key_id_api_key"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_decision")),
    )
    for column in ("identifier_a", "identifier_b", "excluded", "organisation_id",
                   "api_key_id", "superseded_at"):
        op.create_index(op.f(f"ix_duplicate_decision_{column}"), "duplicate_decision", [column])


def downgrade() -> None:
    op.drop_table("duplicate_decision")
