"""Activities as stored: the current state of each, every version as received, and every
change of the organisation that owns one."""

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent, updated_at
from service.models.types import JSONDocument, UtcDateTime, enum_column


class Activity(IdTable, table=True):
    """The current version of one IATI activity, with the columns most often filtered on.

    `document` is the internal model's JSON dump (`Activity.model_dump(mode="json")`),
    from which the query tables are rebuilt; `findings` are the ruleset warnings stored
    with it. A deleted activity keeps its row as a tombstone (`deleted_at`).
    """

    # `updated_since` and the sort by `updated_at` read the first index. `deleted_at` is
    # indexed only where set: on every live row, the index would only mislead the planner.
    # The dates are indexed together, so that the activities running in a period are
    # found from the index alone; so are each organisation's last changes (quality).
    # `identifier_key` is unique where set: the rows an upgrade found to share one (see
    # revision 0020) have none.
    __table_args__ = (
        sa.Index("ix_activity_identifier_key", "identifier_key", unique=True),
        sa.Index("ix_activity_updated_at", "updated_at"),
        sa.Index("ix_activity_organisation_updated", "organisation_id", "updated_at"),
        sa.Index("ix_activity_dates", "start_date", "end_date"),
        sa.Index("ix_activity_deleted_at", "deleted_at",
                 sqlite_where=sa.text("deleted_at IS NOT NULL"),
                 postgresql_where=sa.text("deleted_at IS NOT NULL")),
    )

    iati_identifier: str = Field(index=True)  # as published
    # The identifier as compared (Unicode NFC, `service.identifiers.identifier_key`).
    identifier_key: str | None = None
    organisation_id: int = parent("organisation", ondelete="RESTRICT")
    reporting_org_ref: str | None = Field(default=None, index=True)
    version: int = 1
    content_hash: str = Field(sa_type=sa.String(64))
    # SHA-256 of the XML as received: a re-push of the same bytes is known unchanged unread.
    received_hash: str | None = Field(default=None, sa_type=sa.String(64))
    iati_version: str | None = Field(default=None, sa_type=sa.String(16))
    last_updated_datetime: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    title: str | None = Field(default=None, sa_type=sa.Text)
    # The first activity-date of each type (1 planned start, 2 actual start, 3 planned
    # end, 4 actual end); the effective start and end are the actual, else the planned.
    planned_start: dt.date | None = None
    actual_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_end: dt.date | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = Field(default=None, index=True)
    default_currency: str | None = None
    activity_status: str | None = Field(default=None, index=True)
    hierarchy: int | None = None
    humanitarian: bool | None = None
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument, nullable=False)
    findings: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    deleted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
    last_push_id: str | None = Field(
        default=None,
        foreign_key="push.id",
        ondelete="SET NULL",
        sa_type=sa.String(36),
        index=True,
    )


class ActivityVersion(IdTable, table=True):
    """One version of an activity: the XML exactly as received and what changed.

    A deletion is a version too (`deleted`, with no XML), so the history shows it. The
    version outlives its push record (`push_id` is then cleared).
    """

    __tablename__ = "activity_version"
    __table_args__ = (sa.UniqueConstraint("activity_id", "version"),)

    # Indexed by the unique constraint, whose first column it is.
    activity_id: int = Field(foreign_key="activity.id", ondelete="CASCADE")
    version: int
    push_id: str | None = Field(
        default=None,
        foreign_key="push.id",
        ondelete="SET NULL",
        sa_type=sa.String(36),
        index=True,
    )
    content_hash: str | None = Field(default=None, sa_type=sa.String(64))
    received_xml: str | None = Field(default=None, sa_type=sa.Text)
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument, nullable=False)
    deleted: bool = False
    created_at: datetime = created_at()


class TransferKind(StrEnum):
    """Who moved an activity to another organisation."""

    ministry = "ministry"  # an admin's decision
    prefix = "prefix"  # a push by the owner of the identifier's prefix (see the push policy)


class ActivityTransfer(IdTable, table=True):
    """An activity, live or deleted, moved with its history from one organisation to
    another: who decided, when, why, and on what evidence."""

    __tablename__ = "activity_transfer"

    activity_id: int = parent("activity", ondelete="RESTRICT")
    iati_identifier: str
    from_organisation_id: int = parent("organisation", ondelete="RESTRICT")
    to_organisation_id: int = parent("organisation", ondelete="RESTRICT")
    version: int  # the activity's version when it changed hands
    kind: TransferKind = Field(sa_type=enum_column(TransferKind))
    reason: str = Field(sa_type=sa.Text)
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    push_id: str | None = Field(
        default=None, foreign_key="push.id", ondelete="SET NULL", sa_type=sa.String(36),
        index=True,
    )
    decided_by_key_id: int | None = parent("api_key", nullable=True, ondelete="SET NULL")
    decided_by: str
    decided_at: datetime = created_at()
