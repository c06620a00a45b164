"""Ecuador budget views of activities, as computed by `mappings.engine`, kept per mapping version.

A view belongs to one version of an activity and one mapping version (the tables and
crosswalks it was computed with). When the activity changes, its views are replaced by
the new version's; when the mappings change, `iati-ec remap` adds a view under the new
mapping version and the previous one stays, retrievable by its version. The figures of
each activity's latest view are also kept apart, as the aggregates read them.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.models.base import IdTable, created_at, parent
from service.models.types import ExactDecimal, JSONDocument

# The columns of `CurrentFigure` an aggregate reads, in its index's order.
AGGREGATED = ("classification", "measure", "year", "activity_id", "code", "location",
              "amount_cents", "reporting_org_ref")


class BudgetView(IdTable, table=True):
    """One activity version's budget view under one mapping version."""

    __tablename__ = "budget_view"
    __table_args__ = (sa.UniqueConstraint("activity_id", "mapping_version"),)

    # Indexed by the unique constraint, whose first column it is.
    activity_id: int = Field(foreign_key="activity.id", ondelete="CASCADE")
    activity_version: int
    mapping_version: str = Field(sa_type=sa.String(12), index=True)
    ecuador_share: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    findings: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    created_at: dt.datetime = created_at()


class BudgetFigure(IdTable, table=True):
    """Part of one amount of an activity, in one year and one Ecuadorian classification."""

    __tablename__ = "budget_figure"

    view_id: int | None = parent("budget_view")
    location: str  # the amount in the activity: `transaction[3]`, `budget[1]`, …
    measure: str = Field(index=True)
    year: int = Field(index=True)
    classification: str = Field(index=True)
    code: str | None = Field(default=None, index=True)  # None: unmapped (see `reason`)
    amount_usd: Decimal = Field(sa_type=ExactDecimal)
    original_amount: Decimal = Field(sa_type=ExactDecimal)
    currency: str = Field(sa_type=sa.String(3))
    rate: Decimal = Field(sa_type=ExactDecimal)
    rate_date: dt.date
    rule: str = Field(sa_type=sa.Text)
    status: str = Field(sa_type=sa.String(16))
    table_version: str = Field(sa_type=sa.Text)
    reason: str | None = Field(default=None, sa_type=sa.Text)


class CurrentFigure(SQLModel, table=True):
    """A figure of an activity's latest view, as the aggregates count it.

    The figures of the views that `BudgetView` keeps for earlier mapping versions stay
    out, and so do deleted activities, which have no view. Each row is written with its
    figure (`service.services.budget.storage`), with the reporting organisation of the
    activity it was computed from, so that an aggregate reads this one narrow table,
    through one index holding every column it reads. The amount is kept in whole cents
    (US dollar figures are rounded to the cent), which both databases add up exactly and
    fast.
    """

    __tablename__ = "current_figure"
    __table_args__ = (sa.Index("ix_current_figure_aggregated", *AGGREGATED),)

    id: int = Field(primary_key=True, foreign_key="budget_figure.id", ondelete="CASCADE")
    activity_id: int = Field(foreign_key="activity.id", ondelete="CASCADE", index=True)
    reporting_org_ref: str | None = None
    location: str
    measure: str
    year: int
    classification: str
    code: str | None = None
    amount_cents: int = Field(sa_type=sa.BigInteger)  # the figure's `amount_usd`, exactly
