"""Add sync_source: the dataset URLs that `iati-ec sync` reads and what it last saw there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sync_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=True),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pushed", "not-modified", "unchanged", "failed", name="syncstatus",
                    native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("push_id", sa.String(length=36), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("checked_at", MOMENT, nullable=True),
        sa.Column("changed_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_sync_source_organisation_id_organisation"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["push_id"], ["push.id"],
            name=op.f("fk_sync_source_push_id_push"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_source")),
        sa.UniqueConstraint("url", name=op.f("uq_sync_source_url")),
    )
    op.create_index(op.f("ix_sync_source_organisation_id"), "sync_source", ["organisation_id"])
    op.create_index(op.f("ix_sync_source_push_id"), "sync_source", ["push_id"])


def downgrade() -> None:
    op.drop_table("sync_source")
