"""Text search (`q`) over titles and descriptions in every language, on SQLite (FTS5) and
PostgreSQL (full text), and the folding both share."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine

from iati.elements.activity import Activity
from service.db import downgrade_database, upgrade_database
from service.models import KeyScope
from service.search import BadSearchError, Term, fold, fts5_query, terms, tsquery, words
from tests.support.loads import DONORS, example_identifiers
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    every_page,
    identifier_of,
    identifiers,
    new_key,
    push,
    variant,
)

# Folding and terms ---------------------------------------------------------------------


def test_folding_drops_accents_and_case_in_any_script() -> None:
    assert fold("Educación BÁSICA") == "educacion basica"
    assert fold("Ñandú") == "nandu"
    assert fold("Straße") == "strasse"  # case folding, not lower()
    assert words(["Atención: primaria—de salud (2024)", None, "l'eau"]) == (
        "atencion primaria de salud 2024 l eau"
    )


def test_terms_keep_prefixes_and_make_safe_queries() -> None:
    found = terms('Seguri* "OR" NEAR(x)')
    assert found == [Term("seguri", prefix=True), Term("or"), Term("near"), Term("x")]
    assert fts5_query(found) == '"seguri"* AND "or" AND "near" AND "x"'
    assert tsquery(found) == "seguri:* & or & near & x"


@pytest.mark.parametrize("search", ["", "  ", "¿?¡!", "*", "a" * 501, " ".join(["w"] * 33)])
def test_unusable_searches_are_refused(search: str) -> None:
    with pytest.raises(BadSearchError):
        terms(search)


# Over HTTP, on both databases ---------------------------------------------------------


def _texts(activity: Activity) -> str:
    groups = [activity.title, *activity.descriptions] if activity.title else activity.descriptions
    return " ".join((n.text or "").lower() for g in groups for n in g.narratives)


@pytest.mark.reads_only
def test_words_match_whatever_their_accents_case_and_language(
    loaded: tuple[Api, str, str],
) -> None:
    api, key, _ = loaded
    health, road, gender = example_identifiers()
    donors = list(DONORS.values())

    def found(words: str) -> list[str]:
        return identifiers(every_page(api, key, q=words, reporting_org=donors))

    assert found("atencion") == [health]
    assert found("ATENCIÓN Primaria") == [health]
    assert found("manabi red") == [road]
    assert found("rehabilit*") == [road]
    assert found("violencia género") == [gender]
    # Every word must occur; a word is whole unless asked as a prefix.
    assert found("salud vial") == []
    assert found("rehabilit") == []


@pytest.mark.reads_only
def test_search_finds_the_titles_and_descriptions_of_a_real_file(
    loaded: tuple[Api, str, str], usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    for phrase in ("costos administrativos", "administrative costs"):
        expected = [a.identifier for a in usaid_models if phrase in _texts(a)]
        assert expected
        found = identifiers(every_page(api, key, q=phrase, reporting_org=USAID))
        # Words anywhere, not only the phrase: at least what holds the phrase.
        assert set(expected) <= set(found)
        assert all(
            all(word in _texts(a) for word in phrase.split())
            for a in usaid_models if a.identifier in found
        )
    assert identifiers(every_page(api, key, q="costos", sector="151", limit=3)) == [
        a.identifier for a in usaid_models if "costos" in _texts(a).split()
        and any((s.code or "").startswith("151") for s in
                [*a.sectors, *(s for t in a.transactions for s in t.sectors)])
    ]


@pytest.mark.reads_only
def test_bad_searches_are_problems_not_errors(loaded: tuple[Api, str, str]) -> None:
    api, key, _ = loaded
    answer = api.request("GET", "/api/v1/activities", key=key, params={"q": "¿?"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "query.bad-search"
    too_long = api.request("GET", "/api/v1/activities", key=key, params={"q": "a" * 501})
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "request.invalid"


def test_a_changed_title_is_found_by_its_new_words_only(
    store: Engine, tmp_path: Path
) -> None:
    api = Api(store)
    publisher = add_publisher(store, USAID)
    reader = new_key(store, USAID, KeyScope.read)
    push(store, publisher, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    identifier = identifier_of(USAID_EC, 1)
    assert identifiers(every_page(api, reader, q="administrativos")) == [identifier]

    def rewrite(activity: etree._Element) -> None:
        for narrative in activity.findall("title/narrative"):
            narrative.text = "Fortalecimiento de la vigilancia fronteriza"
        for narrative in activity.findall("description/narrative"):
            narrative.text = "Equipos y formación"
        activity.set("last-updated-datetime", "2099-01-01T00:00:00Z")

    changed = push(store, publisher, variant(USAID_EC, tmp_path / "two.xml", keep=1, a1=rewrite))
    assert [a.outcome for a in changed.activities] == ["updated"]
    assert identifiers(every_page(api, reader, q="vigilancia fronteriza")) == [identifier]
    assert identifiers(every_page(api, reader, q="costos")) == []  # no stale words left behind
    deleted = api.request("DELETE", f"/api/v1/activities/{identifier}",
                          key=new_key(store, USAID, KeyScope.publish))
    assert deleted.status_code in (200, 204)
    assert identifiers(every_page(api, reader, q="vigilancia")) == []


def test_the_migration_indexes_the_activities_already_stored(
    store_url: str, store: Engine, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    publisher = add_publisher(store, USAID)
    push(store, publisher, variant(USAID_EC, tmp_path / "three.xml", keep=3))
    store.dispose()
    downgrade_database(store_url, "0006")
    upgrade_database(store_url)
    api = Api(store)
    found = identifiers(every_page(api, new_key(store, USAID, KeyScope.read), q="administrative"))
    expected = [a.identifier for a in usaid_models[:3] if "administrative" in _texts(a)]
    assert expected
    assert found == expected
