"""Ecuador as a provider: the south-south and triangular cooperation the ministry records
as its own, kept apart from the cooperation Ecuador receives.

An activity is **provided by Ecuador** when it is live, its reporting-org/@ref is one of
the provider organisations' (`Providers`, the ministry by default), it is reported as a
primary reporter (not `secondary-reporter="1"`) and it is not for Ecuador (no recipient
country EC, of the activity or of a transaction: `service.services.ecuador`). Its
**modality** is `triangular` when its collaboration-type is 8 (bilateral, triangular
co-operation) or a funding participating-org (role 1) is a third party: an organisation
with a ref that is not a provider's, not Ecuadorian (`EC-…`) and not of a recipient
country (`HT-…`); else `south-south`.

Its money is its commitments, disbursements and expenditure (TransactionType 2, 3, 4) in
US dollars at the transaction's date, as stored (`Transaction.usd_cents`). Each
transaction is divided among its own recipient country, else the activity's countries
(by their percentages, equally when none is given), then among its own sectors, else the
activity's, by `mappings.money.split`, so every group's cents add up to the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, Table, select
from sqlalchemy.engine import Connection

from iati.elements.activity import Activity as IatiActivity
from mappings.amounts import TRANSACTION_MEASURES, Measure
from mappings.money import HUNDRED, split
from service.models import Transaction
from service.services.ecuador import IN_ECUADOR
from service.services.push.reading import model_of
from service.services.push.storage import ACTIVITY

TRIANGULAR_COLLABORATION = "8"  # CollaborationType: bilateral, triangular co-operation
FUNDING = "1"  # OrganisationRole
ECUADORIAN = "EC-"
DAC_VOCABULARIES = ("1", "2", None)  # SectorVocabulary: DAC 5-digit, DAC 3-digit, default
MEASURES = tuple(TRANSACTION_MEASURES.values())
ONE = Decimal(1)
TRANSACTION: Table = Transaction.__table__  # type: ignore[attr-defined]


class Modality(StrEnum):
    south_south = "south-south"
    triangular = "triangular"


class ProvidedGroupBy(StrEnum):
    recipient_country = "recipient_country"
    year = "year"
    sector = "sector"
    modality = "modality"


@dataclass(frozen=True, slots=True)
class Providers:
    """The organisations whose own activities for other countries are Ecuador's
    cooperation provided (by their organisation identifiers)."""

    refs: frozenset[str]


class ProvidedActivity(BaseModel):
    """One activity of Ecuador's cooperation provided, and its money by measure."""

    iati_identifier: str
    reporting_org: str
    title: str | None
    modality: Modality
    recipient_countries: list[str]
    recipient_regions: list[str]
    third_party_funders: list[str]  # refs (else names) of the funders making it triangular
    sectors: list[str]
    start_date: str | None
    end_date: str | None
    amounts_usd: dict[Measure, Decimal]


class ProvidedActivities(BaseModel):
    """The activities of Ecuador's cooperation provided, in identifier order."""

    providers: list[str]
    activities: list[ProvidedActivity]
    secondary_left_out: int  # the providers' activities reported as a secondary reporter


class ProvidedRow(BaseModel):
    """One group: its values, one measure's money in US dollars and its activities."""

    group: dict[str, str | int | None]
    measure: Measure
    amount_usd: Decimal
    activities: int


class ProvidedTotals(BaseModel):
    """Ecuador's cooperation provided, grouped: each row's measure apart (never added
    together), the totals the sum of the rows to the cent."""

    providers: list[str]
    group_by: list[ProvidedGroupBy]
    activities: int
    by_modality: dict[Modality, int]  # activities of each modality
    rows: list[ProvidedRow]
    totals_usd: dict[Measure, Decimal]
    without_rate: int  # transactions no rate converts, left out of the rows
    secondary_left_out: int  # the providers' activities reported as a secondary reporter


@dataclass(frozen=True, slots=True)
class _Found:
    id: int
    identifier: str
    reporting_org: str
    model: IatiActivity
    funders: list[str]  # third-party funders

    @property
    def modality(self) -> Modality:
        collaboration = self.model.collaboration_type
        if collaboration is not None and collaboration.code == TRIANGULAR_COLLABORATION:
            return Modality.triangular
        return Modality.triangular if self.funders else Modality.south_south


@dataclass(frozen=True, slots=True)
class _Figure:
    activity: int
    measure: Measure
    year: int | None
    country: str | None
    sector: str | None
    modality: Modality
    cents: int


def provided_activities(connection: Connection, providers: Providers) -> ProvidedActivities:
    """Every activity provided by Ecuador, in identifier order, with its money."""
    found, secondary = _provided(connection, providers)
    sums: dict[int, dict[Measure, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    figures, _ = _figures(connection, found)
    for figure in figures:
        sums[figure.activity][figure.measure] += figure.cents
    return ProvidedActivities(
        providers=sorted(providers.refs),
        activities=[_listed(item, sums[item.id]) for item in found],
        secondary_left_out=secondary,
    )


def provided_totals(
    connection: Connection, providers: Providers, *, group_by: Sequence[ProvidedGroupBy],
) -> ProvidedTotals:
    """Ecuador's cooperation provided, grouped by `group_by` and measure."""
    groups = list(dict.fromkeys(group_by))
    found, secondary = _provided(connection, providers)
    figures, without_rate = _figures(connection, found)
    sums: dict[tuple[Any, ...], int] = defaultdict(int)
    counted: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for figure in figures:
        key = (*(_value(figure, group) for group in groups), figure.measure)
        sums[key] += figure.cents
        counted[key].add(figure.activity)
    rows = [
        ProvidedRow(group=dict(zip([g.value for g in groups], key[:-1], strict=True)),
                    measure=key[-1], amount_usd=_usd(cents), activities=len(counted[key]))
        for key, cents in sorted(sums.items(), key=lambda item: _order(item[0]))
    ]
    totals = {measure: sum((row.amount_usd for row in rows if row.measure == measure),
                           Decimal("0.00")) for measure in MEASURES}
    modalities = {modality: sum(1 for item in found if item.modality == modality)
                  for modality in Modality}
    return ProvidedTotals(
        providers=sorted(providers.refs), group_by=groups, activities=len(found),
        by_modality=modalities, rows=rows, totals_usd=totals, without_rate=without_rate,
        secondary_left_out=secondary,
    )


def provided_ids(providers: Providers) -> Select[Any]:
    """The live activities the providers report that are not for Ecuador (a selectable
    of ids); secondary reports among them are left out by `provided_activities`."""
    return select(ACTIVITY.c.id).where(
        ACTIVITY.c.deleted_at.is_(None), ACTIVITY.c.reporting_org_ref.in_(providers.refs),
        ACTIVITY.c.id.not_in(IN_ECUADOR),
    )


def primary_ids(connection: Connection, providers: Providers) -> list[int]:
    """The ids of the activities provided by Ecuador (secondary reports left out), in
    identifier order: the ministry's own dataset."""
    found, _ = _provided(connection, providers)
    return [item.id for item in found]


def modality_of(activity: IatiActivity, providers: Providers) -> Modality:
    """`triangular` or `south-south`, by the rule of the module."""
    return _Found(0, "", "", activity, third_party_funders(activity, providers)).modality


def third_party_funders(activity: IatiActivity, providers: Providers) -> list[str]:
    """The refs of the funding organisations that are neither a provider, Ecuadorian nor
    of a recipient country."""
    countries = {(c.code or "").strip().upper() for c in activity.recipient_countries}
    found: list[str] = []
    for organisation in activity.participating_orgs:
        ref = (organisation.ref or "").strip()
        if organisation.role != FUNDING or not ref or ref in providers.refs:
            continue
        prefix = ref.split("-", 1)[0].upper()
        if ref.upper().startswith(ECUADORIAN) or prefix in countries:
            continue
        found.append(ref)
    return list(dict.fromkeys(found))


def _provided(connection: Connection, providers: Providers) -> tuple[list[_Found], int]:
    statement = (
        select(ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref,
               ACTIVITY.c.document)
        .where(ACTIVITY.c.id.in_(provided_ids(providers)))
        .order_by(ACTIVITY.c.iati_identifier)
    )
    found: list[_Found] = []
    secondary = 0
    for row in connection.execute(statement):
        model = model_of(row.document)
        reporting = model.reporting_org
        if reporting is not None and bool(reporting.secondary_reporter):
            secondary += 1
            continue
        found.append(_Found(row.id, row.iati_identifier, row.reporting_org_ref, model,
                            third_party_funders(model, providers)))
    return found, secondary


def _figures(connection: Connection, found: list[_Found]) -> tuple[list[_Figure], int]:
    """Each measured transaction's cents, divided among countries and sectors."""
    by_id = {item.id: item for item in found}
    if not by_id:
        return [], 0
    statement = (
        select(TRANSACTION.c.activity_id, TRANSACTION.c.position, TRANSACTION.c.type,
               TRANSACTION.c.date, TRANSACTION.c.usd_cents)
        .where(TRANSACTION.c.activity_id.in_(list(by_id)),
               TRANSACTION.c.type.in_(list(TRANSACTION_MEASURES)))
        .order_by(TRANSACTION.c.activity_id, TRANSACTION.c.position)
    )
    figures: list[_Figure] = []
    without_rate = 0
    for row in connection.execute(statement):
        if row.usd_cents is None:
            without_rate += 1
            continue
        item = by_id[row.activity_id]
        transaction = item.model.transactions[row.position - 1]
        year = row.date.year if row.date is not None else None
        for country, sector, cents in _divided(item.model, transaction, row.usd_cents):
            figures.append(_Figure(item.id, TRANSACTION_MEASURES[row.type], year, country,
                                   sector, item.modality, cents))
    return figures, without_rate


def _divided(activity: IatiActivity, transaction: Any, cents: int
             ) -> Iterator[tuple[str | None, str | None, int]]:
    own = transaction.recipient_country
    countries = _shares([(own.code, None)] if own is not None and own.code
                        else [(c.code, c.percentage) for c in activity.recipient_countries])
    sectors = _shares(_dac(transaction.sectors) or _dac(activity.sectors))
    by_country = split(Decimal(cents), [share for _, share in countries], quantum=ONE)
    for (country, _), country_cents in zip(countries, by_country, strict=True):
        parts = split(country_cents, [share for _, share in sectors], quantum=ONE)
        for (sector, _), part in zip(sectors, parts, strict=True):
            if part:
                yield country, sector, int(part)


def _dac(sectors: Any) -> list[tuple[str | None, Any]]:
    for vocabulary in DAC_VOCABULARIES:
        chosen = [(s.code, s.percentage) for s in sectors if s.vocabulary == vocabulary]
        if chosen:
            return chosen
    return []


def _shares(published: list[tuple[Any, Any]]) -> list[tuple[str | None, Decimal]]:
    """Codes and their weights: the published percentages, equal parts when none is
    given; one unnamed group for nothing published."""
    if not published:
        return [(None, HUNDRED)]
    codes = [(str(code).strip().upper() if code is not None else None) for code, _ in published]
    weights = [_weight(percentage) for _, percentage in published]
    if all(weight is None for weight in weights) or sum(w or 0 for w in weights) == 0:
        return [(code, ONE) for code in codes]
    return [(code, weight or Decimal(0)) for code, weight in zip(codes, weights, strict=True)]


def _weight(percentage: Decimal | None) -> Decimal | None:
    return percentage if percentage is not None and percentage > 0 else None


def _value(figure: _Figure, group: ProvidedGroupBy) -> str | int | None:
    if group is ProvidedGroupBy.recipient_country:
        return figure.country
    if group is ProvidedGroupBy.year:
        return figure.year
    if group is ProvidedGroupBy.sector:
        return figure.sector
    return figure.modality.value


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, str(value)) for value in key)


def _usd(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _listed(item: _Found, cents: dict[Measure, int]) -> ProvidedActivity:
    model = item.model
    title = model.title.narratives[0].text if model.title and model.title.narratives else None
    dates = {d.type: d.iso_date for d in model.activity_dates}
    start = dates.get("2") or dates.get("1")
    end = dates.get("4") or dates.get("3")
    return ProvidedActivity(
        iati_identifier=item.identifier, reporting_org=item.reporting_org, title=title,
        modality=item.modality,
        recipient_countries=[c.code for c in model.recipient_countries if c.code],
        recipient_regions=[r.code for r in model.recipient_regions if r.code],
        third_party_funders=item.funders,
        sectors=[s.code for s in model.sectors if s.code],
        start_date=str(start) if start is not None else None,
        end_date=str(end) if end is not None else None,
        amounts_usd={measure: _usd(value) for measure, value in cents.items()},
    )
