"""Project the internal model of an activity onto the query tables, as rows of column values.

Pure: no session, no settings. `query_rows` gives each table's rows as plain column
values, ready for one multi-row INSERT per table (what the push service writes);
`rows_for` gives the same rows as unsaved SQLModel objects. Neither carries an
`activity_id`. A row that belongs to another new row (a transaction's links to other
activities, sectors, countries and regions; a result's indicators; an indicator's
periods) names it by a `ParentRow` until the database has given the parent its id.
Values are the effective ones of the IATI Standard: an element's own, else the
activity's default (currency, flow, finance and aid types, tied status, humanitarian
flag), and sector and region vocabulary 1 when none is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypedDict

from sqlalchemy import Table
from sqlmodel import SQLModel

from iati.elements.activity import Activity as IatiActivity
from iati.elements.common import Code, DocumentLink, IsoDateElement, Narratives, Value
from iati.elements.finance import Transaction as IatiTransaction
from iati.elements.geography import Location as IatiLocation
from iati.elements.results import Baseline, PeriodValue
from iati.elements.results import Indicator as IatiIndicator
from iati.elements.results import Result as IatiResult
from mappings.rates import in_cents, series_version
from service import models as tables
from service.identifiers import identifier_key
from service.links import activity_links
from service.loans import loan_rows
from service.models.types import as_utc
from service.search import activity_text

DEFAULT_VOCABULARY = "1"  # OECD DAC (sectors: 5-digit purpose codes; regions: DAC regions)
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ParentRow:
    """The parent of a row: the `index`-th row of `table` (a `QueryRows` field)."""

    table: str
    index: int


@dataclass(slots=True)
class QueryRows:
    """The query-table rows of one activity as column values, by table, in file order.

    The fields are in insertion order, parents before their children; within a table
    every row has the same columns. A foreign key to a parent row is a `ParentRow`.
    """

    MODELS: ClassVar[dict[str, type[SQLModel]]] = {
        "participating_orgs": tables.ParticipatingOrg,
        "transactions": tables.Transaction,
        "activity_links": tables.ActivityLink,
        "sectors": tables.Sector,
        "recipient_countries": tables.RecipientCountry,
        "recipient_regions": tables.RecipientRegion,
        "locations": tables.Location,
        "budgets": tables.Budget,
        "planned_disbursements": tables.PlannedDisbursement,
        "loans": tables.Loan,
        "results": tables.Result,
        "indicators": tables.Indicator,
        "indicator_periods": tables.IndicatorPeriod,
        "documents": tables.Document,
        "texts": tables.ActivityText,
    }
    # The tables whose rows can name a parent row, and the column that does.
    LINKS: ClassVar[dict[str, str]] = {
        "activity_links": "transaction_id",
        "sectors": "transaction_id",
        "recipient_countries": "transaction_id",
        "recipient_regions": "transaction_id",
        "indicators": "result_id",
        "indicator_periods": "indicator_id",
    }

    participating_orgs: list[Row] = field(default_factory=list)
    transactions: list[Row] = field(default_factory=list)
    activity_links: list[Row] = field(default_factory=list)
    sectors: list[Row] = field(default_factory=list)
    recipient_countries: list[Row] = field(default_factory=list)
    recipient_regions: list[Row] = field(default_factory=list)
    locations: list[Row] = field(default_factory=list)
    budgets: list[Row] = field(default_factory=list)
    planned_disbursements: list[Row] = field(default_factory=list)
    loans: list[Row] = field(default_factory=list)
    results: list[Row] = field(default_factory=list)
    indicators: list[Row] = field(default_factory=list)
    indicator_periods: list[Row] = field(default_factory=list)
    documents: list[Row] = field(default_factory=list)
    texts: list[Row] = field(default_factory=list)

    def by_table(self) -> Iterator[tuple[str, Table, list[Row]]]:
        """Each table that has rows: its field name, its table and its rows."""
        for name, model in self.MODELS.items():
            rows: list[Row] = getattr(self, name)
            if rows:
                yield name, model.__table__, rows  # type: ignore[attr-defined]

    def parents(self) -> set[str]:
        """The tables some row of which is named as a parent by another row."""
        return {
            parent.table
            for name, column in self.LINKS.items()
            for row in getattr(self, name)
            if isinstance(parent := row[column], ParentRow)
        }


@dataclass(slots=True)
class ActivityRows:
    """The query-table rows of one activity as SQLModel objects, by table, in file order.

    Rows that belong to another new row hold it through a relationship, so the database
    fills in `transaction_id`, `result_id` and `indicator_id` when they are added to a
    session together.
    """

    participating_orgs: list[tables.ParticipatingOrg] = field(default_factory=list)
    transactions: list[tables.Transaction] = field(default_factory=list)
    activity_links: list[tables.ActivityLink] = field(default_factory=list)
    sectors: list[tables.Sector] = field(default_factory=list)
    recipient_countries: list[tables.RecipientCountry] = field(default_factory=list)
    recipient_regions: list[tables.RecipientRegion] = field(default_factory=list)
    locations: list[tables.Location] = field(default_factory=list)
    budgets: list[tables.Budget] = field(default_factory=list)
    planned_disbursements: list[tables.PlannedDisbursement] = field(default_factory=list)
    loans: list[tables.Loan] = field(default_factory=list)
    results: list[tables.Result] = field(default_factory=list)
    indicators: list[tables.Indicator] = field(default_factory=list)
    indicator_periods: list[tables.IndicatorPeriod] = field(default_factory=list)
    documents: list[tables.Document] = field(default_factory=list)
    texts: list[tables.ActivityText] = field(default_factory=list)

    def all(self) -> Iterator[Any]:
        """Every row, parents before their children."""
        for table in fields(self):
            yield from getattr(self, table.name)

    def attach(self, activity_id: int) -> None:
        """Give every row the id of the activity it belongs to."""
        for row in self.all():
            row.activity_id = activity_id


class ActivityColumns(TypedDict):
    """The columns of `activity` that come from the model (the rest is the push's)."""

    iati_identifier: str | None
    identifier_key: str | None
    reporting_org_ref: str | None
    last_updated_datetime: datetime | None
    title: str | None
    default_currency: str | None
    activity_status: str | None
    hierarchy: int | None
    humanitarian: bool | None
    planned_start: date | None
    actual_start: date | None
    planned_end: date | None
    actual_end: date | None
    start_date: date | None
    end_date: date | None


def activity_columns(activity: IatiActivity) -> ActivityColumns:
    """The activity's own columns; a moment without time zone is read as UTC."""
    moment = activity.last_updated_datetime
    dates = activity_dates(activity)
    return ActivityColumns(
        iati_identifier=activity.identifier,
        identifier_key=identifier_key(activity.identifier) if activity.identifier else None,
        reporting_org_ref=activity.reporting_org.ref if activity.reporting_org else None,
        last_updated_datetime=None if moment is None else as_utc(moment),
        title=_text(activity.title),
        default_currency=activity.default_currency,
        activity_status=_code(activity.activity_status),
        hierarchy=activity.hierarchy,
        humanitarian=_flag(activity.humanitarian),
        planned_start=dates.get("1"), actual_start=dates.get("2"),
        planned_end=dates.get("3"), actual_end=dates.get("4"),
        start_date=dates.get("2") or dates.get("1"), end_date=dates.get("4") or dates.get("3"),
    )


def activity_dates(activity: IatiActivity) -> dict[str, date]:
    """The first activity-date of each ActivityDateType code (1–4) the activity gives."""
    found: dict[str, date] = {}
    for item in activity.activity_dates:
        kind, day = (item.type or "").strip(), item.iso_date
        if day is not None and kind not in found:
            found[kind] = date(day.year, day.month, day.day)
    return found


def rows_for(activity: IatiActivity) -> ActivityRows:
    """The query-table rows of `activity` as SQLModel objects."""
    projected, built = query_rows(activity), ActivityRows()
    for name, model in QueryRows.MODELS.items():
        objects: list[Any] = getattr(built, name)
        objects += [model(**_with_parents(row, built)) for row in getattr(projected, name)]
    return built


def _with_parents(row: Row, built: ActivityRows) -> Row:
    """`row` with each `ParentRow` given as the relationship to the parent's object
    (``transaction_id`` becomes ``transaction``)."""
    values: Row = {}
    for key, value in row.items():
        if isinstance(value, ParentRow):
            values[key.removesuffix("_id")] = getattr(built, value.table)[value.index]
        else:
            values[key] = value
    return values


def query_rows(activity: IatiActivity) -> QueryRows:
    """The query-table rows of `activity` as column values."""
    rows = QueryRows()
    rows.participating_orgs = [
        {
            "position": position, "ref": org.ref, "type": org.type, "role": org.role,
            "activity_ref": org.activity_id, "crs_channel_code": org.crs_channel_code,
            "name": org.text(),
        }
        for position, org in enumerate(activity.participating_orgs, start=1)
    ]
    _add_classification(rows, activity)
    for position, transaction in enumerate(activity.transactions, start=1):
        _add_transaction(rows, activity, transaction, position)
    rows.activity_links = [
        {
            **link.columns(),
            "transaction_id": None if link.transaction is None
            else ParentRow("transactions", link.transaction),
        }
        for link in activity_links(activity)
    ]
    rows.locations = [_location(place) for place in activity.locations]
    _add_budgets(rows, activity)
    rows.loans = loan_rows(activity)
    for position, result in enumerate(activity.results, start=1):
        _add_result(rows, result, position)
    rows.documents = [_document(link) for link in activity.document_links]
    rows.texts = [{"body": activity_text(activity)}]
    return rows


def _add_classification(rows: QueryRows, activity: IatiActivity) -> None:
    rows.sectors = [
        {
            "transaction_id": None, "vocabulary": sector.vocabulary or DEFAULT_VOCABULARY,
            "code": sector.code, "percentage": sector.percentage, "name": sector.text(),
        }
        for sector in activity.sectors
    ]
    rows.recipient_countries = [
        {"transaction_id": None, "code": country.code, "percentage": country.percentage}
        for country in activity.recipient_countries
    ]
    rows.recipient_regions = [
        {
            "transaction_id": None, "vocabulary": region.vocabulary or DEFAULT_VOCABULARY,
            "code": region.code, "percentage": region.percentage,
        }
        for region in activity.recipient_regions
    ]


def _add_transaction(
    rows: QueryRows, activity: IatiActivity, transaction: IatiTransaction, position: int
) -> None:
    value = transaction.value or Value()
    provider, receiver = transaction.provider_org, transaction.receiver_org
    humanitarian = transaction.humanitarian
    parent = ParentRow("transactions", len(rows.transactions))
    currency, day = value.currency or activity.default_currency, _day(transaction.transaction_date)
    value_date = _plain(value.value_date)
    rows.transactions.append({
        "position": position, "ref": transaction.ref,
        "type": _code(transaction.transaction_type), "date": day,
        "amount": value.amount, "currency": currency, "value_date": value_date,
        "usd_cents": in_cents(value.amount, currency, value_date or day),
        "usd_rates": series_version(),
        "provider_ref": provider.ref if provider else None, "provider_name": _text(provider),
        "provider_activity_id": provider.provider_activity_id if provider else None,
        "receiver_ref": receiver.ref if receiver else None, "receiver_name": _text(receiver),
        "receiver_activity_id": receiver.receiver_activity_id if receiver else None,
        "flow_type": _code(transaction.flow_type or activity.default_flow_type),
        "finance_type": _code(transaction.finance_type or activity.default_finance_type),
        "tied_status": _code(transaction.tied_status or activity.default_tied_status),
        "disbursement_channel": _code(transaction.disbursement_channel),
        "aid_types": [
            _compact(code=aid.code, vocabulary=aid.vocabulary)
            for aid in transaction.aid_types or activity.default_aid_types
        ],
        "humanitarian": _flag(activity.humanitarian if humanitarian is None else humanitarian),
        "description": _text(transaction.description),
    })
    rows.sectors.extend(
        {
            "transaction_id": parent, "vocabulary": sector.vocabulary or DEFAULT_VOCABULARY,
            "code": sector.code, "percentage": None, "name": sector.text(),
        }
        for sector in transaction.sectors
    )
    if (country := transaction.recipient_country) is not None:
        rows.recipient_countries.append(
            {"transaction_id": parent, "code": country.code, "percentage": None}
        )
    if (region := transaction.recipient_region) is not None:
        rows.recipient_regions.append({
            "transaction_id": parent, "vocabulary": region.vocabulary or DEFAULT_VOCABULARY,
            "code": region.code, "percentage": None,
        })


def _add_budgets(rows: QueryRows, activity: IatiActivity) -> None:
    for position, budget in enumerate(activity.budgets, start=1):
        value = budget.value or Value()
        rows.budgets.append({
            "position": position, "type": budget.type, "status": budget.status,
            "period_start": _day(budget.period_start), "period_end": _day(budget.period_end),
            "amount": value.amount, "currency": value.currency or activity.default_currency,
            "value_date": _plain(value.value_date),
        })
    for position, planned in enumerate(activity.planned_disbursements, start=1):
        value = planned.value or Value()
        rows.planned_disbursements.append({
            "position": position, "type": planned.type,
            "period_start": _day(planned.period_start), "period_end": _day(planned.period_end),
            "amount": value.amount, "currency": value.currency or activity.default_currency,
            "value_date": _plain(value.value_date),
            "provider_ref": planned.provider_org.ref if planned.provider_org else None,
            "receiver_ref": planned.receiver_org.ref if planned.receiver_org else None,
        })


def _add_result(rows: QueryRows, result: IatiResult, position: int) -> None:
    parent = ParentRow("results", len(rows.results))
    rows.results.append({
        "position": position, "type": result.type,
        "aggregation_status": _flag(result.aggregation_status),
        "title": _text(result.title), "description": _text(result.description),
        "reference_codes": [
            _compact(code=ref.code, vocabulary=ref.vocabulary, vocabulary_uri=ref.vocabulary_uri)
            for ref in result.references
        ],
        "document_links": [_linked(link) for link in result.document_links],
    })
    for number, indicator in enumerate(result.indicators, start=1):
        _add_indicator(rows, parent, indicator, number)


def _add_indicator(
    rows: QueryRows, result: ParentRow, indicator: IatiIndicator, position: int
) -> None:
    parent = ParentRow("indicators", len(rows.indicators))
    rows.indicators.append({
        "result_id": result, "position": position, "measure": indicator.measure,
        "ascending": _flag(indicator.ascending),
        "aggregation_status": _flag(indicator.aggregation_status),
        "title": _text(indicator.title), "description": _text(indicator.description),
        "reference_codes": [
            _compact(vocabulary=ref.vocabulary, code=ref.code, indicator_uri=ref.indicator_uri)
            for ref in indicator.references
        ],
        "baselines": [_baseline(baseline) for baseline in indicator.baselines],
        "document_links": [_linked(link) for link in indicator.document_links],
    })
    rows.indicator_periods.extend(
        {
            "indicator_id": parent, "position": number,
            "period_start": _day(period.period_start), "period_end": _day(period.period_end),
            "targets": [_period_value(target) for target in period.targets],
            "actuals": [_period_value(actual) for actual in period.actuals],
        }
        for number, period in enumerate(indicator.periods, start=1)
    )


def _location(place: IatiLocation) -> Row:
    latitude, longitude = _coordinates(place)
    return {
        "ref": place.ref, "name": _text(place.name), "latitude": latitude,
        "longitude": longitude,
        "administrative": [
            _compact(code=area.code, vocabulary=area.vocabulary, level=area.level)
            for area in place.administratives
        ],
        "exactness": _code(place.exactness), "location_class": _code(place.location_class),
        "feature_designation": _code(place.feature_designation),
    }


def _coordinates(place: IatiLocation) -> tuple[Decimal | None, Decimal | None]:
    """Latitude and longitude of ``<pos>latitude longitude</pos>``; none if malformed.

    Validation reports a malformed position; the stored document keeps it as published.
    """
    pos = place.point.pos if place.point else None
    parts = (pos.text or "").split() if pos else []
    if len(parts) != 2:
        return None, None
    try:
        latitude, longitude = Decimal(parts[0]), Decimal(parts[1])
    except InvalidOperation:
        return None, None
    if not (latitude.is_finite() and longitude.is_finite()):
        return None, None
    return latitude, longitude


def _document(link: DocumentLink) -> Row:
    return {
        "url": link.url, "format": link.format, "title": _text(link.title),
        "categories": [code.code for code in link.categories if code.code is not None],
        "languages": [code.code for code in link.languages if code.code is not None],
        "document_date": _day(link.document_date),
    }


def _period_value(value: PeriodValue) -> dict[str, Any]:
    return _compact(
        value=value.value,
        comment=_text(value.comment),
        locations=[place.ref for place in value.locations if place.ref is not None],
        dimensions=[_compact(name=item.name, value=item.value) for item in value.dimensions],
        document_links=[_linked(link) for link in value.document_links],
    )


def _baseline(baseline: Baseline) -> dict[str, Any]:
    day = _plain(baseline.iso_date)
    return _compact(
        year=baseline.year, iso_date=None if day is None else day.isoformat(),
        value=baseline.value, comment=_text(baseline.comment),
        locations=[place.ref for place in baseline.locations if place.ref is not None],
        dimensions=[_compact(name=item.name, value=item.value) for item in baseline.dimensions],
        document_links=[_linked(link) for link in baseline.document_links],
    )


def _linked(link: DocumentLink) -> dict[str, Any]:
    """A document link as JSON (`_document` gives the same as the `document` table's row)."""
    day = _day(link.document_date)
    shown = None if day is None else day.isoformat()
    return _compact(**{**_document(link), "document_date": shown})


def _compact(**values: Any) -> dict[str, Any]:
    """The values that are given (neither None nor empty)."""
    return {key: value for key, value in values.items() if value is not None and value != []}


def _text(element: Narratives | None) -> str | None:
    return element.text() if element is not None else None


def _code(element: Code | None) -> str | None:
    return element.code if element is not None else None


def _day(element: IsoDateElement | None) -> date | None:
    return _plain(element.iso_date) if element is not None else None


def _plain(day: date | None) -> date | None:
    """A plain `date` (the model's dates also remember their spelling)."""
    return None if day is None else date(day.year, day.month, day.day)


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)
