"""Duplicate scoring and candidate blocking, without a database: folding, evidence, scale."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from service.services.coordination.duplicates import MAX_BLOCK, Blocking, blocking, candidates
from service.services.coordination.features import Everything, Facts, org_key, title_tokens
from service.services.coordination.scoring import (
    WEIGHTS,
    Commonness,
    amount_similarity,
    date_overlap,
    evidence,
    score,
    title_similarity,
)


def _facts(number: int, title: str, *orgs: str, **dates: date) -> Facts:
    facts = Facts(number, f"XX-{number}", "XX", title, titles=[title], **dates)
    facts.organisations = set(orgs)
    return facts


def test_titles_fold_case_accents_punctuation_and_stopwords() -> None:
    assert title_tokens("Atención PRIMARIA de salud, en San Lorenzo – Esmeraldas") == {
        "atencion", "primaria", "salud", "san", "lorenzo", "esmeraldas"}
    assert org_key(" xm-dac-41140 ", "WFP") == "XM-DAC-41140"
    assert org_key(None, "Fundación  Natura") == org_key("", "fundacion natura") == (
        "name:fundacion natura")
    assert org_key(None, None) is None


def test_titles_compare_narrative_by_narrative_in_any_language() -> None:
    similarity, one, other = title_similarity(
        ["Sustainable Tourism Alliance", "Alianza de Turismo Sostenible"],
        ["ALIANZA DE TURISMO SOSTENIBLE"])
    assert (similarity, one, other) == (1.0, "Alianza de Turismo Sostenible",
                                        "ALIANZA DE TURISMO SOSTENIBLE")
    assert title_similarity(["Water supply"], ["Abastecimiento de agua"])[0] == 0.0
    typo = title_similarity(["Salud rural en Manabí"], ["Salud rurales en Manabi"])[0]
    assert typo > 0.9  # the character ratio, where the word sets share only half


def test_dates_and_amounts() -> None:
    a = _facts(1, "t", start=date(2024, 1, 1), end=date(2024, 12, 31))
    b = _facts(2, "t", start=date(2024, 7, 1), end=date(2025, 6, 30))
    assert date_overlap(a, a) == 1.0
    assert round(date_overlap(a, b), 2) == 0.34  # 184 common days of 547
    assert date_overlap(a, _facts(3, "t")) == 0.0
    similarity, measure, one, other = amount_similarity(
        {"budget": Decimal(100), "commitment": Decimal(90)}, {"commitment": Decimal(100)})
    assert (similarity, measure, one, other) == (0.9, "commitment", Decimal(90), Decimal(100))
    assert amount_similarity({"budget": Decimal(5)}, {"disbursement": Decimal(5)})[0] == 0.0


def test_a_common_title_counts_for_less() -> None:
    twins = [_facts(i, "Natural Resources and Biodiversity", "US-GOV-1") for i in range(10)]
    pair = [_facts(20, "Galápagos marine reserve", "A"),
            _facts(21, "Galapagos Marine Reserve", "A")]
    common = Commonness.of([*twins, *pair])
    rare = {e.component: e for e in evidence(*pair, {}, {}, common)}
    assert rare["title"].contribution == WEIGHTS["title"]
    assert rare["title"].shared_by == 2
    many = {e.component: e for e in evidence(twins[0], twins[1], {}, {}, common)}
    assert many["title"].similarity == 1.0
    assert many["title"].shared_by == 10
    assert many["title"].contribution == round(WEIGHTS["title"] * 2 / 10, 3)
    assert score(list(many.values())) < score(list(rare.values()))


def test_blocking_never_pairs_everything() -> None:
    """20,000 activities of one donor with unrelated titles, and one re-published pair:
    the donor's key is too common to block on, so only pairs sharing rarer keys remain."""
    chosen = random.Random(6)
    vocabulary = [f"palabra{n}" for n in range(5000)]
    everything = {
        n: _facts(n, " ".join(chosen.sample(vocabulary, 5)), "US-GOV-1", f"PARTNER-{n % 3000}")
        for n in range(20_000)
    }
    everything[20_000] = _facts(20_000, "Reserva marina de Galápagos", "US-GOV-1", "XM-DAC-1")
    everything[20_001] = _facts(20_001, "RESERVA MARINA GALAPAGOS", "XM-DAC-1", "US-GOV-1")
    found = candidates(Everything(everything))
    assert (20_000, 20_001) in found
    assert len(found) < len(everything) // 4  # of about 200 million pairs
    assert MAX_BLOCK < 20_000


def test_the_blocking_index_follows_changes_as_if_made_afresh() -> None:
    """Activities changed, added and deleted: the index updated from the one before holds
    the same blocks, candidates and commonness as one made from scratch."""
    chosen = random.Random(7)
    vocabulary = [f"palabra{n}" for n in range(300)]

    def made(number: int) -> Facts:
        title = " ".join(chosen.sample(vocabulary, 4))
        return _facts(number, title, f"DONOR-{number % 5}", f"PARTNER-{number % 40}")

    old = Everything({n: made(n) for n in range(2000)})
    before = blocking(old)
    changed = frozenset(chosen.sample(range(2200), 300))  # beyond 1999: added
    facts = {n: f for n, f in old.items() if n not in changed}
    facts |= {n: made(n) for n in changed if chosen.random() < 0.8}  # the others: deleted
    new = Everything(facts, before=old, changed=changed)
    updated, fresh = blocking(new), Blocking.of(Everything(facts))
    assert new.before is None  # the older facts are let go
    assert updated.blocks == fresh.blocks != before.blocks
    assert updated.candidates == fresh.candidates != before.candidates
    assert updated.common == fresh.common != before.common
    assert len(fresh.candidates) > 10
