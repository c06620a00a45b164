"""Cooperation agreements (convenios) the ministry records, and their changes in the feed.

`agreement` holds an agreement's reference, parties, dates, amount and instrument;
`agreement_party` the registered organisations that are its parties, each with a role;
`agreement_activity` the identifiers of the activities that implement it, any publisher's,
kept with their NFC key so that an activity stored with the identifier, now or later, is
linked when the agreement is read; `agreement_objective` the plan objectives it serves;
`agreement_metric` its own metrics, each optionally read from a published result indicator.

The change feed also logs agreements: `activity_change` rows of an agreement name it in
`agreement_id` and have no activity (`activity_id`, `iati_identifier` null), and their
kinds (`agreement.created`, …) are longer than an activity's.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXACT_DECIMAL = sa.Text().with_variant(postgresql.NUMERIC(), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
        sa.UniqueConstraint("code", name=op.f("uq_agreement_code")),
    )
    _child("agreement_party", [
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_agreement_party_organisation_id_organisation"), ondelete="RESTRICT",
        ),
    ], indexed=("organisation_id",))
    _child("agreement_activity", [
        sa.Column("iati_identifier", sa.String(), nullable=False),
        sa.Column("identifier_key", sa.String(), nullable=False),
        sa.UniqueConstraint("agreement_id", "identifier_key",
                            name=op.f("uq_agreement_activity_agreement_id_identifier_key")),
    ], indexed=("identifier_key",))
    _child("agreement_objective", [
        sa.Column("code", sa.String(), nullable=False),
        sa.UniqueConstraint("agreement_id", "code",
                            name=op.f("uq_agreement_objective_agreement_id_code")),
    ], indexed=("code",))
    _child("agreement_metric", [
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("baseline", EXACT_DECIMAL, nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.Column("ascending", sa.Boolean(), nullable=False),
        sa.Column("targets", JSON_DOCUMENT, nullable=False),
        sa.Column("iati_identifier", sa.String(), nullable=True),
        sa.Column("identifier_key", sa.String(), nullable=True),
        sa.Column("result_position", sa.Integer(), nullable=True),
        sa.Column("indicator_position", sa.Integer(), nullable=True),
    ], indexed=("identifier_key",))
    with op.batch_alter_table("activity_change") as batch:
        batch.alter_column("activity_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("iati_identifier", existing_type=sa.String(), nullable=True)
        batch.alter_column("kind", existing_type=sa.String(length=16),
                           type_=sa.String(length=32), existing_nullable=False)
        batch.add_column(sa.Column("agreement_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # An agreement's changes have no activity: they go with the agreements.
    op.execute("DELETE FROM activity_change WHERE agreement_id IS NOT NULL")
    with op.batch_alter_table("activity_change") as batch:
        batch.drop_column("agreement_id")
        batch.alter_column("kind", existing_type=sa.String(length=32),
                           type_=sa.String(length=16), existing_nullable=False)
        batch.alter_column("iati_identifier", existing_type=sa.String(), nullable=False)
        batch.alter_column("activity_id", existing_type=sa.Integer(), nullable=False)
    for table in ("agreement_metric", "agreement_objective", "agreement_activity",
                  "agreement_party"):
        op.drop_table(table)
    op.drop_table("agreement")


def _child(name: str, columns: list[Any], *, indexed: tuple[str, ...]) -> None:
    """A table of an agreement's rows, in order (`position` from 1), going with it."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreement.id"], name=op.f(f"fk_{name}_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    for column in ("agreement_id", *indexed):
        op.create_index(op.f(f"ix_{name}_{column}"), name, [column])
