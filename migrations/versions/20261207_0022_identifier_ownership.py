"""Identifiers compared in Unicode NFC; the identifier prefixes organisations own; transfers.

`activity.identifier_key` is each identifier's NFC form, unique where set; the identifier
as published stays as it was, indexed but no longer unique. Two activities
stored before this revision whose identifiers differ only in normalisation (``CAFÉ``
precomposed and decomposed) cannot both have it: the key goes to the live one, else to
either, the one stored first (the lower id) among equals; the others keep no key and are
logged here. They stay as they were, readable in lists and exports; no push or request
by identifier reaches them any more, and their publisher's next push of its whole
dataset (`scope=dataset`) deletes them.

`identifier_prefix` starts with the identifiers of every organisation that publishes
(it holds an API key, has pushed, or owns activities): the partners registered from the
participating-orgs of others' activities own no prefix. An identifier two of those share
once normalised goes to the one registered first.

`activity_transfer` records each activity moved from one organisation to another.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 09:00:00
"""

import logging
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MOMENT = sa.DateTime(timezone=True)
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    # The identifier as published is no longer unique (its key is): indexed for the joins
    # that match identifiers as published (links, duplicates).
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("identifier_key", sa.String(), nullable=True))
        batch.drop_constraint("uq_activity_iati_identifier", type_="unique")
        batch.create_index("ix_activity_iati_identifier", ["iati_identifier"])
    _key_activities(op.get_bind())
    op.create_index("ix_activity_identifier_key", "activity", ["identifier_key"], unique=True)
    _create_prefixes()
    _register_refs(op.get_bind())
    _create_transfers()


def _key_activities(connection: sa.Connection) -> None:
    """Each activity's NFC key; where several share one, the live one (then the first
    stored) takes it and the others keep none."""
    connection.execute(sa.text("UPDATE activity SET identifier_key = iati_identifier"))
    rows = connection.execute(sa.text(
        "SELECT id, iati_identifier, deleted_at IS NOT NULL FROM activity ORDER BY id"
    )).all()
    by_key: dict[str, list[tuple[bool, int, str]]] = defaultdict(list)
    for activity_id, identifier, deleted in rows:
        by_key[unicodedata.normalize("NFC", identifier)].append(
            (bool(deleted), activity_id, identifier)
        )
    for key, sharing in sorted(by_key.items()):
        if len(sharing) == 1 and sharing[0][2] == key:
            continue  # already in NFC: keyed by the bulk update
        _deleted, kept, _identifier = min(sharing)
        for _, activity_id, identifier in sharing:
            if activity_id != kept:
                log.warning("activity %s (%r) has no identifier key: activity %s has its "
                            "NFC form %r", activity_id, identifier, kept, key)
        connection.execute(
            sa.text("UPDATE activity SET identifier_key = NULL WHERE id = :id"),
            [{"id": activity_id} for _, activity_id, _ in sharing],
        )
        connection.execute(
            sa.text("UPDATE activity SET identifier_key = :key WHERE id = :id"),
            {"key": key, "id": kept},
        )


def _create_prefixes() -> None:
    op.create_table(
        "identifier_prefix",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("prefix_key", sa.String(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("registered_by_key_id", sa.Integer(), nullable=True),
        sa.Column("registered_by", sa.String(), nullable=False),
        sa.Column("registered_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_identifier_prefix_organisation_id_organisation"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_key_id"], ["api_key.id"],
            name=op.f("fk_identifier_prefix_registered_by_key_id_api_key"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_prefix")),
        sa.UniqueConstraint("prefix_key", name=op.f("uq_identifier_prefix_prefix_key")),
    )
    for column in ("organisation_id", "registered_by_key_id"):
        op.create_index(f"ix_identifier_prefix_{column}", "identifier_prefix", [column])


def _register_refs(connection: sa.Connection) -> None:
    """The identifiers of the organisations that publish, as the prefixes they own."""
    refs = connection.execute(sa.text(
        "SELECT organisation_id, ref FROM organisation_ref AS r WHERE "
        "EXISTS (SELECT 1 FROM api_key WHERE api_key.organisation_id = r.organisation_id) OR "
        "EXISTS (SELECT 1 FROM push WHERE push.organisation_id = r.organisation_id) OR "
        "EXISTS (SELECT 1 FROM activity WHERE activity.organisation_id = r.organisation_id) "
        "ORDER BY id"
    )).all()
    taken: set[str] = set()
    now = datetime.now(UTC)
    for organisation_id, ref in refs:
        key = unicodedata.normalize("NFC", ref)
        if key in taken or len(key.encode("utf-8")) > 500:
            continue
        taken.add(key)
        connection.execute(sa.text(
            "INSERT INTO identifier_prefix (organisation_id, prefix, prefix_key, source, "
            "registered_by, registered_at) VALUES (:organisation, :prefix, :key, 'ref', "
            ":by, :at)"
        ), {"organisation": organisation_id, "prefix": ref, "key": key,
            "by": "revision 0020", "at": now})


def _create_transfers() -> None:
    op.create_table(
        "activity_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("iati_identifier", sa.String(), nullable=False),
        sa.Column("from_organisation_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", JSON_DOCUMENT, nullable=False),
        sa.Column("push_id", sa.String(length=36), nullable=True),
        sa.Column("decided_by_key_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_activity_transfer_activity_id_activity"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_organisation_id"], ["organisation.id"],
            name=op.f("fk_activity_transfer_from_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"], ["organisation.id"],
            name=op.f("fk_activity_transfer_to_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["push_id"], ["push.id"], name=op.f("fk_activity_transfer_push_id_push"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_key_id"], ["api_key.id"],
            name=op.f("fk_activity_transfer_decided_by_key_id_api_key"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_transfer")),
    )
    for column in ("activity_id", "from_organisation_id", "to_organisation_id", "push_id",
                   "decided_by_key_id"):
        op.create_index(f"ix_activity_transfer_{column}", "activity_transfer", [column])


def downgrade() -> None:
    op.drop_table("activity_transfer")
    op.drop_table("identifier_prefix")
    op.drop_index("ix_activity_identifier_key", table_name="activity")
    with op.batch_alter_table("activity") as batch:
        batch.drop_index("ix_activity_iati_identifier")
        batch.create_unique_constraint("uq_activity_iati_identifier", ["iati_identifier"])
        batch.drop_column("identifier_key")
