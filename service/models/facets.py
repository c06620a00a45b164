"""Query tables of who, what and where an activity is about, and its documents.

Rebuilt from the model each time the activity changes (see `service.projection`).
Sectors, countries and regions given on a transaction rather than on the activity point
to it through `transaction_id` (set from the `transaction` relationship when saved).
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship

from service.models.base import IdTable, parent
from service.models.finance import Transaction
from service.models.types import ExactDecimal, JSONDocument


class ParticipatingOrg(IdTable, table=True):
    """An organisation taking part in an activity; `organisation_id` once it is linked."""

    __tablename__ = "participating_org"
    # Covering for the participating-organisation filter: its matches are read from the
    # index alone.
    __table_args__ = (sa.Index("ix_participating_org_ref_role", "ref", "role", "activity_id"),)

    activity_id: int | None = parent("activity")
    position: int
    ref: str | None = None
    type: str | None = None
    role: str | None = Field(default=None, index=True)
    activity_ref: str | None = None
    crs_channel_code: str | None = None
    name: str | None = None
    organisation_id: int | None = parent("organisation", nullable=True, ondelete="SET NULL")


class Sector(IdTable, table=True):
    """A sector of an activity (with its share) or of one of its transactions."""

    # Covering for the sector filter, as the next two tables' for theirs.
    __table_args__ = (sa.Index("ix_sector_code", "code", "vocabulary", "activity_id"),)

    activity_id: int | None = parent("activity")
    transaction_id: int | None = parent("transaction", nullable=True)
    vocabulary: str | None = None
    code: str | None = None
    percentage: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    name: str | None = None

    transaction: Optional[Transaction] = Relationship()  # noqa: UP045 - SQLModel needs Optional


class RecipientCountry(IdTable, table=True):
    """A recipient country of an activity (with its share) or of one of its transactions."""

    __tablename__ = "recipient_country"
    __table_args__ = (sa.Index("ix_recipient_country_code", "code", "activity_id"),)

    activity_id: int | None = parent("activity")
    transaction_id: int | None = parent("transaction", nullable=True)
    code: str | None = None
    percentage: Decimal | None = Field(default=None, sa_type=ExactDecimal)

    transaction: Optional[Transaction] = Relationship()  # noqa: UP045 - SQLModel needs Optional


class RecipientRegion(IdTable, table=True):
    """A recipient region of an activity (with its share) or of one of its transactions."""

    __tablename__ = "recipient_region"
    __table_args__ = (sa.Index("ix_recipient_region_code", "code", "activity_id"),)

    activity_id: int | None = parent("activity")
    transaction_id: int | None = parent("transaction", nullable=True)
    vocabulary: str | None = None
    code: str | None = None
    percentage: Decimal | None = Field(default=None, sa_type=ExactDecimal)

    transaction: Optional[Transaction] = Relationship()  # noqa: UP045 - SQLModel needs Optional


class Location(IdTable, table=True):
    """A place of an activity; coordinates are exact decimals (WGS 84 latitude, longitude)."""

    activity_id: int | None = parent("activity")
    ref: str | None = None
    name: str | None = None
    latitude: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    longitude: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    administrative: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    exactness: str | None = None
    location_class: str | None = None
    feature_designation: str | None = None


class Document(IdTable, table=True):
    """A document linked from an activity."""

    activity_id: int | None = parent("activity")
    url: str | None = None
    format: str | None = None
    title: str | None = None
    categories: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    languages: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    document_date: dt.date | None = None


class ActivityText(IdTable, table=True):
    """The searchable words of an activity's titles and descriptions (see `service.search`).

    The migration makes its search index: on PostgreSQL a GIN index on
    ``to_tsvector('simple', body)``; on SQLite an FTS5 table that follows this one through
    triggers.
    """

    __tablename__ = "activity_text"
    activity_id: int | None = parent("activity")
    body: str = Field(sa_type=sa.Text)
