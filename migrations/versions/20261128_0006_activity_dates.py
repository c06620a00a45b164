"""Add the activity's dates (planned and actual start and end, and the effective ones).

Filled for the activities already stored from their stored documents: the first
activity-date of each type, the effective start and end being the actual, else the planned.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 02:10:00
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("planned_start", "actual_start", "planned_end", "actual_end", "start_date", "end_date")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ACTIVITY = sa.table(
    "activity", sa.column("id", sa.Integer()), sa.column("document", JSON_DOCUMENT),
    *(sa.column(name, sa.Date()) for name in COLUMNS),
)


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Date(), nullable=True))
    op.create_index(op.f("ix_activity_start_date"), "activity", ["start_date"])
    op.create_index(op.f("ix_activity_end_date"), "activity", ["end_date"])
    connection = op.get_bind()
    rows = connection.execute(sa.select(ACTIVITY.c.id, ACTIVITY.c.document)).all()
    for key, document in rows:
        values = _dates(document or {})
        if any(values.values()):
            connection.execute(
                ACTIVITY.update().where(ACTIVITY.c.id == key).values(**values)
            )


def _dates(document: dict[str, Any]) -> dict[str, date | None]:
    found: dict[str, date] = {}
    for item in document.get("activity_dates") or []:
        kind, text = str(item.get("type") or "").strip(), item.get("iso_date")
        if text and kind not in found:
            try:
                found[kind] = date.fromisoformat(str(text)[:10])
            except ValueError:
                continue
    return {
        "planned_start": found.get("1"), "actual_start": found.get("2"),
        "planned_end": found.get("3"), "actual_end": found.get("4"),
        "start_date": found.get("2") or found.get("1"),
        "end_date": found.get("4") or found.get("3"),
    }


def downgrade() -> None:
    op.drop_index(op.f("ix_activity_end_date"), "activity")
    op.drop_index(op.f("ix_activity_start_date"), "activity")
    with op.batch_alter_table("activity") as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
