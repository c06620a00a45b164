"""The dashboard's security lens page: security and development cooperation side by side
by year, donor and instrument, by province where the budget view allows it, aligned with
the national citizen security plan, and the activities its keywords propose for review.
It reads the same aggregates as `GET /api/v1/aggregates?group_by=lens&ecuador=true`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from mappings.amounts import Measure
from mappings.lenses import Lens, security_policy
from service.api.deps import SessionDep
from service.services.aggregates import Aggregates, GroupBy, aggregate
from service.services.lens import by_objective, by_province, definition, proposals, share
from service.services.traceability import Basis
from service.web import labels, overview
from service.web.filters import PageFilters
from service.web.pages import render

router = APIRouter(include_in_schema=False)
GROUPINGS = (GroupBy.year, GroupBy.reporting_org, GroupBy.instrument)


@dataclass
class SideRow:
    """One group's security and development money, and the security share of the two."""

    group: Any
    security: Decimal = Decimal(0)
    development: Decimal = Decimal(0)
    activities: set[str] = field(default_factory=set)

    @property
    def total(self) -> Decimal:
        return self.security + self.development

    @property
    def share(self) -> Decimal | None:
        return share(self.security, self.total)


def side_by_side(found: Aggregates, grouping: GroupBy) -> list[SideRow]:
    """`found` (grouped by lens and `grouping`) as one row per group, security beside
    development; instruments in the overview's columns (grants, loans, other)."""
    rows: dict[Any, SideRow] = {}
    for row in found.rows:
        value = row.group[grouping.value]
        if grouping is GroupBy.instrument:
            value = overview.instrument_of(value)
        into = rows.setdefault(value, SideRow(value))
        if row.group[GroupBy.lens.value] == Lens.security.value:
            into.security += row.amount_usd
        else:
            into.development += row.amount_usd
    return sorted(rows.values(), key=lambda r: (r.group is None, str(r.group or "")))


def _tables(
    connection: Connection, filters: PageFilters, measure: Measure, basis: Basis,
) -> dict[str, list[SideRow]]:
    tables = {}
    for grouping in GROUPINGS:
        found = aggregate(connection, filters.activity_filter(),
                          group_by=[GroupBy.lens, grouping], measures=[measure],
                          year_from=filters.year, year_to=filters.year, basis=basis)
        tables[grouping.value] = side_by_side(found, grouping)
    return tables


@router.get("/seguridad", response_class=HTMLResponse)
def security_page(
    request: Request, session: SessionDep,
    measure: Annotated[Measure, Query()] = Measure.disbursement,
    basis: Annotated[Basis, Query()] = Basis.net,
) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    chosen = filters.activity_filter()
    connection = session.connection()
    tables = _tables(connection, filters, measure, basis)
    totals = side_by_side(aggregate(
        connection, chosen, group_by=[GroupBy.lens, GroupBy.measure], measures=[measure],
        year_from=filters.year, year_to=filters.year, basis=basis), GroupBy.measure)
    by_sector = aggregate(connection, chosen, group_by=[GroupBy.sector], measures=[measure],
                          year_from=filters.year, year_to=filters.year, basis=basis,
                          lens=Lens.security)
    donors = {str(row.group) for row in tables["reporting_org"] if row.group}
    common = {"measure": measure.value, "basis": basis.value}
    return render(
        request, session, "security.html", filters=filters, measure=measure,
        measures=overview.MEASURES, basis=basis, bases=list(Basis), tables=tables,
        total=totals[0] if totals else SideRow(None), lens=definition(),
        policy=security_policy(), objectives=by_objective(by_sector), by_sector=by_sector,
        provinces=by_province(connection, chosen, measure=measure, year=filters.year),
        proposals=proposals(connection, chosen),
        donor_names=labels.organisations(connection, donors),
        queries={grouping.value: filters.query(
            group_by=[GroupBy.lens.value, grouping.value], year_from=_year(filters),
            year_to=_year(filters), **common) for grouping in GROUPINGS},
        sector_query=filters.query(group_by=GroupBy.sector.value, lens=Lens.security.value,
                                   year_from=_year(filters), year_to=_year(filters), **common),
    )


def _year(filters: PageFilters) -> str | None:
    return str(filters.year) if filters.year else None
