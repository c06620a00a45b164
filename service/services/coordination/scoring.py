"""How alike two activities are: the evidence components of a duplicate score and their sum.

Each component compares one aspect of the two activities and gives a similarity in [0, 1],
or none (unknown) when a side lacks it: missing evidence is not disagreement, so the score
is the weighted sum over the components both sides have, divided by their weights (at
least `MIN_KNOWN`). Titles are compared narrative by narrative in every language each side
gives; nothing is translated. Money is compared from the transactions, in US dollars at
their dates, for any country.

A title, a set of participating organisations or a set of transactions that many
activities share says little (a programme title over dozens of grants, twin awards):
shared by k live activities, it counts 2/k, unless the activity is identified (its own
transactions match, or one identifier re-uses the other's own part). Signs of distinct
operations — phase or sequence markers, numbered awards, one publisher's two activities
whose transactions differ — cap the score at `DISTINCT_CAP`. docs/coordination.md repeats the rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any, TypeVar

from pydantic import BaseModel

from service.services.coordination.features import Facts, org_key, title_tokens, usd
from service.services.coordination.markers import all_markers, numbered_apart, successive

K = TypeVar("K")
WEIGHTS = {
    "title": 0.25,
    "participating-orgs": 0.15,
    "dates": 0.15,
    "amounts": 0.15,
    "transactions": 0.15,
    "sectors-countries": 0.15,
}
THRESHOLD = 0.6  # pairs scoring less are not reported
NEAR_TITLE_RATIO = 0.85  # a character ratio this high counts (typos, plurals); lower: words
AMOUNT_TOLERANCE = Decimal("0.10")  # amounts within 10 % of each other are "the same"
CROSS_REFERENCE_SCORE = 0.95  # one lists the other's identifier as an other-identifier
# Less known evidence than this share of the weights is not scaled up to a full score.
MIN_KNOWN = 0.5
# Transactions this alike (same type, date and US cents) identify one activity: a common
# title or set of organisations no longer discounts it, and one publisher's two
# activities are not two awards.
TRANSACTIONS_MATCH = 0.5
# The most a pair of distinct operations (successive phases, a publisher's separate
# awards) can score: under the threshold, whatever else they share.
DISTINCT_CAP = 0.5
FLOW_TOLERANCE = 0.01  # one transaction's US dollars on either side within 1 %
OWN_PART = 8  # the shortest own part of an identifier that counts when re-used
# The transaction types compared by their totals, in order: the first both have decides.
MEASURES = {"2": "commitment", "3": "disbursement", "4": "expenditure",
            "11": "incoming_commitment", "1": "incoming_funds"}


class Evidence(BaseModel):
    """One component of a score: what each side has, how alike, and what it adds
    (`shared_by`: how many live activities have the value, which discounts it). A side
    without the evidence is named in `missing`: the similarity is then unknown (null) and
    the other components' weights are scaled up to make up for it."""

    component: str
    a: Any = None
    b: Any = None
    similarity: float | None
    contribution: float
    shared_by: int | None = None
    missing: list[str] = []


def title_key(title: str) -> str:
    return " ".join(sorted(title_tokens(title)))


@dataclass(frozen=True, slots=True)
class Commonness:
    """How many live activities give each title (folded), each set of organisations and
    each set of transactions."""

    titles: Counter[str]
    organisations: Counter[frozenset[str]]
    flows: Counter[frozenset[tuple[str, date | None, int]]]

    @classmethod
    def of(cls, everything: Iterable[Facts]) -> Commonness:
        found = cls(Counter(), Counter(), Counter())
        for facts in everything:
            found._count(facts, 1)
        return found

    def updated(
        self, old: Mapping[int, Facts], new: Mapping[int, Facts], changed: Iterable[int],
    ) -> Commonness:
        """The commonness once the `changed` activities' `old` facts are `new` (or gone)."""
        found = Commonness(self.titles.copy(), self.organisations.copy(), self.flows.copy())
        for activity in changed:
            for facts, step in ((old.get(activity), -1), (new.get(activity), 1)):
                if facts is not None:
                    found._count(facts, step)
        return found

    def _count(self, facts: Facts, step: int) -> None:
        for title in {title_key(t) for t in facts.titles}:
            _step(self.titles, title, step)
        _step(self.organisations, frozenset(facts.organisations), step)
        if facts.flows:
            _step(self.flows, frozenset(facts.flows), step)

    def title(self, a: str | None, b: str | None) -> int:
        return max(self.titles[title_key(a or "")], self.titles[title_key(b or "")], 2)

    def participants(self, a: Facts, b: Facts) -> int:
        return max(self.organisations[frozenset(a.organisations)],
                   self.organisations[frozenset(b.organisations)], 2)

    def transactions(self, a: Facts, b: Facts) -> int:
        return max(self.flows[frozenset(a.flows)], self.flows[frozenset(b.flows)], 2)


def _step(counter: Counter[K], key: K, step: int) -> None:
    counter[key] += step
    if not counter[key]:
        del counter[key]


def jaccard(a: Set[str], b: Set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def title_similarity(a: list[str], b: list[str]) -> tuple[float, str | None, str | None]:
    """The best match between a narrative of each side: similarity and the two titles."""
    best: tuple[float, str | None, str | None] = (0.0, a[0] if a else None, b[0] if b else None)
    for one in a:
        for other in b:
            words_a, words_b = title_tokens(one), title_tokens(other)
            if not words_a or not words_b:
                continue
            shared = jaccard(words_a, words_b)
            # Titles a few typos apart still share a third of their words.
            similarity = max(shared, _near(words_a, words_b)) if shared >= 1 / 3 else shared
            if similarity > best[0]:
                best = (similarity, one, other)
    return best


def _near(words_a: frozenset[str], words_b: frozenset[str]) -> float:
    """The character ratio of the sorted words if at least `NEAR_TITLE_RATIO`, else 0; the
    cheap upper bounds first, since most candidate titles are far apart."""
    if words_a == words_b:
        return 1.0
    matcher = SequenceMatcher(None, " ".join(sorted(words_a)), " ".join(sorted(words_b)))
    if matcher.real_quick_ratio() < NEAR_TITLE_RATIO or matcher.quick_ratio() < NEAR_TITLE_RATIO:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= NEAR_TITLE_RATIO else 0.0


def date_overlap(a: Facts, b: Facts) -> float | None:
    """The days both spans cover over the days either covers; with only the starts (or
    only the ends) on both sides, 1 less a year's share of the days between them; None
    (unknown) when the sides give nothing to compare."""
    if a.start is not None and a.end is not None and b.start is not None and b.end is not None:
        common = (min(a.end, b.end) - max(a.start, b.start)).days + 1
        either = (max(a.end, b.end) - min(a.start, b.start)).days + 1
        return max(0.0, min(1.0, common / either)) if either > 0 else 0.0
    for one, other in ((a.start, b.start), (a.end, b.end)):
        if one is not None and other is not None:
            return max(0.0, 1 - abs((one - other).days) / 365)
    return None


def amount_similarity(
    a: dict[str, int], b: dict[str, int]
) -> tuple[float | None, str | None, Decimal | None, Decimal | None]:
    """min/max of the total of the first transaction type both have (`MEASURES`, in US
    cents), with the measure and both totals in dollars; None when no type is shared."""
    for code, measure in MEASURES.items():
        one, other = a.get(code), b.get(code)
        if one and other and one > 0 and other > 0:
            return float(min(one, other) / max(one, other)), measure, usd(one), usd(other)
    return None, None, None, None


def transaction_similarity(a: Facts, b: Facts) -> float | None:
    """The share of transactions the two have in common (Dice): of one type and date,
    their US dollars within `FLOW_TOLERANCE` (a copy in another currency, converted at the
    same date's rate, rounds otherwise)."""
    if not a.flows or not b.flows:
        return None
    others: dict[tuple[str, date | None], list[int]] = {}
    for kind, day, cents in b.flows:
        others.setdefault((kind, day), []).append(cents)
    common = 0
    for kind, day, cents in a.flows:
        candidates = others.get((kind, day), [])
        near = next((c for c in candidates
                     if abs(c - cents) <= FLOW_TOLERANCE * max(abs(c), abs(cents))), None)
        if near is not None:
            candidates.remove(near)
            common += 1
    return 2 * common / (len(a.flows) + len(b.flows))


def same_identifier_part(a: Facts, b: Facts) -> str | None:
    """The identifier part one re-uses of the other: an identifier ending with the
    other's own part (what follows its publisher's prefix, at least `OWN_PART` characters
    with a digit), as re-reporters name the activity they re-publish."""
    for one, other in ((a, b), (b, a)):
        own = own_part(one)
        if own and other.identifier.upper().endswith(own) and other.identifier != one.identifier:
            return own
    return None


def own_part(facts: Facts) -> str | None:
    identifier, prefix = facts.identifier.upper(), (facts.reporting_org or "").strip().upper()
    own = identifier[len(prefix):].lstrip("-") if prefix and identifier.startswith(prefix) else ""
    return own if len(own) >= OWN_PART and any(c.isdigit() for c in own) else None


def _missing(a: object, b: object) -> list[str]:
    return [side for side, value in (("a", a), ("b", b)) if not value]


def evidence(a: Facts, b: Facts, common: Commonness) -> list[Evidence]:
    """Every component of the comparison of `a` and `b`, weighted over the components
    both sides have (see the module), then the signs of distinct operations."""
    title, title_a, title_b = title_similarity(a.titles, b.titles)
    titled = bool(a.tokens()) and bool(b.tokens())
    matched = transaction_similarity(a, b)
    shared = {"title": common.title(title_a, title_b),
              "participating-orgs": common.participants(a, b),
              "transactions": common.transactions(a, b)}
    # Transactions of their own (not the same as a dozen twin awards') identify it, and so
    # does an identifier re-used in the other's.
    reused = same_identifier_part(a, b)
    identified = reused is not None or (
        matched is not None and matched >= TRANSACTIONS_MATCH and shared["transactions"] <= 2)
    amount, measure, sum_a, sum_b = amount_similarity(a.totals, b.totals)
    places_a = {s[:3] for s in a.sectors} | a.countries
    places_b = {s[:3] for s in b.sectors} | b.countries

    def dated(facts: Facts) -> dict[str, date | None]:
        return {"start": facts.start, "end": facts.end}

    def amounts(total: Decimal | None) -> dict[str, Any]:
        return {"measure": measure, "amount_usd": total,
                "within_tolerance": amount is not None and amount >= float(1 - AMOUNT_TOLERANCE)}

    parts: list[tuple[str, Any, Any, float | None, list[str]]] = [
        ("title", title_a, title_b, title if titled else None,
         _missing(a.tokens(), b.tokens())),
        ("participating-orgs", sorted(a.organisations), sorted(b.organisations),
         jaccard(a.organisations, b.organisations) if a.organisations and b.organisations
         else None, _missing(a.organisations, b.organisations)),
        ("dates", dated(a), dated(b), date_overlap(a, b),
         _missing(a.start or a.end, b.start or b.end)),
        ("amounts", amounts(sum_a), amounts(sum_b), amount, _missing(a.totals, b.totals)),
        ("transactions", len(a.flows), len(b.flows), matched, _missing(a.flows, b.flows)),
        ("sectors-countries", sorted(places_a), sorted(places_b),
         jaccard(places_a, places_b) if places_a and places_b else None,
         _missing(places_a, places_b)),
    ]
    known = max(sum(WEIGHTS[name] for name, *_, similarity, _ in parts if similarity is not None),
                MIN_KNOWN)
    # Built unvalidated: the values are made here, and most candidate pairs are dropped.
    found = [
        Evidence.model_construct(
            component=name, a=one, b=other,
            similarity=None if similarity is None else round(similarity, 3),
            contribution=0.0 if similarity is None else round(
                WEIGHTS[name] * similarity * _discount(name, shared, identified, reused) / known,
                3),
            shared_by=shared.get(name), missing=missing)
        for name, one, other, similarity, missing in parts
    ]
    if reused is not None:
        found.append(Evidence.model_construct(
            component="identifier", a=a.identifier, b=b.identifier, similarity=1.0,
            contribution=0.0, shared_by=None, missing=[]))
    return found + _distinct(a, b, matched, sum(e.contribution for e in found), reused)


def _discount(name: str, shared: dict[str, int], identified: bool, reused: str | None) -> float:
    """2/k for a title or set of organisations k live activities share, unless the
    transactions identify the activity; 2/k for transactions k live activities share;
    nothing when one identifier re-uses the other's."""
    if name not in shared or reused is not None or (identified and name != "transactions"):
        return 1.0
    return 2 / shared[name]


def _distinct(
    a: Facts, b: Facts, matched: float | None, total: float, reused: str | None,
) -> list[Evidence]:
    """Evidence that the two are distinct operations, each lowering the score to
    `DISTINCT_CAP`: unlike phase, tranche or sequence markers (`markers`), or two
    activities of one publisher whose transactions differ (two awards, not one twice)."""
    found: list[tuple[str, Any, Any]] = []
    marks_a, marks_b = all_markers(a.titles, a.identifier), all_markers(b.titles, b.identifier)
    if successive(marks_a, marks_b):
        found.append(("sequence", sorted(marks_a), sorted(marks_b)))
    elif reused is None and numbered_apart(a.identifier, b.identifier, own_a=own_part(a),
                                           own_b=own_part(b)):
        found.append(("sequence", a.identifier, b.identifier))
    if (a.reporting_org and a.reporting_org == b.reporting_org and matched is not None
            and matched < TRANSACTIONS_MATCH and reused is None):
        found.append(("separate-awards", a.reporting_org, b.reporting_org))
    cut = round(min(0.0, DISTINCT_CAP - total), 3)
    return [Evidence.model_construct(component=name, a=one, b=other, similarity=0.0,
                                     contribution=cut if index == 0 else 0.0, missing=[])
            for index, (name, one, other) in enumerate(found)]


def cross_reference(a: Facts, b: Facts) -> Evidence | None:
    """Evidence that one activity lists the other's identifier as an other-identifier."""
    if b.identifier not in a.other_identifiers and a.identifier not in b.other_identifiers:
        return None
    return Evidence(
        component="other-identifier", a=sorted(a.other_identifiers),
        b=sorted(b.other_identifiers), similarity=1.0, contribution=CROSS_REFERENCE_SCORE,
    )


def delivery_chain(a: Facts, b: Facts) -> Evidence | None:
    """Evidence that one is the other's funder on the delivery chain: an implementer's
    incoming money names the funder's activity (or its transactions pay the other's
    organisation, which reports receiving money from it), and the two do not report the
    same transactions (a copy of the funder's activity is a duplicate, not a link).
    `netted`: both sides name each other's activity, so the aggregates count the money
    once (`service.services.traceability`); `named`: whether the implementer names the
    funder's activity or only its organisation."""
    if (transaction_similarity(a, b) or 0.0) >= TRANSACTIONS_MATCH:
        return None
    for funder, implementer in ((a, b), (b, a)):
        by_activity = funder.identifier in implementer.funded_by_activities
        reporter, receiver = org_key(funder.reporting_org, None), org_key(
            implementer.reporting_org, None)
        by_organisation = reporter in implementer.paid_by and receiver is not None and (
            receiver in funder.paying or receiver in funder.implementing)
        if by_activity or by_organisation:
            netted = by_activity and implementer.identifier in funder.funding_activities
            return Evidence(
                component="delivery-chain", a={"funder": funder.identifier},
                b={"implementer": implementer.identifier, "netted": netted,
                   "named": "activity" if by_activity else "organisation"},
                similarity=1.0, contribution=0.0)
    return None


def score(found: list[Evidence]) -> float:
    """The sum of the weighted components (less what distinct operations take off), or
    the cross-reference's score if higher."""
    weighted = sum(e.contribution for e in found if e.component not in CROSSED)
    crossed = max((e.contribution for e in found if e.component in CROSSED), default=0.0)
    return round(min(1.0, max(weighted, crossed)), 3)


CROSSED = frozenset({"other-identifier"})
