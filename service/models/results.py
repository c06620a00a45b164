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
    # {code, vocabulary, vocabulary_uri} in external results frameworks
    reference_codes: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    # {url, format, title, categories, languages, document_date}
    document_links: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )


class Indicator(IdTable, table=True):
    """An indicator of a result, in order within it."""

    result_id: int | None = parent("result")
    activity_id: int | None = parent("activity")
    position: int
    measure: str | None = None
    ascending: bool | None = None
    aggregation_status: bool | None = None
    title: str | None = None
    description: str | None = None
    # {vocabulary, code, indicator_uri} in external indicator vocabularies
    reference_codes: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    # {year, iso_date, value, comment, locations, dimensions, document_links}, in file order
    baselines: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    document_links: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )

    result: Optional[Result] = Relationship()  # noqa: UP045 - SQLModel needs Optional


class IndicatorPeriod(IdTable, table=True):
    """A period of an indicator, in order within it, with its targets and actuals, each
    {value, comment, locations, dimensions, document_links}."""

    __tablename__ = "indicator_period"

    indicator_id: int | None = parent("indicator")
    activity_id: int | None = parent("activity")
    position: int
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    targets: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    actuals: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )

    indicator: Optional[Indicator] = Relationship()  # noqa: UP045 - SQLModel needs Optional
