"""Splitting money conserves it to the cent, whatever the amount and the shares."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings.amounts import minor_unit
from mappings.money import CENT, rebased, split

amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False,
    allow_infinity=False,
)
shares = st.lists(
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=12,
).filter(lambda found: sum(found) > 0)


@given(amounts, shares)
def test_the_parts_sum_to_the_whole_and_each_is_within_a_cent_of_its_share(
    amount: Decimal, weights: list[Decimal]
) -> None:
    parts = split(amount, weights)
    assert sum(parts, Decimal(0)) == amount
    total = sum(weights, Decimal(0))
    for part, weight in zip(parts, weights, strict=True):
        assert part == part.quantize(CENT)
        assert abs(part - amount * weight / total) < CENT
        if weight == 0:
            assert part == 0


def test_the_residue_goes_to_the_largest_remainders_ties_to_the_first() -> None:
    assert split(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33"),
    ]
    assert split(Decimal("-100.00"), [Decimal(1)] * 3) == [
        Decimal("-33.34"), Decimal("-33.33"), Decimal("-33.33"),
    ]
    # 10.00 at 33.5/66.5: exact 3.35 and 6.65 — no residue.
    assert split(Decimal("10.00"), [Decimal("33.5"), Decimal("66.5")]) == [
        Decimal("3.35"), Decimal("6.65"),
    ]
    # 0.05 in three: 0.0166… each; two cents left go to the first two.
    assert split(Decimal("0.05"), [Decimal(1)] * 3) == [
        Decimal("0.02"), Decimal("0.02"), Decimal("0.01"),
    ]


def test_percentages_that_do_not_sum_to_100_are_rebased() -> None:
    assert split(Decimal("90.00"), [Decimal(50), Decimal(40)]) == [
        Decimal("50.00"), Decimal("40.00"),
    ]
    assert sum(rebased([Decimal(60), Decimal(60)])) == 100


@pytest.mark.parametrize("weights", [[], [Decimal(0)], [Decimal(-1), Decimal(2)]])
def test_impossible_splits_are_refused(weights: list[Decimal]) -> None:
    with pytest.raises(ValueError, match=r"split|zero|negative"):
        split(Decimal(1), weights)


# Any xs:decimal a publisher may write: up to 30 integer digits, up to 40 decimals.
any_decimal = st.builds(
    lambda digits, places, negative: Decimal(
        f"{'-' if negative else ''}{digits // 10**places}.{digits % 10**places:0{places}d}"
        if places else f"{'-' if negative else ''}{digits}"),
    st.integers(min_value=0, max_value=10**70 - 1), st.integers(min_value=0, max_value=40),
    st.booleans(),
).filter(lambda amount: abs(amount) < Decimal(10) ** 30)


@given(any_decimal, shares)
def test_any_published_amount_splits_exactly_to_its_own_smallest_unit(
    amount: Decimal, weights: list[Decimal]
) -> None:
    """A value with 29 or more decimals raised InvalidOperation (a 500 at push): the split
    now keeps as many digits as the value needs, and the parts still sum to it exactly."""
    quantum = minor_unit(amount)
    parts = split(amount, weights, quantum=quantum)
    with localcontext() as context:
        context.prec = 200
        assert sum(parts, Decimal(0)) == amount.quantize(quantum)
        assert all(part.as_tuple().exponent >= quantum.as_tuple().exponent for part in parts)
