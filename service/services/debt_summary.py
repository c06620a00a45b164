"""The debt view of many loans (the live activities matching the activity filters): debt
service by lender, year and expenditure ítem, balances by lender and year, and the loans
with their terms. See `service.services.debt` for what is added up and what is not.

In the public pages' scope (`ActivityFilter.ecuador`) the loans are those for Ecuador, and
each repayment and balance counts Ecuador's part (`service.services.ecuador`): a
repayment's by its own recipient country, else its loan's Ecuador share; a balance by its
loan's share, since it is the whole loan's. A loan to several countries is repaid by each
of them, not by Ecuador alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from mappings.amounts import transaction_share
from mappings.debt import REPAYMENT_TYPES, Repayment
from mappings.rates import in_usd
from service.services.debt import (
    ACTIVITY,
    BALANCES,
    LOAN,
    TRANSACTION,
    DebtGroupBy,
    LoanTermsPublic,
    balance_date,
    item_of,
    usd_of,
)
from service.services.ecuador import COUNTRY, activity_shares, part_in_usd
from service.services.query import ActivityFilter, activity_conditions

# Each loan's Ecuador share (percent, None when unknown), when Ecuador's part is counted.
Shares = dict[int, Decimal | None] | None


class DebtServiceRow(BaseModel):
    """The repayments of one group: interest, principal and both, in US dollars."""

    group: dict[str, str | int | None]
    interest_usd: Decimal
    principal_usd: Decimal
    total_usd: Decimal
    transactions: int
    activities: int


class BalanceRow(BaseModel):
    """The loan status of one lender's loans at the end of one year, in US dollars: a
    balance, never added over years nor to the repayments."""

    lender: str | None
    year: int
    principal_outstanding_usd: Decimal
    principal_arrears_usd: Decimal
    interest_arrears_usd: Decimal
    interest_received_usd: Decimal
    loans: int
    without_rate: int  # balances published that no rate converts (left out above)


class LoanRow(BaseModel):
    iati_identifier: str
    title: str | None
    lender: str | None
    terms: LoanTermsPublic
    status_year: int | None
    repayments: int


class DebtSummary(BaseModel):
    group_by: list[DebtGroupBy]
    ecuador: bool = False  # loans for Ecuador only, in Ecuador's part
    service: list[DebtServiceRow]
    service_total_usd: Decimal  # the rows' sum, to the cent
    without_rate: int  # repayments no rate converts, left out of the rows
    balances: list[BalanceRow]
    loans: list[LoanRow]


def debt_summary(
    connection: Connection, chosen: ActivityFilter, *, group_by: Sequence[DebtGroupBy],
    year_from: int | None = None, year_to: int | None = None,
) -> DebtSummary:
    """The debt view of the live activities matching `chosen`; repayments dated within
    `year_from`–`year_to` (both included) when given."""
    where = [ACTIVITY.c.deleted_at.is_(None),
             *activity_conditions(chosen, dialect=connection.dialect.name)]
    groups = list(dict.fromkeys(group_by))
    shares = activity_shares(connection, select(ACTIVITY.c.id).where(*where)) if (
        chosen.ecuador) else None
    service, missing = _service(connection, where, groups, year_from, year_to, shares)
    return DebtSummary(
        group_by=groups, ecuador=chosen.ecuador, service=service,
        service_total_usd=sum((row.total_usd for row in service), Decimal("0.00")),
        without_rate=missing, balances=_balances(connection, where, shares),
        loans=_loans(connection, where),
    )


def _service(
    connection: Connection, where: list[Any], groups: list[DebtGroupBy],
    year_from: int | None, year_to: int | None, shares: Shares,
) -> tuple[list[DebtServiceRow], int]:
    statement = (
        select(TRANSACTION, ACTIVITY.c.reporting_org_ref, LOAN.c.lender_type,
               COUNTRY.c.code.label("own_country"))
        .join(ACTIVITY, ACTIVITY.c.id == TRANSACTION.c.activity_id)
        .outerjoin(LOAN, LOAN.c.activity_id == ACTIVITY.c.id)
        .outerjoin(COUNTRY, COUNTRY.c.transaction_id == TRANSACTION.c.id)
        .where(TRANSACTION.c.type.in_(REPAYMENT_TYPES), *where)
    )
    sums: dict[tuple[Any, ...], dict[Repayment, Decimal]] = defaultdict(
        lambda: {kind: Decimal("0.00") for kind in Repayment})
    counted: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    missing = 0
    for row in connection.execute(statement).mappings():
        year = row["date"].year if row["date"] is not None else None
        if (year_from is not None and (year is None or year < year_from)) or (
                year_to is not None and (year is None or year > year_to)):
            continue
        share = None if shares is None else transaction_share(
            shares.get(row["activity_id"]), row["own_country"])
        if shares is not None and not share:
            continue  # none of it is Ecuador's
        usd = usd_of(row)
        if usd is None:
            missing += row["amount"] is not None
            continue
        if share is not None:
            usd = part_in_usd(usd, share)
        key = tuple(_group(group, row, year) for group in groups)
        sums[key][REPAYMENT_TYPES[row["type"]]] += usd
        counted[key].append(row["activity_id"])
    rows = [
        DebtServiceRow(
            group=dict(zip(groups, key, strict=True)),
            interest_usd=paid[Repayment.interest], principal_usd=paid[Repayment.principal],
            total_usd=paid[Repayment.interest] + paid[Repayment.principal],
            transactions=len(counted[key]), activities=len(set(counted[key])),
        )
        for key, paid in sorted(sums.items(), key=lambda item: _order(item[0]))
    ]
    return rows, missing


def _group(group: DebtGroupBy, row: Any, year: int | None) -> str | int | None:
    if group is DebtGroupBy.lender:
        return row["reporting_org_ref"]  # type: ignore[no-any-return]
    if group is DebtGroupBy.year:
        return year
    return item_of(row["type"], row["lender_type"], row["value_date"] or row["date"]).code


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, str(value)) for value in key)


def _balances(connection: Connection, where: list[Any], shares: Shares) -> list[BalanceRow]:
    statement = (
        select(LOAN, ACTIVITY.c.reporting_org_ref)
        .join(ACTIVITY, ACTIVITY.c.id == LOAN.c.activity_id)
        .where(LOAN.c.status_year.is_not(None), *where)
    )
    found: dict[tuple[str | None, int], list[Any]] = defaultdict(list)
    for loan in connection.execute(statement).mappings():
        if shares is None or shares.get(loan["activity_id"]):
            found[(loan["reporting_org_ref"], loan["status_year"])].append(loan)
    return [_balance(lender, year, loans, shares)
            for (lender, year), loans in sorted(found.items(), key=lambda i: _order(i[0]))]


def _balance(lender: str | None, year: int, loans: list[Any], shares: Shares) -> BalanceRow:
    sums = {name: Decimal("0.00") for name in BALANCES}
    missing = 0
    for loan in loans:
        for name in BALANCES:
            usd = in_usd(loan[name], loan["status_currency"], balance_date(loan))
            if usd is None:
                missing += loan[name] is not None
            elif shares is not None:
                sums[name] += part_in_usd(usd, shares.get(loan["activity_id"]))
            else:
                sums[name] += usd
    return BalanceRow(lender=lender, year=year, loans=len(loans), without_rate=missing,
                      **{f"{name}_usd": total for name, total in sums.items()})


def _loans(connection: Connection, where: list[Any]) -> list[LoanRow]:
    repayments = (
        select(func.count()).where(TRANSACTION.c.activity_id == LOAN.c.activity_id,
                                   TRANSACTION.c.type.in_(REPAYMENT_TYPES))
        .scalar_subquery()
    )
    statement = (
        select(LOAN, ACTIVITY.c.iati_identifier, ACTIVITY.c.title,
               ACTIVITY.c.reporting_org_ref, repayments.label("repayments"))
        .join(ACTIVITY, ACTIVITY.c.id == LOAN.c.activity_id)
        .where(*where)
        .order_by(ACTIVITY.c.reporting_org_ref, ACTIVITY.c.iati_identifier)
    )
    return [
        LoanRow(iati_identifier=loan["iati_identifier"], title=loan["title"],
                lender=loan["reporting_org_ref"], status_year=loan["status_year"],
                repayments=loan["repayments"],
                terms=LoanTermsPublic(**{name: loan[name]
                                         for name in LoanTermsPublic.model_fields}))
        for loan in connection.execute(statement).mappings()
    ]
