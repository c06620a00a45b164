"""The review list: what the budget views could not classify, grouped by reason.

Every unmapped figure of every activity's latest view, grouped by classification and
reason, with how many figures and activities and how many US dollars each reason holds:
what the ministry reviews to decide crosswalk rows, or to ask donors for what is missing.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Engine, func, select

from mappings.tables import Classification
from service.services.budget.export import ACTIVITY
from service.services.budget.storage import FIGURE, VIEW


class ReviewItem(BaseModel):
    classification: str
    reason: str
    figures: int
    activities: int
    amount_usd: Decimal


def review_list(
    engine: Engine, *, classification: str | None = None, reporting_org: str | None = None
) -> list[ReviewItem]:
    """The reasons of unmapped money, the largest amount first."""
    latest = select(func.max(VIEW.c.id)).group_by(VIEW.c.activity_id)
    statement = (
        select(FIGURE.c.classification, FIGURE.c.reason, VIEW.c.activity_id,
               FIGURE.c.amount_usd)
        .join(VIEW, VIEW.c.id == FIGURE.c.view_id)
        .join(ACTIVITY, ACTIVITY.c.id == VIEW.c.activity_id)
        .where(FIGURE.c.code.is_(None), VIEW.c.id.in_(latest), ACTIVITY.c.deleted_at.is_(None),
               # the DAC sector split is not an Ecuadorian table: its unmapped parts are
               # already listed under the investment subsectors; a disbursement channel
               # is a flag the publisher may give, nothing the ministry can map
               FIGURE.c.classification.not_in([Classification.sector.value,
                                               Classification.disbursement_channel.value]))
    )
    if classification is not None:
        statement = statement.where(FIGURE.c.classification == classification)
    if reporting_org is not None:
        statement = statement.where(ACTIVITY.c.reporting_org_ref == reporting_org)
    groups: dict[tuple[str, str], tuple[int, set[int], Decimal]] = {}
    with engine.connect() as connection:
        for kind, reason, activity, amount in connection.execute(statement):
            count, activities, total = groups.get((kind, reason or ""), (0, set(), Decimal(0)))
            activities.add(activity)
            groups[kind, reason or ""] = (count + 1, activities, total + amount)
    items = [
        ReviewItem(classification=kind, reason=reason, figures=count,
                   activities=len(activities), amount_usd=total)
        for (kind, reason), (count, activities, total) in groups.items()
    ]
    return sorted(items, key=lambda item: (-item.amount_usd, item.classification, item.reason))
