"""Add the change log (activity_change, change_counter) and fill it from the versions.

Existing versions become changes in their id order, which is the order they were stored
in; a version that followed a deletion is logged as `updated` (the log's `restored` is
known only for changes made from now on).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.create_table(
        "activity_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("iati_identifier", sa.String(), nullable=False),
        sa.Column("reporting_org_ref", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("push_id", sa.String(length=36), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_activity_change_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_change")),
        sa.UniqueConstraint("seq", name=op.f("uq_activity_change_seq")),
    )
    op.create_index(op.f("ix_activity_change_activity_id"), "activity_change", ["activity_id"])
    op.create_index(
        op.f("ix_activity_change_reporting_org_ref"), "activity_change", ["reporting_org_ref"]
    )
    op.execute(
        "INSERT INTO activity_change (seq, activity_id, iati_identifier, reporting_org_ref, "
        "version, kind, push_id, changed_at) "
        "SELECT v.id, v.activity_id, a.iati_identifier, a.reporting_org_ref, v.version, "
        "CASE WHEN v.deleted THEN 'deleted' WHEN v.version = 1 THEN 'created' "
        "ELSE 'updated' END, v.push_id, v.created_at "
        "FROM activity_version v JOIN activity a ON a.id = v.activity_id ORDER BY v.id"
    )
    op.execute(
        "INSERT INTO change_counter (id, value) "
        "SELECT 1, COALESCE(MAX(seq), 0) FROM activity_change"
    )


def downgrade() -> None:
    op.drop_table("activity_change")
    op.drop_table("change_counter")
