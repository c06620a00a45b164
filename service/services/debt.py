"""The debt view of loans: each loan's terms, its status at the end of the latest year
reported, and the interest and principal Ecuador pays back (IATI TransactionType 5 and 6)
with the expenditure ítem of the clasificador each goes to — per activity, and summed by
lender, year and ítem.

Repayments are flows: their US dollars add up, to the cent, over any grouping (converted
at the value date, else the transaction date; one without a rate is counted apart, in
`without_rate`, never guessed). A loan status is a balance at a year's end: balances of
one lender and year are added (the same moment), but never over years, and never with
the flows or into the budget views. Amounts keep the sign the lender publishes them with
(the World Bank publishes repayments as negative amounts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlmodel import Session

from mappings.debt import REPAYMENT_TYPES, Repayment, debt_service_item
from mappings.rates import in_usd, series_version
from mappings.tables import Classification, table
from service.models import Activity, Loan, Organisation, Transaction
from service.services.activities import live_activity

ACTIVITY: Table = Activity.__table__  # type: ignore[attr-defined]
LOAN: Table = Loan.__table__  # type: ignore[attr-defined]
TRANSACTION: Table = Transaction.__table__  # type: ignore[attr-defined]
ORGANISATION: Table = Organisation.__table__  # type: ignore[attr-defined]
BALANCES = ("principal_outstanding", "principal_arrears", "interest_arrears",
            "interest_received")
CENT = Decimal("0.01")


class DebtGroupBy(StrEnum):
    lender = "lender"  # the reporting organisation of the loan
    year = "year"  # of the repayment's date
    expenditure_item = "expenditure_item"  # 5603xx (interest) or 9603xx (principal)


DEBT_SERVICE_COLUMNS = ("lender", "year", "expenditure_item", "interest_usd", "principal_usd",
                        "total_usd", "transactions", "activities")


class LoanTermsPublic(BaseModel):
    """loan-terms: rates in per cent, LoanRepaymentType and LoanRepaymentPeriod codes."""

    rate_1: Decimal | None
    rate_2: Decimal | None
    repayment_type: str | None
    repayment_plan: str | None
    commitment_date: date | None
    repayment_first_date: date | None
    repayment_final_date: date | None


class LoanStatusPublic(BaseModel):
    """loan-status: balances at the end of `year`, as published and in US dollars at the
    rate of `value_date` (null without a rate)."""

    year: int | None
    currency: str | None
    value_date: date | None
    principal_outstanding: Decimal | None
    principal_arrears: Decimal | None
    interest_arrears: Decimal | None
    interest_received: Decimal | None
    principal_outstanding_usd: Decimal | None
    principal_arrears_usd: Decimal | None
    interest_arrears_usd: Decimal | None
    interest_received_usd: Decimal | None


class ExpenditureItem(BaseModel):
    """The clasificador's ítem of a repayment, the rule that gave it, or why none did."""

    code: str | None
    name: str | None
    status: str
    rule: str
    reason: str | None


class RepaymentPublic(BaseModel):
    position: int  # the transaction's, in the activity, from 1
    kind: Repayment
    transaction_type: str
    transaction_date: date | None
    value: Decimal | None
    currency: str | None
    value_date: date | None
    value_usd: Decimal | None
    provider_org: str | None
    provider_org_name: str | None
    receiver_org: str | None
    receiver_org_name: str | None
    description: str | None
    expenditure_item: ExpenditureItem


class RepaymentTotal(BaseModel):
    """The repayments of one kind in one currency: their sum as published, in US dollars,
    and how many had no rate (left out of `value_usd`)."""

    kind: Repayment
    currency: str | None
    value: Decimal
    value_usd: Decimal
    transactions: int
    without_rate: int


class ActivityDebt(BaseModel):
    iati_identifier: str
    title: str | None
    lender: str | None
    lender_name: str | None
    lender_type: str | None
    terms: LoanTermsPublic | None
    status: LoanStatusPublic | None
    repayments: list[RepaymentPublic]
    totals: list[RepaymentTotal]


def activity_debt(session: Session, identifier: str) -> ActivityDebt:
    """The debt view of the live activity `identifier` (a 404 or 410 problem if none)."""
    activity = live_activity(session, identifier)
    connection = session.connection()
    lender_name = connection.execute(select(ORGANISATION.c.name).where(
        ORGANISATION.c.id == activity.organisation_id)).scalar_one_or_none()
    loan = connection.execute(
        select(LOAN).where(LOAN.c.activity_id == activity.id)).mappings().first()
    lender_type = loan["lender_type"] if loan is not None else None
    found = connection.execute(
        select(TRANSACTION).where(TRANSACTION.c.activity_id == activity.id,
                                  TRANSACTION.c.type.in_(REPAYMENT_TYPES))
        .order_by(TRANSACTION.c.position)).mappings().all()
    repayments = [_repayment(row, lender_type) for row in found]
    return ActivityDebt(
        iati_identifier=activity.iati_identifier, title=activity.title,
        lender=activity.reporting_org_ref, lender_name=lender_name,
        lender_type=lender_type,
        terms=_terms(loan) if loan is not None and _has_terms(loan) else None,
        status=_status(loan) if loan is not None and _has_status(loan) else None,
        repayments=repayments, totals=_totals(repayments),
    )


def usd_of(row: Any) -> Decimal | None:
    """A transaction's US dollars: as stored under the current rate series, else converted."""
    if row["usd_rates"] == series_version():
        cents = row["usd_cents"]
        return None if cents is None else Decimal(cents).scaleb(-2)
    return in_usd(row["amount"], row["currency"], row["value_date"] or row["date"])


def item_of(transaction_type: str, lender_type: str | None, on: date | None) -> ExpenditureItem:
    found = debt_service_item(transaction_type=transaction_type, lender_type=lender_type, on=on)
    row = table(Classification.expenditure_item).get(found.code, on) if found.code else None
    return ExpenditureItem(code=found.code, name=row.name_es if row is not None else None,
                           status=found.status.value, rule=found.rule, reason=found.reason)


def _repayment(row: Any, lender_type: str | None) -> RepaymentPublic:
    kind = REPAYMENT_TYPES[row["type"]]
    return RepaymentPublic(
        position=row["position"], kind=kind, transaction_type=row["type"],
        transaction_date=row["date"], value=row["amount"], currency=row["currency"],
        value_date=row["value_date"], value_usd=usd_of(row),
        provider_org=row["provider_ref"], provider_org_name=row["provider_name"],
        receiver_org=row["receiver_ref"], receiver_org_name=row["receiver_name"],
        description=row["description"],
        expenditure_item=item_of(row["type"], lender_type, row["value_date"] or row["date"]),
    )


def _totals(repayments: Iterable[RepaymentPublic]) -> list[RepaymentTotal]:
    sums: dict[tuple[Repayment, str | None], list[Any]] = {}
    for paid in repayments:
        total = sums.setdefault((paid.kind, paid.currency), [Decimal(0), Decimal(0), 0, 0])
        total[0] += paid.value or 0
        total[1] += paid.value_usd or 0
        total[2] += 1
        total[3] += paid.value_usd is None and paid.value is not None
    return [RepaymentTotal(kind=kind, currency=currency, value=value, value_usd=usd,
                           transactions=count, without_rate=missing)
            for (kind, currency), (value, usd, count, missing) in sorted(
                sums.items(), key=lambda item: (item[0][0].value, item[0][1] or ""))]


def _has_terms(loan: Any) -> bool:
    return any(loan[name] is not None for name in LoanTermsPublic.model_fields)


def _has_status(loan: Any) -> bool:
    return loan["status_year"] is not None or any(loan[name] is not None for name in BALANCES)


def _terms(loan: Any) -> LoanTermsPublic:
    return LoanTermsPublic(**{name: loan[name] for name in LoanTermsPublic.model_fields})


def _status(loan: Any) -> LoanStatusPublic:
    on = balance_date(loan)
    return LoanStatusPublic(
        year=loan["status_year"], currency=loan["status_currency"],
        value_date=loan["status_value_date"],
        **{name: loan[name] for name in BALANCES},
        **{f"{name}_usd": in_usd(loan[name], loan["status_currency"], on) for name in BALANCES},
    )


def balance_date(loan: Any) -> date | None:
    """The day a loan's balances are converted on: its value date, else its year's end."""
    if loan["status_value_date"] is not None:
        return loan["status_value_date"]  # type: ignore[no-any-return]
    year = loan["status_year"]
    return date(year, 12, 31) if year is not None else None
