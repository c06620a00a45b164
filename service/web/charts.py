"""Bar charts drawn on the server as SVG: no script, and the table beside says the same."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from mappings.boundaries import galapagos_inset, province_paths, viewbox

BAR, GAP, LABEL, WIDTH = 22, 8, 260, 720


@dataclass(frozen=True)
class Bar:
    label: str
    amount: Decimal
    shown: str  # the amount as the page writes it
    # The amount's parts, drawn one after another in their own shades (grants, loans,
    # other instruments); empty: one plain bar.
    parts: tuple[Decimal, ...] = ()


PART_CLASSES = ("bar part-0", "bar part-1", "bar part-2")


def bar_chart(bars: list[Bar], *, title: str, chart_id: str,
              legend: tuple[str, ...] = ()) -> str:
    """A horizontal bar chart of `bars` (largest first as given), titled for screen readers;
    bars with parts are stacked, the `legend` naming each part."""
    top = max((bar.amount for bar in bars), default=Decimal(0))
    keyed = LEGEND if legend else 0
    height = max(len(bars), 1) * (BAR + GAP) + GAP + keyed
    room = WIDTH - LABEL - 150
    rows = [_legend(legend)] if legend else []
    for index, bar in enumerate(bars):
        y = keyed + GAP + index * (BAR + GAP)
        length = 0 if top <= 0 or bar.amount <= 0 else max(1, int(room * bar.amount / top))
        rows.append(
            f'<text x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f"{_segments(bar, y, length)}"
            f'<text x="{LABEL + length + 6}" y="{y + BAR * 0.7:.1f}">{escape(bar.shown)}</text>'
        )
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}-title">'
        f"{escape(title)}</title>{''.join(rows)}</svg>"
    )


LEGEND = 24  # the height of a chart's legend line


def _legend(names: tuple[str, ...]) -> str:
    keys = []
    for index, name in enumerate(names):
        x = LABEL + index * 150
        keys.append(f'<rect x="{x}" y="6" width="14" height="14" class="{PART_CLASSES[index]}"/>'
                    f'<text x="{x + 18}" y="18">{escape(name)}</text>')
    return "".join(keys)


def _segments(bar: Bar, y: int, length: int) -> str:
    """The bar's rectangles: one, or one per part in proportion to the whole."""
    positive = list(bar.parts)
    whole = sum(positive, Decimal(0))
    # A negative part (money returned) cannot be stacked: one plain bar of the net amount.
    if not bar.parts or any(part < 0 for part in positive) or whole <= 0 or length == 0:
        return f'<rect x="{LABEL}" y="{y}" width="{length}" height="{BAR}" class="bar"/>'
    drawn, x = [], LABEL
    for index, part in enumerate(positive):
        width = int(length * part / whole) if index < len(positive) - 1 else LABEL + length - x
        if width > 0:
            drawn.append(f'<rect x="{x}" y="{y}" width="{width}" height="{BAR}" '
                         f'class="{PART_CLASSES[index]}"/>')
        x += width
    return "".join(drawn)


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


SHADES = ("#dbe9f6", "#a9cce3", "#6baed6", "#2f6fad", "#0b3d6b")  # light to dark blue
MAP_WIDTH, MAP_HEIGHT = 520, 520


def choropleth(
    amounts: dict[str, Decimal], shown: dict[str, str], names: dict[str, str], *,
    title: str, chart_id: str, legend: list[str],
) -> str:
    """Ecuador's provinces shaded by `amounts` (five equal steps up to the largest), each
    with its name and amount as a tooltip; provinces without money are left pale grey."""
    top = max(amounts.values(), default=Decimal(0))
    shapes = []
    for code, path in sorted(province_paths(MAP_WIDTH, MAP_HEIGHT).items()):
        amount = amounts.get(code, Decimal(0))
        if top > 0 and amount > 0:
            step = min(len(SHADES) - 1, int(amount * len(SHADES) / top))
            fill = SHADES[step]
        else:
            fill = "#f4f4f4"
        label = f"{names.get(code, code)}: {shown.get(code, '—')}"
        shapes.append(
            f'<path d="{path}" fill="{fill}" fill-rule="evenodd" stroke="#555" '
            f'stroke-width="0.6" data-province="{code}"><title>{escape(label)}</title></path>'
        )
    keys = "".join(
        f'<rect x="{10 + i * 60}" y="{MAP_HEIGHT - 24}" width="58" height="14" fill="{shade}" '
        f'stroke="#555" stroke-width="0.5"/>'
        for i, shade in enumerate(SHADES)
    )
    ends = (f'<text x="10" y="{MAP_HEIGHT - 30}">{escape(legend[0])}</text>'
            f'<text x="{10 + 5 * 60}" y="{MAP_HEIGHT - 30}" text-anchor="end">'
            f"{escape(legend[1])}</text>")
    box = viewbox(MAP_WIDTH, MAP_HEIGHT)
    inset = galapagos_inset(MAP_WIDTH, MAP_HEIGHT)
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title" viewBox="{box}" '
        f'class="chart map" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>{"".join(shapes)}'
        f'<path d="{inset}" fill="none" stroke="#555" stroke-dasharray="4 3"/>'
        f"{keys}{ends}</svg>"
    )
