"""How much of Ecuador's money the budget view classifies, per real file and classification.

For every activity of each file with Ecuador among its recipients, the budget view's
figures are added up in US dollars: per classification, the share mapped to a code, the
share to which the classification does not apply (income ítems and fuentes of off-budget
money), and the share unmapped. Run it on two checkouts to compare them:

    python bench/coverage.py                       # this checkout's mappings
    python bench/coverage.py --root ../other-checkout --markdown before.md

Files: the real samples in ../shared/iati/samples/real and CAF's loans in service/demo.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
CLASSIFICATIONS = ("perimeter", "instrument", "income_item", "fuente")
NOT_APPLICABLE = "n/a"


def files(shared: Path) -> list[Path]:
    found = sorted((shared / "iati" / "samples" / "real").glob("*.xml"))
    # The demo's other files are subsets of the samples: only CAF's is read from there.
    return found + sorted((HERE / "service" / "demo").glob("caf-*.xml"))


@dataclass(frozen=True)
class Coverage:
    """A file's Ecuador activities, their money (each amount once) and, per
    classification, the shares (percent) mapped, not applicable and unmapped."""

    activities: int
    money: Decimal
    shares: dict[str, tuple[Decimal, ...]]


def shares(path: Path) -> Coverage:
    """How much of `path`'s Ecuador money each classification covers."""
    reader = importlib.import_module("iati.reader")
    engine = importlib.import_module("mappings.engine")
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    activities, money = 0, Decimal(0)
    for record in reader.read_activities(path, unknown_version="assume-latest"):
        activity = record.model
        if not _in_ecuador(activity):
            continue
        activities += 1
        view = engine.budget_view(activity)
        for figure in view.figures:
            name = str(figure.classification)
            if name == "fuente":
                money += figure.usd
            if name not in CLASSIFICATIONS:
                continue
            slot = 0 if figure.code not in (None, NOT_APPLICABLE) else (
                1 if figure.code == NOT_APPLICABLE else 2)
            sums[name][slot] += figure.usd
    result: dict[str, tuple[Decimal, ...]] = {}
    for name in CLASSIFICATIONS:
        if name not in sums or money == 0:
            continue
        mapped, na, unmapped = sums[name]
        result[name] = tuple((part * 100 / money).quantize(Decimal("0.1"))
                             for part in (mapped, na, unmapped))
    return Coverage(activities, money, result)


def _in_ecuador(activity: Any) -> bool:
    codes = {(c.code or "").strip() for c in activity.recipient_countries}
    codes |= {(t.recipient_country.code or "").strip()
              for t in activity.transactions if t.recipient_country is not None}
    return "EC" in codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to measure")
    parser.add_argument("--shared", type=Path, default=HERE.parent / "shared")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    options = parser.parse_args()
    sys.path.insert(0, str(options.root.resolve()))
    lines = ["| file | Ecuador activities | USD (every measure) | "
             + " | ".join(f"{c}: mapped / n/a / unmapped %" for c in CLASSIFICATIONS) + " |",
             "|---|--:|--:|" + "---|" * len(CLASSIFICATIONS)]
    for path in files(options.shared):
        found = shares(path)
        if not found.activities:
            continue
        cells = [" / ".join(str(v) for v in found.shares[c]) if c in found.shares else "—"
                 for c in CLASSIFICATIONS]
        lines.append(f"| {path.name} | {found.activities} | {found.money:,.2f} | "
                     + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if options.markdown is not None:
        options.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
