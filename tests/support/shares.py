"""Ecuador's share of real files' money, worked out from the XML alone (lxml, the rates):
what the public pages must show, computed apart from the service that shows it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from lxml import etree

from mappings.money import CENT
from mappings.rates import NoRateError, to_usd
from tests.support.samples import PARSER

MEASURES = {"2": "commitment", "3": "disbursement", "4": "expenditure"}
REPAYMENTS = {"5": "repaid", "6": "repaid"}


def activities(paths: Iterable[Path], wanted: set[str] | None = None) -> list[etree._Element]:
    """The activities of the files (those identified in `wanted`, if given). Read them,
    never change them: each file is parsed once."""
    return [activity for path in paths for activity in _parsed(path)
            if wanted is None or identifier(activity) in wanted]


@cache
def _parsed(path: Path) -> tuple[etree._Element, ...]:
    return tuple(etree.parse(str(path), PARSER).getroot().iterfind("iati-activity"))


def identifier(activity: etree._Element) -> str:
    return (activity.findtext("iati-identifier") or "").strip()


def for_ecuador(activity: etree._Element) -> bool:
    """Ecuador is a recipient country of the activity or of one of its transactions."""
    return bool(activity.xpath("recipient-country[@code='EC'] | "
                               "transaction/recipient-country[@code='EC']"))


def _percent(element: etree._Element) -> Decimal | None:
    given = element.get("percentage")
    return Decimal(given) if given is not None else None


def activity_share(activity: etree._Element) -> Decimal | None:
    """Ecuador's percentage of the activity: its recipient-country EC out of every
    recipient's percentage (rebased when they do not sum to 100; the country's alone when
    the countries and the regions each sum to 100); none without EC at activity level."""
    countries = activity.findall("recipient-country")
    regions = activity.findall("recipient-region")
    if not any(c.get("code") == "EC" for c in countries):
        return None
    if len(countries) + len(regions) == 1:
        return Decimal(100)
    if any(_percent(place) is None for place in [*countries, *regions]):
        return None
    mine = sum((_percent(c) or Decimal(0) for c in countries if c.get("code") == "EC"),
               Decimal(0))
    of_countries = sum((_percent(c) or Decimal(0) for c in countries), Decimal(0))
    of_regions = sum((_percent(r) or Decimal(0) for r in regions), Decimal(0))
    if of_countries == 100 and of_regions == 100:
        return mine
    return mine * 100 / (of_countries + of_regions)


def transaction_share(activity: etree._Element, transaction: etree._Element) -> Decimal | None:
    """Ecuador's percentage of a transaction: all for its own recipient country EC, none for
    another, else the activity's."""
    own = transaction.find("recipient-country")
    if own is not None:
        return Decimal(100) if own.get("code") == "EC" else None
    return activity_share(activity)


def part(usd: Decimal, share: Decimal) -> Decimal:
    """`share` percent of `usd`, to the cent, halves away from zero."""
    exact = abs(usd) * share / 100
    return exact.quantize(CENT, ROUND_HALF_UP).copy_sign(usd) if usd else Decimal("0.00")


def ecuador_money(
    found: Iterable[etree._Element], kinds: dict[str, str],
) -> dict[tuple[str, str], Decimal]:
    """Per reporting organisation and measure (by transaction type, `kinds`), the sum of
    Ecuador's shares of the activities' transactions, in US dollars at the rate of each
    value date (else the transaction's date); the sums that are not zero."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for activity in found:
        reporter = str(activity.xpath("string(reporting-org/@ref)"))
        for transaction in activity.iterfind("transaction"):
            kind = str(transaction.xpath("string(transaction-type/@code)"))
            share, value = transaction_share(activity, transaction), transaction.find("value")
            day = transaction.xpath("string(transaction-date/@iso-date)")
            if kind not in kinds or not share or value is None or not day:
                continue
            currency = value.get("currency") or activity.get("default-currency") or ""
            on = date.fromisoformat((value.get("value-date") or str(day))[:10])
            try:
                usd = to_usd(currency, on).convert(Decimal((value.text or "").strip()))
            except NoRateError:
                continue
            sums[reporter, kinds[kind]] += part(usd, share)
    return {key: amount for key, amount in sums.items() if amount}
