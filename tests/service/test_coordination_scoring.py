"""Duplicate scoring and candidate blocking, without a database: folding, evidence, scale."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from service.services.coordination.duplicates import MAX_BLOCK, Blocking, blocking, candidates
from service.services.coordination.features import Everything, Facts, org_key, title_tokens
from service.services.coordination.markers import (
    all_markers,
    markers,
    numbered_apart,
    successive,
)
from service.services.coordination.scoring import (
    DISTINCT_CAP,
    MIN_KNOWN,
    THRESHOLD,
    WEIGHTS,
    Commonness,
    amount_similarity,
    date_overlap,
    delivery_chain,
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
    assert date_overlap(a, _facts(3, "t")) is None  # unknown, not disagreement
    only_start = _facts(4, "t", start=date(2024, 4, 1))
    assert round(date_overlap(a, only_start) or 0, 2) == 0.75  # 91 days apart of a year
    similarity, measure, one, other = amount_similarity(
        {"3": 10_000, "2": 9_000}, {"2": 10_000})
    assert (similarity, measure, one, other) == (0.9, "commitment", Decimal(90), Decimal(100))
    assert amount_similarity({"4": 500}, {"3": 500})[0] is None


def test_a_common_title_counts_for_less() -> None:
    twins = [_facts(i, "Natural Resources and Biodiversity", "US-GOV-1") for i in range(10)]
    pair = [_facts(20, "Galápagos marine reserve", "A"),
            _facts(21, "Galapagos Marine Reserve", "A")]
    common = Commonness.of([*twins, *pair])
    rare = {e.component: e for e in evidence(*pair, common)}
    # Only titles and organisations are known: their weights are scaled up to the whole.
    known = WEIGHTS["title"] + WEIGHTS["participating-orgs"]
    assert rare["title"].contribution == round(WEIGHTS["title"] / max(known, MIN_KNOWN), 3)
    assert rare["dates"].similarity is None
    assert rare["dates"].missing == ["a", "b"]
    assert rare["title"].shared_by == 2
    many = {e.component: e for e in evidence(twins[0], twins[1], common)}
    assert many["title"].similarity == 1.0
    assert many["title"].shared_by == 10
    assert many["title"].contribution == round(
        WEIGHTS["title"] * 2 / 10 / max(known, MIN_KNOWN), 3)
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


def _flows(facts: Facts, *flows: tuple[str, date, int]) -> Facts:
    facts.flows = set(flows)
    for kind, _, cents in flows:
        facts.totals[kind] = facts.totals.get(kind, 0) + cents
    return facts


PAID = (("2", date(2021, 3, 1), 50_000_00), ("3", date(2021, 6, 30), 20_000_00))


def test_an_exact_re_report_scores_above_0_9_even_under_a_common_title() -> None:
    """Copied word for word by a second publisher, outside Ecuador (no budget view):
    missing nothing, disagreeing on nothing; a title twenty grants share does not hide it,
    since the transactions identify the activity."""
    grants = [_facts(i, "Civic Participation", "US-GOV-1", start=date(2021, 1, 1),
                     end=date(2021, 12, 31)) for i in range(20)]
    original = _flows(grants[0], *PAID)
    copy = _flows(_facts(99, "Civic Participation", "US-GOV-1", start=date(2021, 1, 1),
                         end=date(2021, 12, 31)), *PAID)
    copy.reporting_org, copy.identifier = "XM-DAC-41114", "XM-DAC-41114-COPY"
    for one in (original, copy):
        one.sectors, one.countries = {"15150"}, {"MX"}
    found = evidence(original, copy, Commonness.of([*grants, copy]))
    assert score(found) >= 0.9
    assert {e.component: e.missing for e in found if e.missing} == {}


def test_missing_evidence_is_unknown_and_the_rest_weighs_more() -> None:
    """No title, no dates, no money on one side: a score from what both have, no error."""
    bare = _facts(1, "", "XM-DAC-41114")
    bare.titles, bare.sectors = [], {"15150"}
    full = _flows(_facts(2, "Gobernanza local", "XM-DAC-41114", start=date(2021, 1, 1)), *PAID)
    full.sectors = {"15150"}
    found = {e.component: e for e in evidence(bare, full, Commonness.of([bare, full]))}
    assert {name for name, e in found.items() if e.similarity is None} == {
        "title", "dates", "amounts", "transactions"}
    assert found["title"].missing == ["a"]
    assert 0 < score(list(found.values())) <= 1


def test_successive_phases_and_numbered_awards_are_distinct_operations() -> None:
    assert markers("Programa Progresar II relacionado con el Cambio de la Matriz") == {"2"}
    assert markers("Programa de Infraestructura Logística Fase I") == {"1"}
    assert markers("Segundo financiamiento adicional, 2do tramo") == {"2", "additional"}
    assert markers("Ecuador COVID-19 Assistance") == frozenset()
    assert successive(markers("Progresar I"), markers("Progresar II"))
    assert successive(markers("Fase III"), markers("Fase IV"))
    assert successive(frozenset(), markers("Ruta Viva Fase II"))
    assert not successive(frozenset(), markers("Cuenca se Transforma Fase I"))
    assert all_markers([], "XI-DUNS-935132840-R-AID-518-A-07") == frozenset()  # XI: an agency
    assert numbered_apart("US-GOV-1-518-SDAA-G-00-14-00031-00",
                          "US-GOV-1-518-SDAA-G-00-14-00036-00")
    assert not numbered_apart("XI-IATI-IADB-EC-L1269", "XI-IATI-IADB-UR-L1171")
    assert numbered_apart("GB-CHC-1-R-AID-518-A-10-00004", "US-GOV-1-AID-518-A-11-00004",
                          own_a="R-AID-518-A-10-00004", own_b="AID-518-A-11-00004")
    one = _flows(_facts(1, "Programa Progresar I", "XM-DAC-46008", start=date(2015, 1, 1),
                        end=date(2020, 1, 1)), *PAID)
    two = _flows(_facts(2, "Programa Progresar II", "XM-DAC-46008", start=date(2015, 1, 1),
                        end=date(2020, 1, 1)), *PAID)
    found = evidence(one, two, Commonness.of([one, two]))
    assert score(found) == DISTINCT_CAP < THRESHOLD
    assert [e.a for e in found if e.component == "sequence"] == [["1"]]
    assert sum(e.contribution for e in found) == pytest.approx(score(found))


def test_a_funder_and_its_implementer_are_a_link_of_the_chain() -> None:
    funder = _flows(_facts(1, "Hilando liderazgos", "ES-DIR3-EA0035768"), *PAID)
    funder.identifier = "ES-DIR3-EA0035768-Z03"
    funder.funding_activities = {"EC-RUC-1791822870001-Z03"}
    implementer = _flows(_facts(2, "Hilando liderazgos", "EC-RUC-1791822870001"),
                         ("1", date(2021, 7, 15), 20_000_00))
    implementer.identifier = "EC-RUC-1791822870001-Z03"
    implementer.funded_by_activities = {"ES-DIR3-EA0035768-Z03"}
    chained = delivery_chain(funder, implementer)
    assert chained is not None
    assert chained.b == {"implementer": implementer.identifier, "netted": True,
                         "named": "activity"}
    assert delivery_chain(funder, _flows(_facts(3, "copy", "XX"), *PAID)) is None
