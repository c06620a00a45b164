"""Pull sync: one row per dataset URL that `iati-ec sync` reads, with what it last saw there."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent
from service.models.types import UtcDateTime, enum_column


class SyncStatus(StrEnum):
    """What the last sync of a source did: `pushed` a changed file, found it `not-modified`
    (HTTP 304) or `unchanged` (same SHA-256), `failed` (download or push), or found it
    `gone` from the sources file and its listings."""

    pushed = "pushed"
    not_modified = "not-modified"
    unchanged = "unchanged"
    failed = "failed"
    gone = "gone"


class SyncSource(IdTable, table=True):
    """A publisher's dataset URL: its HTTP validators and fingerprint as last pushed, and
    the outcome of the last sync. For a `gone` source, `checked_at` is when a sync first
    found it gone (later syncs leave it).

    `etag`, `last_modified` and `sha256` are those of the last file whose push completed,
    so that a file that failed is fetched and tried again on the next sync.
    """

    __tablename__ = "sync_source"

    url: str = Field(sa_type=sa.String(2048), unique=True)
    organisation_id: int = parent("organisation")
    dataset: str | None = Field(default=None, sa_type=sa.String(200))
    etag: str | None = Field(default=None, sa_type=sa.String(512))
    last_modified: str | None = Field(default=None, sa_type=sa.String(64))
    sha256: str | None = Field(default=None, sa_type=sa.String(64))
    status: SyncStatus | None = Field(default=None, sa_type=enum_column(SyncStatus))
    # The last push made from this source; its outcomes name the activities it holds.
    push_id: str | None = Field(
        default=None, foreign_key="push.id", ondelete="SET NULL", sa_type=sa.String(36),
        index=True,
    )
    error: str | None = None
    consecutive_failures: int = 0
    created_at: datetime = created_at()
    checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    changed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
