"""Target, actual and baseline values read as numbers, and the commas that could be decimal
separators (pure: no database).

A value is a number when it is spelt as one: digits with an optional decimal point,
optionally grouped by commas in threes (``130,000.00``), optionally followed by ``%``.
Anything else (``N/A``, ``Yes``, ``72,0000``, ``2015:100%``) is text only.

A comma is read as a thousands separator, but one comma followed by exactly three digits
and no decimal point (``15,821``) could be a decimal separator too (15.821). Which reading
is meant shows in the numbers beside it: the comma is taken to be possibly decimal when
read so the value is at least as near in scale (decimal orders of magnitude) to the other
non-zero numbers it is compared with as it is when read as thousands — ``15,821`` beside
a baseline of 18.50 and a target of 5.10 — or when there is no such number. Beside a
target of ``20,000.00``, an actual of ``23,152`` is twenty-three thousand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

NUMBER = re.compile(r"^([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(%?)$")
ONE_COMMA = re.compile(r"^[+-]?\d{1,3},\d{3}$")  # no decimal point: the comma could be one


@dataclass(frozen=True, slots=True)
class Reading:
    """A value as published, and as a number (with its unit, ``%`` or ``""``) if it is one;
    `decimal_comma`: the number its comma gives read as a decimal separator, when it could
    be one (see the module)."""

    text: str | None
    number: Decimal | None = None
    unit: str | None = None
    decimal_comma: Decimal | None = None


def read_value(text: str | None) -> Reading:
    matched = NUMBER.match(text.strip()) if text is not None else None
    if matched is None:
        return Reading(text)
    spelt = matched.group(1)
    comma = Decimal(spelt.replace(",", ".")) if ONE_COMMA.match(spelt) else None
    return Reading(text, Decimal(spelt.replace(",", "")), matched.group(2), comma)


def could_be_decimal(reading: Reading, beside: Iterable[Decimal | None]) -> bool:
    """Whether `reading`'s comma could be a decimal separator, judged by the numbers it is
    compared with (`beside`; see the module)."""
    if reading.decimal_comma is None or reading.number is None or reading.number == 0:
        return False
    scales = [abs(number).log10() for number in beside if number]
    if not scales:
        return True

    def distance(number: Decimal) -> Decimal:
        return min(abs(abs(number).log10() - scale) for scale in scales)

    return distance(reading.decimal_comma) <= distance(reading.number)
