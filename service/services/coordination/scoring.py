"""How alike two activities are: the evidence components of a duplicate score and their sum.

Each component compares one aspect of the two activities, gives a similarity in [0, 1]
and contributes its weight times that similarity; the score is the sum, in [0, 1]. The
weights, the threshold and the tolerances are the named constants below (the README
repeats them). Titles are compared narrative by narrative in every language each side
gives, so a Spanish and an English title match when both sides publish either language;
nothing is translated.

A title or a set of participating organisations that many activities share says little
(a publisher's programme title over dozens of small grants, an anonymised recipient):
shared by k live activities, its similarity counts 2/k (fully for a pair, less for more).
Dates compare as intervals: the days both cover over the days either covers.
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

from service.services.coordination.features import Facts, title_tokens

K = TypeVar("K")
WEIGHTS = {
    "title": 0.35,
    "participating-orgs": 0.25,
    "dates": 0.15,
    "amounts": 0.15,
    "sectors-countries": 0.10,
}
THRESHOLD = 0.6  # pairs scoring less are not reported
NEAR_TITLE_RATIO = 0.85  # a character ratio this high counts (typos, plurals); lower: words
AMOUNT_TOLERANCE = Decimal("0.10")  # amounts within 10 % of each other are "the same"
CROSS_REFERENCE_SCORE = 0.95  # one lists the other's identifier as an other-identifier
# The measures compared, in order: the first one both activities have decides.
MEASURES = ("commitment", "budget", "disbursement", "planned_disbursement", "expenditure")


class Evidence(BaseModel):
    """One component of a score: what each side has, how alike, and what it adds
    (`shared_by`: how many live activities have the value, which discounts it)."""

    component: str
    a: Any = None
    b: Any = None
    similarity: float
    contribution: float
    shared_by: int | None = None


def title_key(title: str) -> str:
    return " ".join(sorted(title_tokens(title)))


@dataclass(frozen=True, slots=True)
class Commonness:
    """How many live activities give each title (folded) and each set of organisations."""

    titles: Counter[str]
    organisations: Counter[frozenset[str]]

    @classmethod
    def of(cls, everything: Iterable[Facts]) -> Commonness:
        found = cls(Counter(), Counter())
        for facts in everything:
            found._count(facts, 1)
        return found

    def updated(
        self, old: Mapping[int, Facts], new: Mapping[int, Facts], changed: Iterable[int],
    ) -> Commonness:
        """The commonness once the `changed` activities' `old` facts are `new` (or gone)."""
        found = Commonness(self.titles.copy(), self.organisations.copy())
        for activity in changed:
            for facts, step in ((old.get(activity), -1), (new.get(activity), 1)):
                if facts is not None:
                    found._count(facts, step)
        return found

    def _count(self, facts: Facts, step: int) -> None:
        for title in {title_key(t) for t in facts.titles}:
            _step(self.titles, title, step)
        _step(self.organisations, frozenset(facts.organisations), step)

    def title(self, a: str | None, b: str | None) -> int:
        return max(self.titles[title_key(a or "")], self.titles[title_key(b or "")], 2)

    def participants(self, a: Facts, b: Facts) -> int:
        return max(self.organisations[frozenset(a.organisations)],
                   self.organisations[frozenset(b.organisations)], 2)


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


def date_overlap(a: Facts, b: Facts) -> float:
    """The days both spans cover over the days either covers (0 when one is unknown)."""
    if a.start is None or a.end is None or b.start is None or b.end is None:
        return 0.0
    common = (min(a.end, b.end) - max(a.start, b.start)).days + 1
    either = (max(a.end, b.end) - min(a.start, b.start)).days + 1
    return max(0.0, min(1.0, common / either)) if either > 0 else 0.0


def amount_similarity(
    a: dict[str, Decimal], b: dict[str, Decimal]
) -> tuple[float, str | None, Decimal | None, Decimal | None]:
    """min/max of the first measure both have (in US dollars), with the measure and sums."""
    for measure in MEASURES:
        one, other = a.get(measure), b.get(measure)
        if one and other and one > 0 and other > 0:
            return float(min(one, other) / max(one, other)), measure, one, other
    return 0.0, None, a.get(MEASURES[0]), b.get(MEASURES[0])


def evidence(
    a: Facts, b: Facts, money_a: dict[str, Decimal], money_b: dict[str, Decimal],
    common: Commonness,
) -> list[Evidence]:
    """Every component of the comparison of `a` and `b`, weighted."""
    title, title_a, title_b = title_similarity(a.titles, b.titles)
    shared = {"title": common.title(title_a, title_b),
              "participating-orgs": common.participants(a, b)}
    amount, measure, sum_a, sum_b = amount_similarity(money_a, money_b)
    places_a = {s[:3] for s in a.sectors} | a.countries
    places_b = {s[:3] for s in b.sectors} | b.countries

    def dated(facts: Facts) -> dict[str, date | None]:
        return {"start": facts.start, "end": facts.end}

    def amounts(total: Decimal | None) -> dict[str, Any]:
        return {"measure": measure, "amount_usd": total,
                "within_tolerance": amount >= float(1 - AMOUNT_TOLERANCE)}

    parts = [
        ("title", title_a, title_b, title),
        ("participating-orgs", sorted(a.organisations), sorted(b.organisations),
         jaccard(a.organisations, b.organisations)),
        ("dates", dated(a), dated(b), date_overlap(a, b)),
        ("amounts", amounts(sum_a), amounts(sum_b), amount),
        ("sectors-countries", sorted(places_a), sorted(places_b), jaccard(places_a, places_b)),
    ]
    # Built unvalidated: the values are made here, and most candidate pairs are dropped.
    return [
        Evidence.model_construct(
            component=name, a=one, b=other, similarity=round(similarity, 3),
            contribution=round(WEIGHTS[name] * similarity * 2 / shared.get(name, 2), 3),
            shared_by=shared.get(name))
        for name, one, other, similarity in parts
    ]


def cross_reference(a: Facts, b: Facts) -> Evidence | None:
    """Evidence that one activity lists the other's identifier as an other-identifier."""
    if b.identifier not in a.other_identifiers and a.identifier not in b.other_identifiers:
        return None
    return Evidence(
        component="other-identifier", a=sorted(a.other_identifiers),
        b=sorted(b.other_identifiers), similarity=1.0, contribution=CROSS_REFERENCE_SCORE,
    )


def score(found: list[Evidence]) -> float:
    """The sum of the weighted components, or the cross-reference's score if higher."""
    weighted = sum(e.contribution for e in found if e.component in WEIGHTS)
    crossed = max((e.contribution for e in found if e.component not in WEIGHTS), default=0.0)
    return round(min(1.0, max(weighted, crossed)), 3)
