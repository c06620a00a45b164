"""The ministry's agreements as the public reads them: parties, the activities that implement
them (present, or awaited), the plan objectives they serve, the money of the activities
present, and each metric's progress.

An activity is **present** when a live activity has the identifier (compared in NFC,
`activity.identifier_key`), whenever it was stored; otherwise it is awaited. Its money is
the public views' figure: Ecuador's part of its commitments, disbursements and expenditure
in US dollars, from its latest budget view (`service.services.ecuador`), to the cent.

A metric's periods are its own targets. Linked to a published indicator, a period's actual
is that of the indicator period with the same start and end, else of the latest-ending one
within the target's period that has an actual; the baseline is the metric's own, else the
indicator's; the measure and direction are the indicator's (a metric's own `ascending`
when it has no indicator). The period is then evaluated by the results pages' code
(`service.services.results.progress.evaluate`), with the same rules and findings: progress
beyond ±1,000 % or from a comma that could be a decimal one is doubtful, and a target
without an actual is `no-progress-report` ("sin reporte de avance").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from mappings.tables import Classification, table
from service.models import (
    Agreement,
    AgreementActivity,
    AgreementMetric,
    AgreementObjective,
    AgreementParty,
    OrganisationRef,
)
from service.models import Organisation as OrganisationRow
from service.services.agreements.records import AgreementNotFoundError
from service.services.budget.storage import CURRENT
from service.services.push.storage import ACTIVITY
from service.services.results.listing import INDICATOR, PERIOD, RESULT
from service.services.results.progress import (
    IndicatorRows,
    PeriodRows,
    ProgressState,
    ResultFinding,
    evaluate,
)

AGREEMENT: Table = Agreement.__table__  # type: ignore[attr-defined]
PARTY: Table = AgreementParty.__table__  # type: ignore[attr-defined]
LINKED: Table = AgreementActivity.__table__  # type: ignore[attr-defined]
OBJECTIVE: Table = AgreementObjective.__table__  # type: ignore[attr-defined]
METRIC: Table = AgreementMetric.__table__  # type: ignore[attr-defined]
ORGANISATION: Table = OrganisationRow.__table__  # type: ignore[attr-defined]
REF: Table = OrganisationRef.__table__  # type: ignore[attr-defined]
MEASURES = ("commitment", "disbursement", "expenditure")
FUENTE = Classification.fuente.value  # every amount is in each split: one is read


class Money(BaseModel):
    """Ecuador's part, in US dollars, of the commitments, disbursements and expenditure."""

    commitment_usd: Decimal = Decimal("0.00")
    disbursement_usd: Decimal = Decimal("0.00")
    expenditure_usd: Decimal = Decimal("0.00")


class PartyPublic(BaseModel):
    organisation: str | None  # its first identifier
    name: str
    role: str


class LinkedActivity(BaseModel):
    iati_identifier: str
    present: bool
    title: str | None = None
    reporting_org: str | None = None
    money: Money | None = None


class ObjectivePublic(BaseModel):
    code: str
    name: str | None
    plan: str


class IndicatorLink(BaseModel):
    iati_identifier: str
    result: int
    indicator: int
    present: bool  # a live activity has the indicator
    title: str | None = None
    measure: str | None = None


class MetricPeriod(BaseModel):
    """One target period of a metric, evaluated as the results pages evaluate a period."""

    period_start: date
    period_end: date
    target: Decimal
    actual: Decimal | None
    actual_value: str | None  # as published
    baseline_value: str | None
    progress_percent: Decimal | None
    progress_state: ProgressState
    on_track: bool | None
    in_means: bool
    findings: list[ResultFinding]


class MetricPublic(BaseModel):
    position: int
    name: str
    unit: str | None
    baseline: Decimal | None
    baseline_date: date | None
    ascending: bool
    indicator: IndicatorLink | None
    periods: list[MetricPeriod]


class AgreementSummary(BaseModel):
    id: int
    code: str
    title: str
    status: str
    instrument: str
    instrument_name: str | None
    signed_on: date | None
    start_date: date | None
    end_date: date | None
    amount: Decimal | None
    currency: str | None
    version: int
    updated_at: datetime
    activities: int
    activities_present: int
    metrics: int


class AgreementPublic(AgreementSummary):
    description: str | None
    created_at: datetime
    parties: list[PartyPublic]
    linked_activities: list[LinkedActivity]
    objectives: list[ObjectivePublic]
    money: Money  # of the activities present
    metric_progress: list[MetricPublic]


def list_agreements(connection: Connection) -> list[AgreementSummary]:
    """Every agreement, the latest signed first (then by reference)."""
    rows = connection.execute(select(AGREEMENT).order_by(
        AGREEMENT.c.signed_on.desc().nulls_last(), AGREEMENT.c.code)).mappings().all()
    counts = _counts(connection, [row["id"] for row in rows])
    return [_summary(row, *counts.get(row["id"], (0, 0, 0))) for row in rows]


def agreement_public(connection: Connection, agreement_id: int, *, today: date) -> AgreementPublic:
    """One agreement, read whole (`AgreementNotFoundError` if there is none)."""
    row = connection.execute(
        select(AGREEMENT).where(AGREEMENT.c.id == agreement_id)).mappings().first()
    if row is None:
        raise AgreementNotFoundError(agreement_id)
    linked = _linked(connection, agreement_id)
    metrics = _metrics(connection, agreement_id, today)
    present = [item for item in linked if item.present]
    money = Money(**{f"{measure}_usd": sum(
        (getattr(item.money, f"{measure}_usd") for item in present if item.money),
        Decimal("0.00")) for measure in MEASURES})
    return AgreementPublic(
        **_summary(row, len(linked), len(present), len(metrics)).model_dump(),
        description=row["description"], created_at=row["created_at"],
        parties=_parties(connection, agreement_id), linked_activities=linked,
        objectives=_objectives(connection, agreement_id), money=money,
        metric_progress=metrics,
    )


def _summary(row: Any, activities: int, present: int, metrics: int) -> AgreementSummary:
    instrument = table(Classification.instrument).get(row["instrument"])
    return AgreementSummary(
        id=row["id"], code=row["code"], title=row["title"], status=row["status"],
        instrument=row["instrument"],
        instrument_name=instrument.name_es if instrument else None,
        signed_on=row["signed_on"], start_date=row["start_date"], end_date=row["end_date"],
        amount=row["amount"], currency=row["currency"], version=row["version"],
        updated_at=row["updated_at"], activities=activities, activities_present=present,
        metrics=metrics,
    )


def _counts(connection: Connection, ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """Per agreement: its activities, those present, its metrics."""
    if not ids:
        return {}
    live = ACTIVITY.c.deleted_at.is_(None)
    activities = connection.execute(
        select(LINKED.c.agreement_id, func.count(LINKED.c.id), func.count(ACTIVITY.c.id))
        .select_from(LINKED.outerjoin(
            ACTIVITY, (ACTIVITY.c.identifier_key == LINKED.c.identifier_key) & live))
        .where(LINKED.c.agreement_id.in_(ids)).group_by(LINKED.c.agreement_id)
    ).all()
    metrics: dict[int, int] = dict(connection.execute(
        select(METRIC.c.agreement_id, func.count(METRIC.c.id))
        .where(METRIC.c.agreement_id.in_(ids)).group_by(METRIC.c.agreement_id)
    ).all())
    found = {agreement: (int(named), int(present), int(metrics.get(agreement, 0)))
             for agreement, named, present in activities}
    for agreement, count in metrics.items():
        found.setdefault(agreement, (0, 0, int(count)))
    return found


def _parties(connection: Connection, agreement_id: int) -> list[PartyPublic]:
    first_ref = (select(func.min(REF.c.ref)).where(REF.c.organisation_id == ORGANISATION.c.id)
                 .scalar_subquery())
    rows = connection.execute(
        select(PARTY.c.role, ORGANISATION.c.name, first_ref.label("ref"))
        .join(ORGANISATION, ORGANISATION.c.id == PARTY.c.organisation_id)
        .where(PARTY.c.agreement_id == agreement_id).order_by(PARTY.c.position)
    ).mappings().all()
    return [PartyPublic(organisation=row["ref"], name=row["name"], role=row["role"])
            for row in rows]


def _linked(connection: Connection, agreement_id: int) -> list[LinkedActivity]:
    rows = connection.execute(
        select(LINKED.c.iati_identifier, ACTIVITY.c.id, ACTIVITY.c.title,
               ACTIVITY.c.reporting_org_ref)
        .select_from(LINKED.outerjoin(ACTIVITY, (
            ACTIVITY.c.identifier_key == LINKED.c.identifier_key)
            & ACTIVITY.c.deleted_at.is_(None)))
        .where(LINKED.c.agreement_id == agreement_id).order_by(LINKED.c.position)
    ).mappings().all()
    money = _money(connection, [row["id"] for row in rows if row["id"] is not None])
    return [
        LinkedActivity(iati_identifier=row["iati_identifier"], present=row["id"] is not None,
                       title=row["title"], reporting_org=row["reporting_org_ref"],
                       money=money.get(row["id"], Money()) if row["id"] is not None else None)
        for row in rows
    ]


def _money(connection: Connection, activity_ids: list[int]) -> dict[int, Money]:
    """Each activity's Ecuador part by measure, from its latest view's figures."""
    if not activity_ids:
        return {}
    cents: dict[int, dict[str, int]] = defaultdict(dict)
    for activity_id, measure, total in connection.execute(
        select(CURRENT.c.activity_id, CURRENT.c.measure, func.sum(CURRENT.c.amount_cents))
        .where(CURRENT.c.activity_id.in_(activity_ids), CURRENT.c.classification == FUENTE,
               CURRENT.c.measure.in_(MEASURES))
        .group_by(CURRENT.c.activity_id, CURRENT.c.measure)
    ):
        cents[activity_id][measure] = int(total)
    return {activity: Money(**{f"{measure}_usd": Decimal(amount) / 100
                               for measure, amount in by_measure.items()})
            for activity, by_measure in cents.items()}


def _objectives(connection: Connection, agreement_id: int) -> list[ObjectivePublic]:
    plans = table(Classification.plan_objective)
    codes = connection.execute(select(OBJECTIVE.c.code).where(
        OBJECTIVE.c.agreement_id == agreement_id).order_by(OBJECTIVE.c.position)).scalars()
    found = []
    for code in codes:
        row = plans.get(code)
        found.append(ObjectivePublic(code=code, name=row.name_es if row else None,
                                     plan=code.split("/")[0]))
    return found


def _metrics(connection: Connection, agreement_id: int, today: date) -> list[MetricPublic]:
    rows = connection.execute(select(METRIC).where(METRIC.c.agreement_id == agreement_id)
                              .order_by(METRIC.c.position)).mappings().all()
    return [_metric(connection, row, today) for row in rows]


def _metric(connection: Connection, row: Any, today: date) -> MetricPublic:
    indicator = _indicator(connection, row) if row["identifier_key"] else None
    link = None if row["identifier_key"] is None else IndicatorLink(
        iati_identifier=row["iati_identifier"], result=row["result_position"],
        indicator=row["indicator_position"], present=indicator is not None,
        title=indicator.title if indicator else None,
        measure=indicator.measure if indicator else None)
    targets = row["targets"] or []
    rows = IndicatorRows(
        result=row["result_position"] or 0, position=row["indicator_position"] or 0,
        measure=indicator.measure if indicator else "1",
        ascending=indicator.ascending if indicator else row["ascending"],
        title=row["name"], reference_codes=[],
        baselines=_baselines(row, indicator),
        periods=[_period(number, target, indicator)
                 for number, target in enumerate(targets, start=1)],
    )
    periods = [
        MetricPeriod(
            period_start=date.fromisoformat(target["period_start"]),
            period_end=date.fromisoformat(target["period_end"]),
            target=Decimal(target["value"]), actual=evaluated.actual,
            actual_value=evaluated.actual_text,
            baseline_value=evaluated.baseline.value if evaluated.baseline else None,
            progress_percent=evaluated.progress_percent, progress_state=evaluated.state,
            on_track=evaluated.on_track if evaluated.measurable else None,
            in_means=evaluated.measurable and not evaluated.doubtful,
            findings=evaluated.findings,
        )
        for target, evaluated in zip(targets, evaluate(rows, today=today), strict=True)
    ]
    return MetricPublic(
        position=row["position"], name=row["name"], unit=row["unit"],
        baseline=row["baseline"], baseline_date=row["baseline_date"],
        ascending=rows.ascending is not False, indicator=link, periods=periods)


def _baselines(row: Any, indicator: IndicatorRows | None) -> list[dict[str, Any]]:
    if row["baseline"] is not None:
        given = row["baseline_date"]
        return [{"value": format(row["baseline"], "f"),
                 "iso_date": given.isoformat() if given else None,
                 "year": given.year if given else None}]
    return list(indicator.baselines) if indicator else []


def _period(number: int, target: dict[str, Any], indicator: IndicatorRows | None) -> PeriodRows:
    start = date.fromisoformat(target["period_start"])
    end = date.fromisoformat(target["period_end"])
    matched = _matching(indicator.periods, start, end) if indicator else None
    return PeriodRows(number, start, end, [{"value": target["value"]}],
                      list(matched.actuals) if matched else [])


def _matching(periods: Sequence[PeriodRows], start: date, end: date) -> PeriodRows | None:
    """The indicator period whose actual a target period reads (see the module)."""
    same = [p for p in periods if (p.period_start, p.period_end) == (start, end)]
    if same:
        return same[0]
    within = [p for p in periods if p.actuals and p.period_start and p.period_end
              and start <= p.period_start and p.period_end <= end]
    return max(within, key=lambda p: p.period_end or date.min) if within else None


def _indicator(connection: Connection, row: Any) -> IndicatorRows | None:
    """The linked indicator of a live activity, with its periods, if published."""
    found = connection.execute(
        select(INDICATOR.c.id, INDICATOR.c.measure, INDICATOR.c.ascending, INDICATOR.c.title,
               INDICATOR.c.reference_codes, INDICATOR.c.baselines)
        .join(RESULT, RESULT.c.id == INDICATOR.c.result_id)
        .join(ACTIVITY, ACTIVITY.c.id == INDICATOR.c.activity_id)
        .where(ACTIVITY.c.identifier_key == row["identifier_key"],
               ACTIVITY.c.deleted_at.is_(None),
               RESULT.c.position == row["result_position"],
               INDICATOR.c.position == row["indicator_position"])
    ).mappings().first()
    if found is None:
        return None
    periods = [
        PeriodRows(period["position"], period["period_start"], period["period_end"],
                   period["targets"] or [], period["actuals"] or [])
        for period in connection.execute(
            select(PERIOD).where(PERIOD.c.indicator_id == found["id"])
            .order_by(PERIOD.c.position)).mappings()
    ]
    return IndicatorRows(
        result=row["result_position"], position=row["indicator_position"],
        measure=found["measure"], ascending=found["ascending"], title=found["title"],
        reference_codes=found["reference_codes"] or [], baselines=found["baselines"] or [],
        periods=periods)
