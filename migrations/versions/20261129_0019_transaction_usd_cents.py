"""Each transaction in US cents, with the rate series it was converted under.

A partner's profile sums the money it received and disbursed over every activity it takes
part in: half a million transactions for one in all 100,000 activities. Converted one by
one when read, that took seconds; stored when pushed, the database sums them. The rows
stored before this revision have no series: they are converted when read until
`iati-ec remap` converts them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transaction") as batch:
        batch.add_column(sa.Column("usd_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("usd_rates", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transaction") as batch:
        batch.drop_column("usd_rates")
        batch.drop_column("usd_cents")
