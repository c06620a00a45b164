"""Create the tables of organisations, keys, pushes, activities and their query tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 21:35:18.821133
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as they stand in this revision, spelt out rather than imported from
# service.models, so that later changes to the models cannot rewrite history.
# Money and coordinates: exact NUMERIC on PostgreSQL, canonical decimal text on SQLite.
EXACT_DECIMAL = sa.Text().with_variant(postgresql.NUMERIC(), "postgresql")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("roles", JSON_DOCUMENT, nullable=False),
        sa.Column("names", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_type"), ["type"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", JSON_DOCUMENT, nullable=False),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_api_key_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_key_key_id")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_key_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "organisation_ref",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_ref_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_ref")),
        sa.UniqueConstraint("ref", name=op.f("uq_organisation_ref_ref")),
    )
    with op.batch_alter_table("organisation_ref", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_ref_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "push",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "completed",
                "failed",
                "incomplete",
                name="pushstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "mode",
            sa.Enum("default", "atomic", name="pushmode", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "scope",
            sa.Enum("activities", "dataset", name="pushscope", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("activities_seen", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("findings", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_push_api_key_id_api_key"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_push_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push")),
    )
    with op.batch_alter_table("push", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_api_key_id"), ["api_key_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_push_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_push_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_status"), ["status"], unique=False)

    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iati_identifier", sa.String(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reporting_org_ref", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("iati_version", sa.String(length=16), nullable=True),
        sa.Column("last_updated_datetime", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("default_currency", sa.String(), nullable=True),
        sa.Column("activity_status", sa.String(), nullable=True),
        sa.Column("hierarchy", sa.Integer(), nullable=True),
        sa.Column("humanitarian", sa.Boolean(), nullable=True),
        sa.Column("document", JSON_DOCUMENT, nullable=False),
        sa.Column("findings", JSON_DOCUMENT, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_push_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_push_id"],
            ["push.id"],
            name=op.f("fk_activity_last_push_id_push"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_activity_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
        sa.UniqueConstraint("iati_identifier", name=op.f("uq_activity_iati_identifier")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_activity_status"), ["activity_status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activity_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_activity_last_push_id"), ["last_push_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_last_updated_datetime"), ["last_updated_datetime"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_reporting_org_ref"), ["reporting_org_ref"], unique=False
        )

    op.create_table(
        "push_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("iati_identifier", sa.String(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "created",
                "updated",
                "unchanged",
                "stale",
                "rejected",
                "deleted",
                name="outcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("findings", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["push_id"], ["push.id"], name=op.f("fk_push_activity_push_id_push"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_activity")),
        sa.UniqueConstraint("push_id", "position", name=op.f("uq_push_activity_push_id_position")),
    )
    with op.batch_alter_table("push_activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_activity_iati_identifier"), ["iati_identifier"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_push_activity_outcome"), ["outcome"], unique=False)

    op.create_table(
        "activity_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.String(length=36), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("received_xml", sa.Text(), nullable=True),
        sa.Column("summary", JSON_DOCUMENT, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_version_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["push_id"],
            ["push.id"],
            name=op.f("fk_activity_version_push_id_push"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_version")),
        sa.UniqueConstraint(
            "activity_id", "version", name=op.f("uq_activity_version_activity_id_version")
        ),
    )
    with op.batch_alter_table("activity_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_version_push_id"), ["push_id"], unique=False)

    op.create_table(
        "budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_budget_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget")),
    )
    with op.batch_alter_table("budget", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budget_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_budget_period_start"), ["period_start"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("format", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("categories", JSON_DOCUMENT, nullable=False),
        sa.Column("languages", JSON_DOCUMENT, nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_document_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("latitude", EXACT_DECIMAL, nullable=True),
        sa.Column("longitude", EXACT_DECIMAL, nullable=True),
        sa.Column("administrative", JSON_DOCUMENT, nullable=False),
        sa.Column("exactness", sa.String(), nullable=True),
        sa.Column("location_class", sa.String(), nullable=True),
        sa.Column("feature_designation", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_location_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "participating_org",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("activity_ref", sa.String(), nullable=True),
        sa.Column("crs_channel_code", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_participating_org_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_participating_org_organisation_id_organisation"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participating_org")),
    )
    with op.batch_alter_table("participating_org", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participating_org_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_participating_org_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_participating_org_ref"), ["ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_participating_org_role"), ["role"], unique=False)

    op.create_table(
        "planned_disbursement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("provider_ref", sa.String(), nullable=True),
        sa.Column("receiver_ref", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_planned_disbursement_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_disbursement")),
    )
    with op.batch_alter_table("planned_disbursement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_planned_disbursement_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_planned_disbursement_period_start"), ["period_start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_planned_disbursement_provider_ref"), ["provider_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_planned_disbursement_receiver_ref"), ["receiver_ref"], unique=False
        )

    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("aggregation_status", sa.Boolean(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_result_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result")),
    )
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "transaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("provider_ref", sa.String(), nullable=True),
        sa.Column("provider_name", sa.String(), nullable=True),
        sa.Column("provider_activity_id", sa.String(), nullable=True),
        sa.Column("receiver_ref", sa.String(), nullable=True),
        sa.Column("receiver_name", sa.String(), nullable=True),
        sa.Column("receiver_activity_id", sa.String(), nullable=True),
        sa.Column("flow_type", sa.String(), nullable=True),
        sa.Column("finance_type", sa.String(), nullable=True),
        sa.Column("tied_status", sa.String(), nullable=True),
        sa.Column("disbursement_channel", sa.String(), nullable=True),
        sa.Column("aid_types", JSON_DOCUMENT, nullable=False),
        sa.Column("humanitarian", sa.Boolean(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_transaction_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction")),
    )
    with op.batch_alter_table("transaction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transaction_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transaction_date"), ["date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_transaction_provider_ref"), ["provider_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_transaction_receiver_ref"), ["receiver_ref"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transaction_type"), ["type"], unique=False)

    op.create_table(
        "indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(), nullable=True),
        sa.Column("ascending", sa.Boolean(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_indicator_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["result.id"],
            name=op.f("fk_indicator_result_id_result"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator")),
    )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_indicator_result_id"), ["result_id"], unique=False)

    op.create_table(
        "recipient_country",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("percentage", EXACT_DECIMAL, nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_recipient_country_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction.id"],
            name=op.f("fk_recipient_country_transaction_id_transaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_country")),
    )
    with op.batch_alter_table("recipient_country", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipient_country_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recipient_country_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recipient_country_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "recipient_region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("vocabulary", sa.String(), nullable=True),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("percentage", EXACT_DECIMAL, nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_recipient_region_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction.id"],
            name=op.f("fk_recipient_region_transaction_id_transaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_region")),
    )
    with op.batch_alter_table("recipient_region", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipient_region_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recipient_region_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recipient_region_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "sector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("vocabulary", sa.String(), nullable=True),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("percentage", EXACT_DECIMAL, nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_sector_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction.id"],
            name=op.f("fk_sector_transaction_id_transaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sector")),
    )
    with op.batch_alter_table("sector", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sector_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sector_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sector_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "indicator_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("targets", JSON_DOCUMENT, nullable=False),
        sa.Column("actuals", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_indicator_period_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicator.id"],
            name=op.f("fk_indicator_period_indicator_id_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_period")),
    )
    with op.batch_alter_table("indicator_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_period_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_period_indicator_id"), ["indicator_id"], unique=False
        )



def downgrade() -> None:
    """Drop every table, children first (their indexes go with them)."""
    op.drop_table("indicator_period")
    op.drop_table("sector")
    op.drop_table("recipient_region")
    op.drop_table("recipient_country")
    op.drop_table("indicator")
    op.drop_table("transaction")
    op.drop_table("result")
    op.drop_table("planned_disbursement")
    op.drop_table("participating_org")
    op.drop_table("location")
    op.drop_table("document")
    op.drop_table("budget")
    op.drop_table("activity_version")
    op.drop_table("push_activity")
    op.drop_table("activity")
    op.drop_table("push")
    op.drop_table("organisation_ref")
    op.drop_table("api_key")
    op.drop_table("organisation")
