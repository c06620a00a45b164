"""Add text search: activity_text (the words of each activity's titles and descriptions),
with an FTS5 index on SQLite and a GIN index on PostgreSQL.

Filled for the activities already stored from their stored documents, with the folding
that pushes and searches used when it was written (accents removed, case folded, words
joined by spaces). The migration carries that folding itself, so that replaying it gives
the same rows whatever the application's code becomes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 04:40:00
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ACTIVITY = sa.table("activity", sa.column("id", sa.Integer()), sa.column("document", JSON_DOCUMENT))
TEXT = sa.table(
    "activity_text", sa.column("activity_id", sa.Integer()), sa.column("body", sa.Text())
)
# The FTS5 index reads its text from activity_text (external content); these triggers
# keep it in step with every insert, update and delete there, cascades included.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER activity_text_insert AFTER INSERT ON activity_text BEGIN
        INSERT INTO activity_search (rowid, body) VALUES (new.id, new.body); END""",
    """CREATE TRIGGER activity_text_delete AFTER DELETE ON activity_text BEGIN
        INSERT INTO activity_search (activity_search, rowid, body)
        VALUES ('delete', old.id, old.body); END""",
    """CREATE TRIGGER activity_text_update AFTER UPDATE ON activity_text BEGIN
        INSERT INTO activity_search (activity_search, rowid, body)
        VALUES ('delete', old.id, old.body);
        INSERT INTO activity_search (rowid, body) VALUES (new.id, new.body); END""",
)
# A word: letters or digits (the `*` of a prefix search belongs to searches only).
WORD = re.compile(r"([^\W_]+)(\*)?")


def fold(text: str) -> str:
    """`text` without accents, case folded (NFKD: ligatures and full-width forms too)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(texts: Iterable[str | None]) -> str:
    """The folded words of `texts`, joined by spaces: what the index holds."""
    return " ".join(
        match.group(1) for text in texts if text for match in WORD.finditer(fold(text))
    )


def document_text(document: Mapping[str, Any]) -> str:
    """The searchable words of a stored document: its title's and descriptions' narratives."""
    groups = [document.get("title") or {}, *(document.get("descriptions") or [])]
    return words(
        narrative.get("text")
        for group in groups for narrative in (group.get("narratives") or [])
    )


def upgrade() -> None:
    op.create_table(
        "activity_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_activity_text_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_text")),
    )
    op.create_index(op.f("ix_activity_text_activity_id"), "activity_text", ["activity_id"])
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE activity_search USING fts5(body, content='activity_text', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    elif connection.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_activity_text_search ON activity_text "
            "USING gin (to_tsvector('simple'::regconfig, body))"
        )
    stored = connection.execute(sa.select(ACTIVITY.c.id, ACTIVITY.c.document))
    while batch := stored.fetchmany(1000):
        connection.execute(TEXT.insert(), [
            {"activity_id": key, "body": document_text(document or {})}
            for key, document in batch
        ])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete", "insert"):
            op.execute(f"DROP TRIGGER activity_text_{name}")
        op.execute("DROP TABLE activity_search")
    op.drop_table("activity_text")
