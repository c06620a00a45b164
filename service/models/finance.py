"""Query tables of an activity's money: transactions, budgets and planned disbursements.

Rebuilt from the model each time the activity changes (see `service.projection`).
Currencies and the transaction classifications are the effective ones: the element's
own, else the activity's default, as the IATI Standard defines.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlmodel import Field

from service.models.base import IdTable, parent
from service.models.types import ExactDecimal, JSONDocument


class Transaction(IdTable, table=True):
    """One transaction of an activity, in file order (`position` from 1)."""

    activity_id: int | None = parent("activity")
    position: int
    ref: str | None = None
    type: str | None = Field(default=None, index=True)
    date: dt.date | None = Field(default=None, index=True)
    amount: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    currency: str | None = None
    value_date: dt.date | None = None
    # In US cents at the rate of its value date (else its date), under the rate series
    # `usd_rates`; None without a rate. `iati-ec remap` converts again under a new series.
    usd_cents: int | None = Field(default=None, sa_type=BigInteger)
    usd_rates: str | None = None
    provider_ref: str | None = Field(default=None, index=True)
    provider_name: str | None = None
    provider_activity_id: str | None = None
    receiver_ref: str | None = Field(default=None, index=True)
    receiver_name: str | None = None
    receiver_activity_id: str | None = None
    flow_type: str | None = None
    finance_type: str | None = None
    tied_status: str | None = None
    disbursement_channel: str | None = None
    aid_types: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    humanitarian: bool | None = None
    description: str | None = None


class Budget(IdTable, table=True):
    """One budget period of an activity."""

    activity_id: int | None = parent("activity")
    position: int
    type: str | None = None
    status: str | None = None
    period_start: dt.date | None = Field(default=None, index=True)
    period_end: dt.date | None = None
    amount: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    currency: str | None = None
    value_date: dt.date | None = None


class PlannedDisbursement(IdTable, table=True):
    """One planned disbursement of an activity (IATI gives these no status)."""

    __tablename__ = "planned_disbursement"

    activity_id: int | None = parent("activity")
    position: int
    type: str | None = None
    period_start: dt.date | None = Field(default=None, index=True)
    period_end: dt.date | None = None
    amount: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    currency: str | None = None
    value_date: dt.date | None = None
    provider_ref: str | None = Field(default=None, index=True)
    receiver_ref: str | None = Field(default=None, index=True)


class Loan(IdTable, table=True):
    """What an activity says of a loan: its terms and its status at the end of the latest
    year reported (crs-add), and its lender's organisation type (the reporting
    organisation's). One row per activity that gives terms, a status, or an interest or
    principal repayment (TransactionType 5 or 6; those stay in `transaction`)."""

    activity_id: int | None = parent("activity")
    lender_type: str | None = None
    # loan-terms: rate-1 and rate-2 in per cent, the LoanRepaymentType and
    # LoanRepaymentPeriod codes, and its dates.
    rate_1: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    rate_2: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    repayment_type: str | None = None
    repayment_plan: str | None = None
    commitment_date: dt.date | None = None
    repayment_first_date: dt.date | None = None
    repayment_final_date: dt.date | None = None
    # loan-status: balances at the end of `status_year`, in `status_currency` (its own,
    # else the activity's default), to be converted at `status_value_date`.
    status_year: int | None = None
    status_currency: str | None = None
    status_value_date: dt.date | None = None
    interest_received: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    principal_outstanding: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    principal_arrears: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    interest_arrears: Decimal | None = Field(default=None, sa_type=ExactDecimal)
