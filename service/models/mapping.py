"""The ministry's decisions on crosswalk rows: overrides, kept with who made them and when."""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent
from service.models.types import JSONDocument, UtcDateTime


class MappingOverride(IdTable, table=True):
    """The rows that replace a crosswalk's rows for one key, from `created_at` on.

    An override is never changed: a new decision supersedes it (`superseded_at`), and a
    reversion to the file's rows supersedes it with no successor. The active overrides
    are those not superseded.
    """

    __tablename__ = "mapping_override"

    crosswalk: str = Field(index=True)
    key: list[str] = Field(sa_type=JSONDocument, nullable=False)
    rows: list[dict[str, Any]] = Field(sa_type=JSONDocument, nullable=False)
    organisation_id: int = parent("organisation", ondelete="RESTRICT")
    api_key_id: int | None = parent("api_key", nullable=True, ondelete="SET NULL")
    note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: dt.datetime = created_at()
    superseded_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
