"""Store activities' Ecuador budget views, in the caller's transaction, with SQLAlchemy Core.

A push stores the view of each new activity version (`replace_views`) in the same
transaction as the version itself, so a view never describes a version that was not
stored. `add_view` adds a view under the current mapping version beside the earlier ones
(what `iati-ec remap` does); a deletion drops the activity's views (`drop_views`). Either
way, the figures of the activity's latest view, and only those, are kept in `CURRENT`
for the aggregates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select

from iati.elements.activity import Activity as IatiActivity
from mappings.crosswalks import Overrides, overridden
from mappings.engine import BudgetView as View
from mappings.engine import Figure, budget_view
from service.models import Activity, BudgetFigure, BudgetView, CurrentFigure, utcnow
from service.services.mappings import active_overrides

VIEW: Table = BudgetView.__table__  # type: ignore[attr-defined]
FIGURE: Table = BudgetFigure.__table__  # type: ignore[attr-defined]
CURRENT: Table = CurrentFigure.__table__  # type: ignore[attr-defined]
_ACTIVITY: Table = Activity.__table__  # type: ignore[attr-defined]
_INSERT_VIEW = insert(VIEW).returning(VIEW.c.id)
_INSERT_FIGURES = insert(FIGURE).returning(FIGURE.c.id, sort_by_parameter_order=True)
_INSERT_CURRENT = insert(CURRENT)
_FORGET_CURRENT = delete(CURRENT).where(CURRENT.c.activity_id == bindparam("activity"))
_REPORTING_ORG = select(_ACTIVITY.c.reporting_org_ref).where(
    _ACTIVITY.c.id == bindparam("activity")
)
_VIEWS_OF = select(VIEW.c.id).where(VIEW.c.activity_id == bindparam("activity"))
_DELETE = (
    _FORGET_CURRENT,
    delete(FIGURE).where(FIGURE.c.view_id.in_(_VIEWS_OF)),
    delete(VIEW).where(VIEW.c.activity_id == bindparam("activity")),
)


def replace_views(
    connection: Connection, activity_id: int, version: int, model: IatiActivity
) -> None:
    """The activity's views replaced by the one of its new `version`."""
    drop_views(connection, activity_id)
    add_view(connection, activity_id, version, model, active_overrides(connection))


def add_view(
    connection: Connection, activity_id: int, version: int, model: IatiActivity,
    overrides: Overrides | None,
) -> None:
    """The view of `model` under the current mapping version (the crosswalks with
    `overrides`, the ministry's decisions in effect), added to the activity's."""
    with overridden(overrides):
        view = budget_view(model)
    view_id = connection.execute(_INSERT_VIEW, {
        "activity_id": activity_id, "activity_version": version,
        "mapping_version": view.mapping_version, "ecuador_share": view.ecuador_share,
        "findings": _findings(view), "created_at": utcnow(),
    }).scalar_one()
    connection.execute(_FORGET_CURRENT, {"activity": activity_id})  # an earlier view's
    if not view.figures:
        return
    ids = connection.execute(
        _INSERT_FIGURES, [_row(view_id, f) for f in view.figures]
    ).scalars().all()
    reporting_org = connection.execute(_REPORTING_ORG, {"activity": activity_id}).scalar()
    connection.execute(_INSERT_CURRENT, [
        {"id": figure_id, "activity_id": activity_id, "reporting_org_ref": reporting_org,
         "location": f.location, "measure": f.measure.value, "year": f.year,
         "classification": f.classification.value, "code": f.code,
         "amount_cents": cents(f.usd)}
        for figure_id, f in zip(ids, view.figures, strict=True)
    ])


def drop_views(connection: Connection, activity_id: int) -> None:
    """Every view of the activity, and their figures, deleted."""
    for statement in _DELETE:
        connection.execute(statement, {"activity": activity_id})


def cents(amount: Decimal) -> int:
    """`amount` in whole cents; a figure in US dollars is always rounded to the cent."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} USD is not a whole number of cents")
    return int(scaled)


def _findings(view: View) -> list[dict[str, str]]:
    return [
        {"code": f.code, "message": f.message, "location": f.location} for f in view.findings
    ]


def _row(view_id: int, figure: Figure) -> dict[str, Any]:
    return {
        "view_id": view_id, "location": figure.location, "measure": figure.measure.value,
        "year": figure.year, "classification": figure.classification.value,
        "code": figure.code, "amount_usd": figure.usd, "original_amount": figure.original,
        "currency": figure.currency, "rate": figure.rate, "rate_date": figure.rate_date,
        "rule": figure.rule, "status": figure.status.value, "table_version": figure.version,
        "reason": figure.reason,
    }
