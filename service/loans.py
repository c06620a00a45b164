"""The `loan` query row of an activity: its crs-add loan terms and loan status, and its
lender's organisation type, for an activity that gives either or pays a loan back.

Pure, like `service.projection`, which calls it. A loan-status year that is not a whole
number (the schema allows any decimal) is left out of the row; the stored document keeps
it as published, and validation reports it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from iati.elements.activity import Activity
from iati.elements.common import Code, DecimalText, IsoDateElement
from iati.elements.finance import LoanStatus, LoanTerms
from mappings.debt import REPAYMENT_TYPES


def loan_rows(activity: Activity) -> list[dict[str, Any]]:
    """One row when `activity` gives loan terms, a loan status or a repayment; else none."""
    crs = activity.crs_add
    terms = crs.loan_terms if crs is not None else None
    status = crs.loan_status if crs is not None else None
    repays = any(
        transaction.transaction_type is not None
        and transaction.transaction_type.code in REPAYMENT_TYPES
        for transaction in activity.transactions
    )
    if terms is None and status is None and not repays:
        return []
    reporting = activity.reporting_org
    return [{
        "lender_type": reporting.type if reporting is not None else None,
        **_terms(terms or LoanTerms()),
        **_status(status or LoanStatus(), activity.default_currency, given=status is not None),
    }]


def _terms(terms: LoanTerms) -> dict[str, Any]:
    return {
        "rate_1": terms.rate_1, "rate_2": terms.rate_2,
        "repayment_type": _code(terms.repayment_type),
        "repayment_plan": _code(terms.repayment_plan),
        "commitment_date": _day(terms.commitment_date),
        "repayment_first_date": _day(terms.repayment_first_date),
        "repayment_final_date": _day(terms.repayment_final_date),
    }


def _status(status: LoanStatus, default_currency: str | None, *, given: bool) -> dict[str, Any]:
    year = status.year
    whole = year is not None and year.is_finite() and year == year.to_integral_value()
    day = status.value_date
    return {
        "status_year": int(year) if whole and year is not None else None,
        "status_currency": (status.currency or default_currency) if given else None,
        "status_value_date": None if day is None else date(day.year, day.month, day.day),
        "interest_received": _amount(status.interest_received),
        "principal_outstanding": _amount(status.principal_outstanding),
        "principal_arrears": _amount(status.principal_arrears),
        "interest_arrears": _amount(status.interest_arrears),
    }


def _amount(element: DecimalText | None) -> Decimal | None:
    return element.amount if element is not None else None


def _code(element: Code | None) -> str | None:
    return element.code if element is not None else None


def _day(element: IsoDateElement | None) -> date | None:
    day = element.iso_date if element is not None else None
    return None if day is None else date(day.year, day.month, day.day)
