"""Ecuador's expenditure ítem for paying a loan back, from the clasificador presupuestario.

A repayment is money Ecuador pays its lender: interest and fees (IATI TransactionType 5,
Interest Payment) are ítems of 5603 *Intereses y otros cargos de la deuda pública externa*,
principal (type 6, Loan Repayment) ítems of 9603 *Amortización de la deuda externa*. The
ítem within each is the lender's kind — multilateral, government, private financial or
not — read from the lender's IATI OrganisationType in the crosswalk
`organisation-type-debt-service`. The lender is the organisation that reports the loan:
publishers name it as the provider or the receiver of a repayment, or not at all, so the
transaction's own organisations are not read.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from mappings.crosswalks import Resolution, Status, crosswalk, resolved, unmapped
from mappings.tables import Classification, table

DEBT_SERVICE = "organisation-type-debt-service"


class Repayment(StrEnum):
    """What part of a loan a repayment pays back."""

    interest = "interest"  # TransactionType 5: interest and fees
    principal = "principal"  # TransactionType 6: the loan itself


# The IATI TransactionType of each kind of repayment.
REPAYMENT_TYPES = {"5": Repayment.interest, "6": Repayment.principal}


def debt_service_item(
    *, transaction_type: str, lender_type: str | None, on: date | None
) -> Resolution:
    """The expenditure ítem of a repayment of `transaction_type` (5 or 6) to a lender of
    `lender_type`, in force on `on`; unmapped, with the reason, when none fits."""
    if transaction_type not in REPAYMENT_TYPES:
        raise ValueError(f"transaction type {transaction_type} is not a repayment")
    if not lender_type:
        return unmapped("no organisation type: the lender should publish reporting-org/@type",
                        rule="missing input")
    walk = crosswalk(DEBT_SERVICE)
    key = (transaction_type, lender_type)
    rows = walk.lookup(*key, on=on)
    if not rows:
        return unmapped(f"organisation type {lender_type} has no row in {DEBT_SERVICE}",
                        rule=f"crosswalk {DEBT_SERVICE} {'/'.join(key)}",
                        version=walk.version)
    found = resolved(walk, rows[0])
    if found.status is Status.unmapped or found.code is None:
        return found
    if table(Classification.expenditure_item).get(found.code, on) is None:
        when = "" if on is None else f" on {on.isoformat()}"
        return unmapped(f"{found.code} is not in the expenditure_item table{when}",
                        rule=found.rule, version=walk.version)
    return found
