"""The overview's figures: the aggregates API's answers, labelled and charted, each with
the API query that reproduces it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Connection

from mappings.amounts import Measure
from service.services.aggregates import GroupBy, aggregate
from service.services.traceability import Basis
from service.web import labels
from service.web.charts import Bar, bar_chart, choropleth
from service.web.filters import PageFilters
from service.web.i18n import money, word

MEASURES = (Measure.commitment, Measure.disbursement, Measure.expenditure)
TOP = 15  # bars in a chart; the table lists every group
# The label of a grouping's null group, where it is not "unclassified".
NONE = {GroupBy.participating_org: "no_partner"}


@dataclass(frozen=True)
class Row:
    code: str | None
    label: str
    amount: Decimal
    activities: int


@dataclass(frozen=True)
class Panel:
    """One grouping of the overview: its rows, total, chart and API query."""

    key: str
    title: str
    column: str
    rows: list[Row]
    total: Decimal
    chart: str
    api_query: str


@dataclass(frozen=True)
class YearRow:
    year: int
    amounts: dict[str, Decimal]


def by_year(
    connection: Connection, filters: PageFilters, basis: Basis
) -> tuple[list[YearRow], str]:
    """Commitments, disbursements and expenditure per year, and the API query."""
    found = aggregate(connection, filters.activity_filter(), group_by=[GroupBy.year,
                      GroupBy.measure], measures=MEASURES, basis=basis)
    years: dict[int, dict[str, Decimal]] = {}
    for row in found.rows:
        year, measure = row.group["year"], row.group["measure"]
        assert isinstance(year, int)
        assert isinstance(measure, str)
        years.setdefault(year, {})[measure] = row.amount_usd
    query = filters.query(group_by=["year", "measure"], measure=[m.value for m in MEASURES],
                          basis=basis.value)
    return [YearRow(year, amounts) for year, amounts in sorted(years.items())], query


def panels(
    connection: Connection, filters: PageFilters, measure: Measure, lang: str, basis: Basis
) -> list[Panel]:
    """The overview's groupings of `measure`: by donor, by implementing partner (each
    activity's money shared equally among its partners, as the aggregates API does), by
    sector, province and plan objective."""
    names = labels.organisations(connection, set())

    def organisation(code: str | None) -> str | None:
        return names.get(code or "") or code

    groupings: list[tuple[str, GroupBy, Callable[[str | None], str | None], str]] = [
        ("by_donor", GroupBy.reporting_org, organisation, "donor"),
        ("by_partner", GroupBy.participating_org, organisation, "partner"),
        ("by_sector", GroupBy.sector_category, labels.sector, "sector"),
        ("by_province", GroupBy.province, labels.province, "province"),
        ("by_objective", GroupBy.plan_objective, labels.plan_objective, "objective"),
    ]
    found = []
    for key, group, name, column in groupings:
        answer = aggregate(connection, filters.activity_filter(), group_by=[group],
                           measures=[measure], year_from=filters.year, year_to=filters.year,
                           basis=basis)
        if group in (GroupBy.reporting_org, GroupBy.participating_org):
            refs = {str(r.group[group.value]) for r in answer.rows if r.group[group.value]}
            names.update(labels.organisations(connection, refs))
        nothing = word(NONE.get(group, "unclassified"), lang)
        rows = sorted(
            (Row(code=_code(r.group[group.value]),
                 label=name(_code(r.group[group.value])) or nothing,
                 amount=r.amount_usd, activities=r.activities) for r in answer.rows),
            key=lambda row: (-row.amount, row.label),
        )
        title = f"{word(key, lang)} — {word(measure.value, lang)}"
        bars = [Bar(row.label, row.amount, money(row.amount, lang)) for row in rows[:TOP]]
        chart = bar_chart(bars, title=f"{word('chart_of', lang)} {title}", chart_id=key)
        if group is GroupBy.province:
            placed = {row.code: row for row in rows if row.code}
            chart = choropleth(
                {code: row.amount for code, row in placed.items()},
                {code: money(row.amount, lang) for code, row in placed.items()},
                {code: row.label for code, row in placed.items()},
                title=f"{word('map_of', lang)} {title}", chart_id=key,
                legend=[money(Decimal(0), lang),
                        money(max((r.amount for r in placed.values()), default=Decimal(0)),
                              lang)],
            ) + chart
        extra = {"group_by": group.value, "measure": measure.value, "basis": basis.value}
        if filters.year:
            extra |= {"year_from": str(filters.year), "year_to": str(filters.year)}
        found.append(Panel(
            key=key, title=title, column=column, rows=rows, total=answer.total_usd,
            chart=chart,
            api_query=filters.query(**extra),
        ))
    return found


def _code(value: object) -> str | None:
    return None if value is None else str(value)


__all__ = ["MEASURES", "Panel", "YearRow", "by_year", "panels"]
