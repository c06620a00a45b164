"""Keep the figures of each activity's latest budget view apart, as the aggregates read them.

An aggregate read every figure of one classification through its view (to find the
latest of each activity) and its activity (to test that it was live), about 0.2-0.5 s at
100,000 activities; on SQLite the activity's row, which holds the whole document, was
read for each figure. `current_figure` holds the figures of the latest views only, with
the reporting organisation, and one index holds every column an aggregate reads.

The table is filled here from the views stored so far.

The activities running in a period (`active_from`, `active_to`, the dashboard's year)
were found by reading each activity's row for its end date; the dates are now indexed
together, and the index on the start date alone is dropped.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGGREGATED = ["classification", "measure", "year", "activity_id", "code", "location",
              "amount_cents", "reporting_org_ref"]
# A figure's US dollar amount, stored as canonical text on SQLite, in cents; and the
# number of its decimals, which must be two at most.
CENTS = {
    "postgresql": "(budget_figure.amount_usd * 100)::bigint",
    "sqlite": "CAST(replace(budget_figure.amount_usd, '.', '') AS INTEGER) * CASE {decimals}"
              " WHEN 0 THEN 100 WHEN 1 THEN 10 ELSE 1 END",
}
DECIMALS = {
    "postgresql": "scale(budget_figure.amount_usd)",
    "sqlite": "CASE instr(budget_figure.amount_usd, '.') WHEN 0 THEN 0"
              " ELSE length(budget_figure.amount_usd) - instr(budget_figure.amount_usd, '.') END",
}
LATEST = """
    FROM budget_figure
    JOIN budget_view ON budget_view.id = budget_figure.view_id
    JOIN activity ON activity.id = budget_view.activity_id
    WHERE activity.deleted_at IS NULL
      AND budget_view.id IN (SELECT max(id) FROM budget_view GROUP BY activity_id)
"""


def upgrade() -> None:
    op.create_table(
        "current_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("reporting_org_ref", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("measure", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["budget_figure.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    dialect = op.get_bind().dialect.name
    decimals = DECIMALS[dialect]
    finer = op.get_bind().execute(sa.text(
        f"SELECT count(*) FROM budget_figure WHERE {decimals} > 2"  # noqa: S608
    )).scalar_one()
    if finer:
        raise RuntimeError(
            f"{finer} budget figures have US dollar amounts finer than a cent; run "
            "`iati-ec remap` on the previous release to recompute them, then upgrade again."
        )
    op.execute(
        "INSERT INTO current_figure (id, activity_id, reporting_org_ref, location, measure, "
        "year, classification, code, amount_cents) "
        "SELECT budget_figure.id, budget_view.activity_id, activity.reporting_org_ref, "
        "budget_figure.location, budget_figure.measure, budget_figure.year, "
        "budget_figure.classification, budget_figure.code, "
        + CENTS[dialect].format(decimals=decimals) + LATEST
    )
    op.create_index("ix_current_figure_activity_id", "current_figure", ["activity_id"])
    op.create_index("ix_current_figure_aggregated", "current_figure", AGGREGATED)
    op.drop_index("ix_activity_start_date", table_name="activity")
    op.create_index("ix_activity_dates", "activity", ["start_date", "end_date"])


def downgrade() -> None:
    op.drop_index("ix_activity_dates", table_name="activity")
    op.create_index("ix_activity_start_date", "activity", ["start_date"])
    op.drop_table("current_figure")
