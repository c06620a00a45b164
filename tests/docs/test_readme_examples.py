"""The budget view's worked examples (docs/budget-view.md) are what the mapping engine gives
for their files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from iati.codelists import load_codelist
from iati.reader import read_activity
from mappings.amounts import Measure
from mappings.engine import CLASSIFIED, budget_view
from mappings.tables import Classification, table

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "fixtures" / "examples"
# (file, measure, year) of each example's table in docs/budget-view.md
CASES = [
    ("health-grant-esmeraldas.xml", Measure.disbursement, 2024),
    ("road-loan-development-bank.xml", Measure.commitment, 2024),
    ("gender-programme-policy-marker.xml", Measure.budget, 2024),
]


def render(file: str, measure: Measure, year: int) -> str:
    """The example's budget view for one measure and year, as the docs show it."""
    view = budget_view(read_activity((EXAMPLES / file).read_bytes()))
    lines = [
        "| clasificación / classification | código / code | nombre / name | USD "
        "| estado / status |",
        "|---|---|---|--:|---|",
    ]
    figures = [f for f in view.figures if f.measure is measure and f.year == year]
    for classification in CLASSIFIED:
        for figure in (f for f in figures if f.classification is classification):
            name = _name(classification, figure.code) or f"— {figure.reason}"
            lines.append(
                f"| {classification.value} | {figure.code or '—'} | {name} | "
                f"{figure.usd:,.2f} | {figure.status.value} |"
            )
    first = figures[0]
    total = sum((f.usd for f in figures if f.classification is CLASSIFIED[0]), Decimal(0))
    lines.append("")
    if first.currency == "USD":
        lines.append(f"Published in US dollars: {total:,.2f} USD, no conversion.")
    else:
        lines.append(
            f"{first.original:,.2f} {first.currency} × {first.rate} (ECB, {first.rate_date}) "
            f"= {total:,.2f} USD"
        )
    return "\n".join(lines)


def _name(classification: Classification, code: str | None) -> str | None:
    """The Spanish name of an Ecuadorian code; a DAC sector's name from its codelist."""
    if code is None:
        return None
    if classification is Classification.sector:
        item = load_codelist("Sector" if len(code) == 5 else "SectorCategory").get(code)
        return item.name if item is not None else None
    row = table(classification).get(code)
    return row.name_es if row is not None else None


@pytest.mark.parametrize(("file", "measure", "year"), CASES)
def test_the_readme_shows_the_engines_figures(file: str, measure: Measure, year: int) -> None:
    readme = (REPO / "docs" / "budget-view.md").read_text(encoding="utf-8")
    assert render(file, measure, year) in readme, f"regenerate the example of {file}"
