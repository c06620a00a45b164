"""Bar charts drawn on the server as SVG: no script, and the table beside says the same."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

BAR, GAP, LABEL, WIDTH = 22, 8, 260, 720


@dataclass(frozen=True)
class Bar:
    label: str
    amount: Decimal
    shown: str  # the amount as the page writes it


def bar_chart(bars: list[Bar], *, title: str, chart_id: str) -> str:
    """A horizontal bar chart of `bars` (largest first as given), titled for screen readers."""
    top = max((bar.amount for bar in bars), default=Decimal(0))
    height = max(len(bars), 1) * (BAR + GAP) + GAP
    room = WIDTH - LABEL - 150
    rows = []
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR + GAP)
        length = 0 if top <= 0 or bar.amount <= 0 else max(1, int(room * bar.amount / top))
        rows.append(
            f'<text x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="{LABEL}" y="{y}" width="{length}" height="{BAR}" class="bar"/>'
            f'<text x="{LABEL + length + 6}" y="{y + BAR * 0.7:.1f}">{escape(bar.shown)}</text>'
        )
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}-title">'
        f"{escape(title)}</title>{''.join(rows)}</svg>"
    )


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
