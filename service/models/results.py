"""Query tables of an activity's results: results, their indicators and indicator periods.

Rebuilt from the model each time the activity changes (see `service.projection`). The
child rows name their parent through relationships, so they can be built before any id
exists; `activity_id` is repeated on each so an activity's rows are removed in one go.
"""

import datetime as dt
from typing import Any, Optional

from sqlmodel import Field, Relationship

from service.models.base import IdTable, parent
from service.models.types import JSONDocument


class Result(IdTable, table=True):
    """A result of an activity, in file order (`position` from 1)."""

    activity_id: int | None = parent("activity")
    position: int
    type: str | None = None
    aggregation_status: bool | None = None
    title: str | None = None
    description: str | None = None


class Indicator(IdTable, table=True):
    """An indicator of a result, in order within it."""

    result_id: int | None = parent("result")
    activity_id: int | None = parent("activity")
    position: int
    measure: str | None = None
    ascending: bool | None = None
    title: str | None = None
    description: str | None = None

    result: Optional[Result] = Relationship()  # noqa: UP045 - SQLModel needs Optional


class IndicatorPeriod(IdTable, table=True):
    """A period of an indicator with its targets and actuals (value, comment, …)."""

    __tablename__ = "indicator_period"

    indicator_id: int | None = parent("indicator")
    activity_id: int | None = parent("activity")
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    targets: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    actuals: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )

    indicator: Optional[Indicator] = Relationship()  # noqa: UP045 - SQLModel needs Optional
