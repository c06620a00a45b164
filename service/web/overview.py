"""The overview's figures: the aggregates API's answers, labelled and charted, each with
the API query that reproduces it. They are Ecuador's part of the money of the activities
for Ecuador, as every budget view holds it; implementing partners are grouped by registry
entry, so that an Ecuadorian entity published under several spellings is one row, shown
by its official name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Connection

from mappings.amounts import Measure
from service.services.aggregates import AggregateRow, Aggregates, GroupBy, aggregate
from service.services.traceability import Basis
from service.web import labels
from service.web.charts import Bar, bar_chart, choropleth
from service.web.filters import PageFilters
from service.web.i18n import money, word

MEASURES = (Measure.commitment, Measure.disbursement, Measure.expenditure)
TOP = 15  # bars in a chart; the table lists every group
# Non-reimbursable and reimbursable cooperation are shown apart, never added silently;
# equity, guarantees, debt relief and amounts without a finance type go under `other`.
INSTRUMENTS = ("grant", "loan", "other")
# The label of a grouping's null group, where it is not "unclassified".
NONE = {GroupBy.participating_entry: "no_partner"}


@dataclass(frozen=True)
class Label:
    """How a group is shown: its name, whether that is a publisher's text (never
    translated), and the page it links to."""

    text: str
    published: bool = False
    href: str | None = None


@dataclass(frozen=True)
class Row:
    code: str | None
    label: str
    amount: Decimal  # every instrument's, as the total column says
    activities: int
    parts: dict[str, Decimal]  # by `INSTRUMENTS`
    published: bool = False  # the label is a publisher's text
    href: str | None = None  # the page of the group (an organisation's)


def instrument_of(code: object) -> str:
    """The overview's column of an instrument code: grant, loan, or other."""
    return str(code) if code in ("grant", "loan") else "other"


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

    @property
    def part_totals(self) -> dict[str, Decimal]:
        """Each instrument's total over the rows."""
        return {i: sum((row.parts[i] for row in self.rows), Decimal(0)) for i in INSTRUMENTS}


@dataclass(frozen=True)
class YearRow:
    year: int
    instrument: str  # one of `INSTRUMENTS`
    amounts: dict[str, Decimal]


def by_year(
    connection: Connection, filters: PageFilters, basis: Basis
) -> tuple[list[YearRow], str]:
    """Commitments, disbursements and expenditure per year and instrument (grants and
    loans apart), and the API query."""
    groups = [GroupBy.year, GroupBy.instrument, GroupBy.measure]
    found = aggregate(connection, filters.activity_filter(), group_by=groups,
                      measures=MEASURES, basis=basis)
    years: dict[tuple[int, int], dict[str, Decimal]] = {}
    for row in found.rows:
        year, measure = row.group["year"], row.group["measure"]
        assert isinstance(year, int)
        assert isinstance(measure, str)
        column = INSTRUMENTS.index(instrument_of(row.group["instrument"]))
        amounts = years.setdefault((year, column), {})
        amounts[measure] = amounts.get(measure, Decimal(0)) + row.amount_usd
    query = filters.query(group_by=[g.value for g in groups],
                          measure=[m.value for m in MEASURES], basis=basis.value)
    return [YearRow(year, INSTRUMENTS[column], amounts)
            for (year, column), amounts in sorted(years.items())], query


def panels(
    connection: Connection, filters: PageFilters, measure: Measure, lang: str, basis: Basis
) -> list[Panel]:
    """The overview's groupings of `measure`: by donor, by implementing partner (the
    registry entry each is linked to, each activity's money shared equally among its
    partners, as the aggregates API does), by sector, province and plan objective."""
    names: dict[str, str] = {}
    entries: dict[int, tuple[str, bool]] = {}

    def donor(code: str | None) -> Label | None:
        return Label(names.get(code) or code, True, f"/organizaciones/{code}") if code else None

    def partner(code: str | None) -> Label | None:
        if code is None or not code.isdigit() or int(code) not in entries:
            return None
        shown, official = entries[int(code)]
        return Label(shown, not official, f"/organizaciones/{code}")

    def plain(named: Callable[[str | None], str | None]) -> Callable[[str | None], Label | None]:
        return lambda code: Label(found) if (found := named(code)) else None

    groupings: list[tuple[str, GroupBy, Callable[[str | None], Label | None], str]] = [
        ("by_donor", GroupBy.reporting_org, donor, "donor"),
        ("by_partner", GroupBy.participating_entry, partner, "partner"),
        ("by_sector", GroupBy.sector_category, plain(lambda code: labels.sector(code, lang)),
         "sector"),
        ("by_province", GroupBy.province, plain(labels.province), "province"),
        ("by_objective", GroupBy.plan_objective, plain(labels.plan_objective), "objective"),
    ]
    found = []
    for key, group, name, column in groupings:
        asked = Asked(connection, filters, measure, basis)
        answer, parts = asked.grouped(group), asked.parts(group)
        given = {r.group[group.value] for r in answer.rows} - {None}
        if group is GroupBy.reporting_org:
            names.update(labels.organisations(connection, {str(code) for code in given}))
        elif group is GroupBy.participating_entry:
            entries.update(labels.entries(connection, {int(str(code)) for code in given}))
        nothing = Label(word(NONE.get(group, "unclassified"), lang))
        rows = sorted(
            (_row(r, group, name(_code(r.group[group.value])) or nothing, parts)
             for r in answer.rows),
            key=lambda row: (-row.amount, row.label),
        )
        title = f"{word(key, lang)} — {word(measure.value, lang)}"
        extra = {"group_by": [group.value, GroupBy.instrument.value],
                 "measure": measure.value, "basis": basis.value}
        if filters.year:
            extra |= {"year_from": str(filters.year), "year_to": str(filters.year)}
        found.append(Panel(
            key=key, title=title, column=column, rows=rows, total=answer.total_usd,
            chart=_chart(key, group, title, rows, lang), api_query=filters.query(**extra),
        ))
    return found


@dataclass(frozen=True)
class Asked:
    """The aggregates one panel asks for: its grouping, alone and by instrument."""

    connection: Connection
    filters: PageFilters
    measure: Measure
    basis: Basis

    def grouped(self, *groups: GroupBy) -> Aggregates:
        return aggregate(self.connection, self.filters.activity_filter(),
                         group_by=list(groups), measures=[self.measure],
                         year_from=self.filters.year, year_to=self.filters.year,
                         basis=self.basis)

    def parts(self, group: GroupBy) -> dict[str | None, dict[str, Decimal]]:
        """Each group's money by instrument column."""
        parts: dict[str | None, dict[str, Decimal]] = {}
        for row in self.grouped(group, GroupBy.instrument).rows:
            into = parts.setdefault(_code(row.group[group.value]), _no_parts())
            into[instrument_of(row.group["instrument"])] += row.amount_usd
        return parts


def _row(
    found: AggregateRow, group: GroupBy, label: Label,
    parts: dict[str | None, dict[str, Decimal]],
) -> Row:
    code = _code(found.group[group.value])
    return Row(code=code, label=label.text, amount=found.amount_usd,
               activities=found.activities, parts=parts.get(code, _no_parts()),
               published=label.published, href=label.href)


def _no_parts() -> dict[str, Decimal]:
    return dict.fromkeys(INSTRUMENTS, Decimal(0))


def _chart(key: str, group: GroupBy, title: str, rows: list[Row], lang: str) -> str:
    """The panel's stacked bars (grants, loans, other), and the map for provinces."""
    legend = tuple(word(f"instrument_{i}", lang) for i in INSTRUMENTS)
    bars = [Bar(row.label, row.amount, money(row.amount, lang),
                tuple(row.parts[i] for i in INSTRUMENTS)) for row in rows[:TOP]]
    chart = bar_chart(bars, title=f"{word('chart_of', lang)} {title} "
                      f"({word('stacked_instruments', lang)})", chart_id=key, legend=legend)
    if group is not GroupBy.province:
        return chart
    placed = {row.code: row for row in rows if row.code}
    return choropleth(
        {code: row.amount for code, row in placed.items()},
        {code: money(row.amount, lang) for code, row in placed.items()},
        {code: row.label for code, row in placed.items()},
        title=f"{word('map_of', lang)} {title} ({word('all_instruments', lang)})",
        chart_id=key,
        legend=[money(Decimal(0), lang),
                money(max((r.amount for r in placed.values()), default=Decimal(0)), lang)],
    ) + chart


def _code(value: object) -> str | None:
    return None if value is None else str(value)


__all__ = ["INSTRUMENTS", "MEASURES", "Panel", "YearRow", "by_year", "instrument_of", "panels"]
