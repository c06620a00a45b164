"""The ministry's agreements as the public reads them: parties, the activities that implement
them (present, or awaited), the plan objectives they serve, the money of the activities
present, and each metric's progress.

An activity is **present** when a live activity has the identifier (compared in NFC,
`activity.identifier_key`), whenever it was stored; otherwise it is awaited. Its money is
the public views' figure: Ecuador's part of its commitments, disbursements and expenditure
in US dollars, from its latest budget view (`service.services.ecuador`), to the cent.

A metric's progress is computed by `service.services.agreements.metrics`.
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
    AgreementObjective,
    AgreementParty,
    OrganisationRef,
)
from service.models import Organisation as OrganisationRow
from service.services.agreements.metrics import METRIC, MetricPublic, metric_progress
from service.services.agreements.records import AgreementNotFoundError
from service.services.budget.storage import CURRENT
from service.services.push.storage import ACTIVITY

AGREEMENT: Table = Agreement.__table__  # type: ignore[attr-defined]
PARTY: Table = AgreementParty.__table__  # type: ignore[attr-defined]
LINKED: Table = AgreementActivity.__table__  # type: ignore[attr-defined]
OBJECTIVE: Table = AgreementObjective.__table__  # type: ignore[attr-defined]
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
    metrics = metric_progress(connection, agreement_id, today)
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

