"""Store activities' Ecuador budget views, in the caller's transaction, with SQLAlchemy Core.

A push stores the view of each new activity version (`replace_views`) in the same
transaction as the version itself, so a view never describes a version that was not
stored. `add_view` adds a view under the current mapping version beside the earlier ones
(what `iati-ec remap` does); a deletion drops the activity's views (`drop_views`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select

from iati.elements.activity import Activity as IatiActivity
from mappings.crosswalks import Overrides, overridden
from mappings.engine import BudgetView as View
from mappings.engine import Figure, budget_view
from service.models import BudgetFigure, BudgetView, utcnow
from service.services.mappings import active_overrides

VIEW: Table = BudgetView.__table__  # type: ignore[attr-defined]
FIGURE: Table = BudgetFigure.__table__  # type: ignore[attr-defined]
_INSERT_VIEW = insert(VIEW).returning(VIEW.c.id)
_INSERT_FIGURE = insert(FIGURE)
_VIEWS_OF = select(VIEW.c.id).where(VIEW.c.activity_id == bindparam("activity"))
_DELETE = (
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
    if view.figures:
        connection.execute(_INSERT_FIGURE, [_row(view_id, f) for f in view.figures])


def drop_views(connection: Connection, activity_id: int) -> None:
    """Every view of the activity, and their figures, deleted."""
    for statement in _DELETE:
        connection.execute(statement, {"activity": activity_id})


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
