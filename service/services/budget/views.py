"""Read an activity's Ecuador budget view, and recompute views after a mapping change.

`read_view` gives the view of the activity's current version under the current mapping
version, or under an earlier one that is still kept (`mapping_version`). `remap` computes,
for every live activity that has none, its view under the current mapping version,
leaving the earlier views in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import Engine, and_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from mappings.amounts import Measure
from mappings.crosswalks import NOT_APPLICABLE, overridden
from mappings.engine import mapping_version
from mappings.tables import Classification
from service.db import session_scope
from service.errors import DomainError
from service.models import Activity, BudgetFigure, BudgetView
from service.readmodel.clock import record
from service.services.activities import live_activity
from service.services.budget.storage import VIEW, add_view
from service.services.mappings import active_overrides
from service.services.push.reading import model_of
from service.services.push.storage import ACTIVITY

Progress = Callable[[int, int], None]  # activities done, activities to do


class BudgetViewNotFoundError(DomainError):
    """The activity has no view under the mapping version asked for."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "budget-view.not-found"
    title: ClassVar[str] = "No budget view"


class FigurePublic(BaseModel):
    """Part of one amount in one year and one classification: its code, or why none."""

    location: str
    measure: str
    year: int
    classification: str
    code: str | None
    amount_usd: Decimal
    original_amount: Decimal
    currency: str
    rate: Decimal
    rate_date: date
    rule: str
    status: str
    table_version: str
    unmapped_reason: str | None


class TotalPublic(BaseModel):
    """The sum of an activity's figures for one measure, year, classification and code."""

    measure: str
    year: int
    classification: str
    code: str | None
    amount_usd: Decimal


class ViewFindingPublic(BaseModel):
    code: str
    message: str
    location: str


class BudgetViewPublic(BaseModel):
    """An activity's money in Ecuador's classifications, every figure with its rule."""

    iati_identifier: str
    activity_version: int
    mapping_version: str
    current_mapping_version: str
    mapping_versions: list[str]
    ecuador_share: Decimal | None
    totals: list[TotalPublic]
    figures: list[FigurePublic]
    findings: list[ViewFindingPublic]


def read_view(
    session: Session, identifier: str, version: str | None = None
) -> BudgetViewPublic:
    """The activity's view under mapping `version` (the latest kept one by default)."""
    activity = live_activity(session, identifier)
    with overridden(active_overrides(session.connection())):
        current = mapping_version()
    views = session.exec(
        select(BudgetView).where(col(BudgetView.activity_id) == activity.id)
        .order_by(col(BudgetView.id))
    ).all()
    chosen = next((v for v in reversed(views) if version in (None, v.mapping_version)), None)
    if chosen is None:
        kept = ", ".join(v.mapping_version for v in views) or "none"
        raise BudgetViewNotFoundError(
            f"Activity {identifier} has no budget view under mapping version "
            f"{version or current} (kept: {kept}); run `iati-ec remap` to compute "
            "the views of the current mappings.",
            iati_identifier=identifier, mapping_versions=[v.mapping_version for v in views],
        )
    figures = session.exec(
        select(BudgetFigure).where(col(BudgetFigure.view_id) == chosen.id)
        .order_by(col(BudgetFigure.id))
    ).all()
    public = [_figure(figure) for figure in figures]
    return BudgetViewPublic(
        iati_identifier=identifier, activity_version=chosen.activity_version,
        mapping_version=chosen.mapping_version, current_mapping_version=current,
        mapping_versions=[v.mapping_version for v in views],
        ecuador_share=chosen.ecuador_share, totals=_totals(public), figures=public,
        findings=[ViewFindingPublic.model_validate(f) for f in chosen.findings],
    )


def income_totals(session: Session, activity_id: int) -> dict[Measure, dict[str, Decimal]]:
    """The mapped income-ítem totals of the activity's latest view, by measure."""
    latest = session.exec(
        select(BudgetView.id).where(col(BudgetView.activity_id) == activity_id)
        .order_by(col(BudgetView.id).desc())
    ).first()
    totals: dict[Measure, dict[str, Decimal]] = {}
    if latest is None:
        return totals
    for measure, code, amount in session.exec(
        select(
            col(BudgetFigure.measure), col(BudgetFigure.code), col(BudgetFigure.amount_usd)
        ).where(
            col(BudgetFigure.view_id) == latest,
            col(BudgetFigure.classification) == Classification.income_item.value,
            col(BudgetFigure.code).is_not(None),
            col(BudgetFigure.code) != NOT_APPLICABLE,  # off-budget money has no ítem
        )
    ).all():
        assert code is not None
        by_code = totals.setdefault(Measure(measure), {})
        by_code[code] = by_code.get(code, Decimal(0)) + amount
    return totals


def _figure(row: BudgetFigure) -> FigurePublic:
    return FigurePublic(
        location=row.location, measure=row.measure, year=row.year,
        classification=row.classification, code=row.code, amount_usd=row.amount_usd,
        original_amount=row.original_amount, currency=row.currency, rate=row.rate,
        rate_date=row.rate_date, rule=row.rule, status=row.status,
        table_version=row.table_version, unmapped_reason=row.reason,
    )


def _totals(figures: list[FigurePublic]) -> list[TotalPublic]:
    sums: dict[tuple[str, int, str, str | None], Decimal] = {}
    for figure in figures:
        key = (figure.measure, figure.year, figure.classification, figure.code)
        sums[key] = sums.get(key, Decimal(0)) + figure.amount_usd
    return [
        TotalPublic(measure=m, year=y, classification=c, code=code, amount_usd=amount)
        for (m, y, c, code), amount in sums.items()
    ]


@dataclass(frozen=True, slots=True)
class Remapped:
    """What `remap` did: views computed, under which mapping version."""

    mapping_version: str
    computed: int


def remap(engine: Engine, *, progress: Progress | None = None, batch: int = 200) -> Remapped:
    """Compute the current mapping version's view (the files and the overrides in effect)
    of every live activity that lacks it.

    Each batch of activities is one transaction; a remap stopped half-way leaves whole
    views only, and the next remap takes up the rest.
    """
    with engine.connect() as connection:
        overrides = active_overrides(connection)
    with overridden(overrides):
        version = mapping_version()
    missing = (
        core_select(ACTIVITY.c.id).outerjoin(VIEW, and_(
            VIEW.c.activity_id == ACTIVITY.c.id, VIEW.c.mapping_version == version,
        ))
        .where(ACTIVITY.c.deleted_at.is_(None), VIEW.c.id.is_(None))
        .order_by(ACTIVITY.c.id)
    )
    with engine.connect() as connection:
        todo = list(connection.execute(missing).scalars())
    for start in range(0, len(todo), batch):
        with session_scope(engine, write=True) as session:
            rows = session.exec(
                select(Activity).where(col(Activity.id).in_(todo[start:start + batch]))
            ).all()
            for activity in rows:
                assert activity.id is not None
                add_view(session.connection(), activity.id, activity.version,
                         model_of(activity.document), overrides)
            record(session, "remap", activities=[a.id for a in rows if a.id is not None],
                   details={"mapping_version": version})
        if progress is not None:
            progress(min(start + batch, len(todo)), len(todo))
    return Remapped(version, len(todo))
