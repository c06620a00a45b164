"""The security lens's data: its codes are the DAC codelist's (names and all), its plan's
objectives are what the alignment targets, and its keywords fold accents and case."""

from __future__ import annotations

from iati.codelists import load_codelist
from mappings.lenses import (
    Lens,
    folded_keywords,
    keyword_matches,
    lens_of,
    security_lens,
    security_policy,
)


def test_every_code_is_active_in_the_vendored_codelist_under_its_name() -> None:
    lens = security_lens()
    for code in lens.codes:
        codelist = load_codelist("Sector" if code.vocabulary == "1" else "SectorCategory")
        item = codelist.items[code.code]
        assert not item.withdrawn, code.code
        assert item.name == code.name_en, code.code
        if code.vocabulary == "1" and code.code[:3] == "152":  # the category counts whole
            assert code.included, code.code
    counted = lens.counted
    assert {"152", "15210", "15220", "15230", "15240", "15250", "15261", "15130", "15131",
            "15132", "15134", "15137", "16063", "31165", "43050"} == counted
    # Every 5-digit code of category 152 in the codelist is counted.
    assert {c for c in load_codelist("Sector").items if c.startswith("152")} <= counted


def test_the_lens_of_an_amount_follows_its_sector() -> None:
    assert lens_of("16063") is Lens.security
    assert lens_of("152") is Lens.security
    assert lens_of("15113") is Lens.development  # considered, left out
    assert lens_of("151") is Lens.development  # the category holds governance too
    assert lens_of(None) is Lens.development


def test_every_counted_code_is_aligned_or_says_why_not() -> None:
    policy = security_policy()
    objectives = {objective.code for objective in policy.objectives}
    assert objectives == {f"PSCCP-2019-2030/{n}" for n in range(1, 5)}
    for code in security_lens().counted:
        row = policy.objective_of(code)
        assert row is not None, code
        assert (row.objective in objectives) if row.status == "proposed" else (
            row.objective is None and row.status == "unmapped"), code
        assert row.rationale
    assert (policy.valid_from.year, policy.valid_to.year) == (2019, 2030)


def test_keywords_match_whole_words_whatever_the_accents() -> None:
    assert keyword_matches(["Lucha contra el NARCOTRAFICO en la frontera"]) == ("narcotráfico",)
    assert keyword_matches(["Reforma de las cárceles y del sistema penitenciario"]) == (
        "cárcel", "cárceles", "penitenciari")
    assert keyword_matches(["Counter-narcotics training"]) == ("narcotics", "counter-narcotics")
    assert keyword_matches(["Seguridad alimentaria", None]) == ()
    # How a search index holds the words, for a first sieve in the database.
    assert {"narcotrafico", "counter narcotics", "carceles"} <= set(folded_keywords())
