"""Split amounts of money by percentages so that the parts always add up to the whole.

Amounts are `Decimal`, split to the cent (or to the currency's own minor unit, given as
`quantum`). Each part is first rounded towards zero; the cents left over — the residue —
go one each to the parts with the largest dropped remainders, ties to the earlier part
(the largest-remainder method). The parts therefore sum to the whole exactly, no part
moves by more than one cent from its exact share, and the result does not depend on
anything but the inputs' order.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# An amount worth this much is a publishing error (a misplaced decimal point, the wrong
# currency), not cooperation; it is left out, with a finding. Every figure then fits,
# in cents, the 64-bit integers the aggregates add up.
LARGEST_USD = Decimal(10) ** 13
# An amount of this many digits is worth more in any currency, and is not even converted.
LARGEST_DIGITS = 20


def split(amount: Decimal, shares: Sequence[Decimal], *, quantum: Decimal = CENT) -> list[Decimal]:
    """`amount` (rounded to `quantum`) in parts proportional to `shares`, summing to it.

    Shares are weights (percentages, usually summing to 100; any positive total works,
    which is how percentages that do not add up are rebased). Zero shares get zero.
    """
    if not shares:
        raise ValueError("nothing to split into")
    if any(share < 0 for share in shares):
        raise ValueError("shares cannot be negative")
    with localcontext() as context:
        # Enough digits for the whole amount to its quantum and the parts beyond it, so
        # that no xs:decimal (any sign, any number of decimals) can overflow the context.
        context.prec = max(context.prec, _digits(amount) - _exponent(quantum) + _GUARD)
        return _split(amount, shares, quantum)


def _split(amount: Decimal, shares: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    total = sum(shares, Decimal(0))
    if total == 0:
        raise ValueError("the shares sum to zero")
    whole = amount.quantize(quantum, rounding=ROUND_HALF_EVEN)
    sign = -1 if whole < 0 else 1
    magnitude = abs(whole)
    exact = [magnitude * share / total for share in shares]
    parts = [value.quantize(quantum, rounding=ROUND_DOWN) for value in exact]
    residue = int((magnitude - sum(parts, Decimal(0))) / quantum)
    by_remainder = sorted(
        range(len(parts)), key=lambda index: (-(exact[index] - parts[index]), index)
    )
    for index in by_remainder[:residue]:
        parts[index] += quantum
    return [part * sign for part in parts]


_GUARD = 30  # digits beyond the amount's: the shares' quotients keep this many


def _digits(amount: Decimal) -> int:
    """How many digits `amount` has before its decimal point (at least 1)."""
    return max(amount.adjusted() + 1, 1) if amount.is_finite() and amount else 1


def _exponent(quantum: Decimal) -> int:
    exponent = quantum.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def rebased(shares: Sequence[Decimal]) -> list[Decimal]:
    """`shares` scaled to sum to 100 (they are kept when they already do)."""
    total = sum(shares, Decimal(0))
    if total == 0:
        raise ValueError("the shares sum to zero")
    if total == HUNDRED:
        return list(shares)
    return [share * HUNDRED / total for share in shares]
