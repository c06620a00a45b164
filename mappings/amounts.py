"""The amounts of an activity that Ecuador's budget view classifies, in US dollars per year.

Each budget, planned disbursement and transaction (commitment, disbursement, expenditure)
becomes an `Amount`: converted to US dollars at its value date (the value's `value-date`,
else the transaction date or period start) with the ECB rate of `mappings.rates`, then
divided among calendar years (Ecuador's fiscal year) and kept for Ecuador's share only.

- A transaction belongs to the year of its date. A budget or planned disbursement is
  divided among the years of its period in proportion to its days in each.
- Ecuador's share is 100 % for a transaction whose own recipient-country is EC and 0 %
  for another country's; otherwise the activity's recipient-country EC percentage, out of
  the countries' and regions' percentages (rebased, with a finding, when they do not sum
  to 100; the whole when EC is the only recipient and gives no percentage). When the
  countries sum to 100 and the regions to 100 as well, the regions are read as saying
  where the countries are (a finding says so) and the country percentage stands.
- An activity that names no recipient country but only regions — even one holding Ecuador,
  such as 489 (South America) or 498 (America) — has no Ecuador share: a region's share
  of each of its countries is not said, and counting the whole for Ecuador would count it
  again for every other country of the region (`transaction_share`).
- Each division goes through `mappings.money.split`, so every cent is kept: the parts of
  an amount add up to its converted whole.

What cannot be converted (no currency, no rate, no date, no amount) is not guessed: it
becomes a `Finding` and goes to the review list with its original figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from iati.elements.activity import Activity
from iati.elements.common import Value
from iati.elements.finance import Transaction
from iati.elements.geography import RecipientCountry, RecipientRegion
from mappings.money import CENT, HUNDRED, LARGEST_DIGITS, LARGEST_USD, split
from mappings.rates import NoRateError, to_usd

ECUADOR = "EC"


class Measure(StrEnum):
    budget = "budget"
    planned_disbursement = "planned_disbursement"
    commitment = "commitment"
    disbursement = "disbursement"
    expenditure = "expenditure"


# IATI TransactionType codes measured by the view (incoming funds, loan repayments, … are
# flows of other kinds: they are left out, not lost).
TRANSACTION_MEASURES = {
    "2": Measure.commitment,
    "3": Measure.disbursement,
    "4": Measure.expenditure,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """Something about an amount the view could not take as it is: a code, what to do
    about it, and where (`budget[2]`, `transaction[5]`, …, counted from 1)."""

    code: str
    message: str
    location: str


@dataclass(frozen=True, slots=True)
class Amount:
    """Ecuador's part of one amount in one year, in US dollars and as published."""

    location: str  # `transaction[3]`, `budget[1]`, …
    measure: Measure
    year: int
    usd: Decimal
    original: Decimal
    currency: str
    rate: Decimal
    rate_date: date
    on: date  # the value date: tables and crosswalks are read as in force that day
    transaction: Transaction | None  # its own sectors, finance type, … take precedence


@dataclass
class Amounts:
    """The amounts of one activity, and the findings about those it could not take."""

    amounts: list[Amount]
    findings: list[Finding]
    ecuador_share: Decimal | None  # percent, at activity level (None: not an EC activity)


def amounts_of(activity: Activity) -> Amounts:
    """Every measured amount of `activity`, Ecuador's share, per year, in US dollars."""
    findings: list[Finding] = []
    share = _ecuador_share(activity, findings)
    found: list[Amount] = []
    for item in _items(activity):
        item_share = transaction_share(share, _transaction_country(item.transaction))
        if item_share is None or item_share == 0:
            continue  # another country's money
        found += _amount(activity, item, item_share, findings)
    return Amounts(found, findings, share)


def transaction_share(activity_share: Decimal | None, country: str | None) -> Decimal | None:
    """Ecuador's share (percent) of an amount whose own recipient-country is `country`
    (None: it names none) in an activity of `activity_share` (see `Amounts.ecuador_share`):
    all of it for Ecuador's, none for another country's, else the activity's. None: none
    of it is known to be Ecuador's."""
    if country is None:
        return activity_share
    return HUNDRED if country.strip().upper() == ECUADOR else None


def ecuador_part(whole: Decimal, share: Decimal, quantum: Decimal = CENT) -> Decimal:
    """Ecuador's `share` (percent) of `whole`, to `quantum`, as `split` divides it: what the
    budget view counts of an amount, and what is counted of any other amount alike."""
    if share >= HUNDRED:
        return whole
    return split(whole, [share, HUNDRED - share], quantum=quantum)[0]


@dataclass(frozen=True, slots=True)
class _Item:
    """One budget, planned disbursement or measured transaction, as published."""

    location: str
    measure: Measure
    value: Value | None
    start: date | None
    end: date | None
    transaction: Transaction | None = None


def _items(activity: Activity) -> Iterator[_Item]:
    for index, budget in enumerate(activity.budgets, start=1):
        yield _Item(f"budget[{index}]", Measure.budget, budget.value,
                    _day(budget.period_start), _day(budget.period_end))
    for index, planned in enumerate(activity.planned_disbursements, start=1):
        yield _Item(f"planned-disbursement[{index}]", Measure.planned_disbursement,
                    planned.value, _day(planned.period_start), _day(planned.period_end))
    for index, transaction in enumerate(activity.transactions, start=1):
        kind = transaction.transaction_type.code if transaction.transaction_type else None
        measure = TRANSACTION_MEASURES.get((kind or "").strip())
        if measure is not None:
            moment = _day(transaction.transaction_date)
            yield _Item(f"transaction[{index}]", measure, transaction.value, moment, moment,
                        transaction)


def _amount(
    activity: Activity, item: _Item, share: Decimal, findings: list[Finding]
) -> list[Amount]:
    location, value, start, end = item.location, item.value, item.start, item.end
    if value is None or value.amount is None:
        findings.append(Finding("mapping.no-amount", "The value has no amount.", location))
        return []
    currency = (value.currency or activity.default_currency or "").strip().upper()
    if not currency:
        findings.append(Finding(
            "mapping.no-currency",
            "No currency: publish value/@currency or the activity's @default-currency.",
            location,
        ))
        return []
    if start is None:
        findings.append(Finding(
            "mapping.no-date", "No date: publish the transaction date or the period start.",
            location,
        ))
        return []
    on = _plain(value.value_date) if value.value_date is not None else start
    try:
        rate = to_usd(currency, on)
    except NoRateError as error:
        findings.append(Finding("mapping.no-rate", f"{error}; the amount is not converted.",
                                location))
        return []
    whole = abs(value.amount)
    if whole.adjusted() >= LARGEST_DIGITS or rate.convert(whole) >= LARGEST_USD:
        findings.append(Finding(
            "mapping.too-large",
            f"The amount is worth {LARGEST_USD:,} US dollars or more, which no cooperation "
            "amount is; it is not counted. Check the value and its currency.",
            location,
        ))
        return []
    years = _years(start, end if end is not None and end >= start else start)
    days = [Decimal(count) for _, count in years]
    usd = ecuador_part(rate.convert(value.amount), share, CENT)
    original = ecuador_part(value.amount, share, minor_unit(value.amount))
    return [
        Amount(location, item.measure, year, part_usd, part_original, currency, rate.usd,
               rate.rate_date, on, item.transaction)
        for (year, _), part_usd, part_original in zip(
            years, split(usd, days), split(original, days, quantum=minor_unit(original)),
            strict=True,
        )
    ]


def minor_unit(amount: Decimal) -> Decimal:
    """The cent, or the amount's own smaller unit if it is published with more decimals."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return Decimal(1).scaleb(exponent)
    return CENT


def _years(start: date, end: date) -> list[tuple[int, int]]:
    """Each calendar year from `start` to `end` with its number of days (both included)."""
    found = []
    for year in range(start.year, end.year + 1):
        first = max(start, date(year, 1, 1))
        last = min(end, date(year, 12, 31))
        found.append((year, (last - first).days + 1))
    return found


def _ecuador_share(activity: Activity, findings: list[Finding]) -> Decimal | None:
    countries = activity.recipient_countries
    ecuador = [c for c in countries if (c.code or "").strip().upper() == ECUADOR]
    if not ecuador:
        return None
    places: list[RecipientCountry | RecipientRegion] = [
        *countries, *activity.recipient_regions
    ]
    if len(places) == 1:
        return HUNDRED
    if any(place.percentage is None for place in places):
        findings.append(Finding(
            "mapping.no-percentage",
            "Several recipients without percentages: Ecuador's share cannot be known; "
            "publish recipient-country/@percentage.",
            "recipient-country",
        ))
        return None
    mine = sum((c.percentage or Decimal(0) for c in ecuador), Decimal(0))
    of_countries = sum((c.percentage or Decimal(0) for c in countries), Decimal(0))
    of_regions = sum((r.percentage or Decimal(0) for r in activity.recipient_regions), Decimal(0))
    if of_countries == HUNDRED and of_regions == HUNDRED:
        findings.append(Finding(
            "mapping.regions-beside-countries",
            "The recipient countries and the recipient regions each sum to 100: the regions "
            "are taken to say where the countries are, and Ecuador's share is its country "
            "percentage.",
            "recipient-region",
        ))
        return mine
    total = of_countries + of_regions
    if total == 0:
        return None
    if total != HUNDRED:
        findings.append(Finding(
            "mapping.percentages-rebased",
            f"The recipient countries' and regions' percentages sum to {total}, not 100; "
            "Ecuador's share is taken out of their sum.",
            "recipient-country",
        ))
    return mine * HUNDRED / total


def _transaction_country(transaction: Transaction | None) -> str | None:
    if transaction is None or transaction.recipient_country is None:
        return None
    return (transaction.recipient_country.code or "").strip().upper() or None


def _day(element: object) -> date | None:
    found = getattr(element, "iso_date", None)
    return _plain(found) if found is not None else None


def _plain(day: date) -> date:
    """A plain date (the model's keep their lexical form besides)."""
    return date(day.year, day.month, day.day)
