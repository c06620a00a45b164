"""An activity's Ecuadorian income ítems as IATI `country-budget-items` (vocabulary 2).

IATI's own element for a recipient country's budget classification: vocabulary `2`
(Country Chart of Accounts) with the MEF clasificador's income ítems, each with its
percentage of the activity. The percentages are the ítems' shares of the activity's
commitments in the budget view (else of its budgets, else of its disbursements), out of
what is mapped — unmapped money has no ítem to give it — rounded to hundredths that sum
to exactly 100. IATI calls the element little used; it is an output for those who want
it, never a replacement for the budget view.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from iati.elements.classification import BudgetItem, CountryBudgetItems
from iati.elements.common import Narrative, Narratives
from mappings.amounts import Measure
from mappings.money import split
from mappings.tables import Classification, table

CHART_OF_ACCOUNTS = "2"  # BudgetIdentifierVocabulary
ORDER = (Measure.commitment, Measure.budget, Measure.disbursement)
HUNDREDTH = Decimal("0.01")


def income_budget_items(
    totals: Mapping[Measure, Mapping[str, Decimal]],
) -> CountryBudgetItems | None:
    """The element for an activity whose mapped income-ítem totals (US dollars) are
    `totals` by measure; None when no measure has a mapped ítem."""
    measure = next((m for m in ORDER if sum(totals.get(m, {}).values(), Decimal(0)) > 0), None)
    if measure is None:
        return None
    amounts = {code: amount for code, amount in sorted(totals[measure].items()) if amount > 0}
    shares = split(Decimal(100), list(amounts.values()), quantum=HUNDREDTH)
    items = table(Classification.income_item)
    return CountryBudgetItems(
        vocabulary=CHART_OF_ACCOUNTS,
        budget_items=[
            BudgetItem(code=code, percentage=share, description=_name(items.get(code)))
            for code, share in zip(amounts, shares, strict=True) if share > 0
        ],
    )


def _name(row: object) -> Narratives | None:
    name = getattr(row, "name_es", None)
    return Narratives(narratives=[Narrative(text=name, lang="es")]) if name else None
