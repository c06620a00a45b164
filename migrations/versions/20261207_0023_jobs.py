"""The job queue (`job`) and the files of push jobs (`job_file`).

Pushes still `running` when this revision is applied were started by the previous
version, whose service marked them `incomplete` when it started: they are marked so
here, as they have no job to finish them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.Enum("push", "remap", "sync", name="jobkind", native_enum=False,
                                  length=32), nullable=False),
        sa.Column("status", sa.Enum("queued", "running", "done", "failed", name="jobstatus",
                                    native_enum=False, length=32), nullable=False),
        sa.Column("push_id", sa.String(length=36), nullable=True),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("not_before", MOMENT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("lease_until", MOMENT, nullable=True),
        sa.Column("heartbeat_at", MOMENT, nullable=True),
        sa.Column("finished_at", MOMENT, nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["push_id"], ["push.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_claimable", "job", ["status", "not_before"])
    op.create_index("ix_job_push_id", "job", ["push_id"])
    op.create_table(
        "job_file",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    push = sa.table("push", sa.column("status", sa.String()),
                    sa.column("finished_at", MOMENT))
    op.execute(
        push.update().where(push.c.status == "running")
        .values(status="incomplete", finished_at=sa.func.current_timestamp())
    )


def downgrade() -> None:
    op.drop_table("job_file")
    op.drop_index("ix_job_push_id", table_name="job")
    op.drop_index("ix_job_claimable", table_name="job")
    op.drop_table("job")
