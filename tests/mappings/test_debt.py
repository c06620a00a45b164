"""Repayments under the clasificador's debt-service ítems: interest in 5603, principal in
9603, the ítem of the lender's kind; nothing guessed when the lender's type is missing or
places the debt inside Ecuador."""

from __future__ import annotations

from datetime import date

import pytest

from mappings.crosswalks import Status
from mappings.debt import debt_service_item
from mappings.tables import Classification, table

ON = date(2024, 6, 30)


@pytest.mark.parametrize(("transaction_type", "lender_type", "code"), [
    ("5", "40", "560301"), ("6", "40", "960301"),  # a multilateral bank
    ("5", "10", "560302"), ("6", "15", "960302"),  # a government, a public agency
    ("5", "71", "560303"), ("6", "60", "960304"),  # a company, a foundation
])
def test_each_repayment_goes_to_the_item_of_its_lender(
    transaction_type: str, lender_type: str, code: str,
) -> None:
    found = debt_service_item(transaction_type=transaction_type, lender_type=lender_type, on=ON)
    assert (found.code, found.status) == (code, Status.proposed)
    parent = "5603" if transaction_type == "5" else "9603"
    row = table(Classification.expenditure_item).get(code, ON)
    assert row is not None
    assert row.attributes["parent_code"] == parent


@pytest.mark.parametrize(("lender_type", "reason"), [
    (None, "reporting-org/@type"), ("24", "internal"), ("90", "Other"), ("99", "no row"),
])
def test_a_repayment_without_a_fitting_lender_type_is_unmapped_with_the_reason(
    lender_type: str | None, reason: str,
) -> None:
    found = debt_service_item(transaction_type="6", lender_type=lender_type, on=ON)
    assert found.code is None
    assert found.status is Status.unmapped
    assert reason in (found.reason or "")


def test_only_repayments_have_a_debt_service_item() -> None:
    with pytest.raises(ValueError, match="not a repayment"):
        debt_service_item(transaction_type="3", lender_type="40", on=ON)
