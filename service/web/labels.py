"""Names for the codes the dashboard shows — provinces, plan objectives, DAC sectors, IATI
codelists, the budget view's classifications and organisations — each as `code — name`
where a code alone would say nothing, in the page's language.

Ecuador's tables name their codes in Spanish (some in English too). IATI's codelists name
theirs in English and French only; the Spanish pages take their names from
`spanish/codelists.csv`, an unofficial translation, and say so (`UNOFFICIAL_NOTE`)."""

from __future__ import annotations

import csv
import re
from functools import cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.engine import Connection

from iati.codelists import load_codelist
from iati.elements.common import Narratives
from mappings.crosswalks import NOT_APPLICABLE
from mappings.geography import NATIONAL
from mappings.tables import Classification, table
from service.services.merges import ORG_REF, ORGANISATION
from service.services.partners import catalogue_entity
from service.web.explain import SPANISH

DASH = " — "
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}")
DAC_VOCABULARIES = ("1", "2")
NAMED_ONLY = (Classification.perimeter.value, Classification.instrument.value)


@cache
def _spanish() -> dict[tuple[str, str], str]:
    """The Spanish names of IATI codes, by (codelist, code)."""
    with (SPANISH / "codelists.csv").open(encoding="utf-8") as rows:
        return {(row["codelist"], row["code"]): row["name_es"] for row in csv.DictReader(rows)}


@cache
def code(codelist: str, value: str | None, lang: str) -> str:
    """The name of `value` in IATI's `codelist`, in the page's language; the code itself
    where the codelist does not know it."""
    if not value:
        return "—"
    if lang != "en" and (codelist, value) in _spanish():
        return _spanish()[codelist, value]
    item = load_codelist(codelist).get(value)
    return item.name if item is not None and item.name else value


def province(code: str | None) -> str | None:
    if code == NATIONAL:
        return "Nacional"
    row = table(Classification.province).get(code) if code else None
    return row.name_es.title() if row is not None else None


def plan_objective(code: str | None) -> str | None:
    row = table(Classification.plan_objective).get(code) if code else None
    return f"{code}. {row.name_es}" if row is not None else None


@cache
def sector(value: str | None, lang: str = "es") -> str | None:
    """A DAC purpose code's or category's `code — name` (None without a code)."""
    if not value:
        return None
    named = code("Sector" if len(value) == 5 else "SectorCategory", value, lang)
    return value if named == value else f"{value}{DASH}{named}"


def published_sector(vocabulary: str | None, value: str | None, narrative: str | None,
                     lang: str) -> Markup:
    """A sector as an activity gives it: a DAC code with its name; a publisher's own code
    with the name the publisher gave it (as published), and its vocabulary."""
    given = (vocabulary or "1").strip()
    if given in DAC_VOCABULARIES:
        return Markup("{}").format(sector(value, lang) or "—")
    vocabulary_name = code("SectorVocabulary", given, lang)
    if narrative:
        return Markup("{}{}{} ({})").format(value or "", DASH if value else "",
                                            published(narrative), vocabulary_name)
    return Markup("{} ({})").format(value or "—", vocabulary_name)


def classified(classification: str, value: str | None, lang: str) -> str:
    """A budget-view code with its name from its Ecuadorian table (or the DAC codelists);
    "—" for none, and the words for not applicable."""
    if value is None:
        return "—"
    if value == NOT_APPLICABLE:
        return "No aplica" if lang != "en" else "Not applicable"
    if classification == Classification.sector.value:
        return sector(value, lang) or value
    if classification == Classification.plan_objective.value:
        return plan_objective(value) or value
    if classification == Classification.province.value:
        named = province(value)
        return f"{value}{DASH}{named}" if named else value
    row = table(Classification(classification)).get(value)
    if row is None:
        return value
    name = row.name_en if lang == "en" and row.name_en else row.name_es
    # The perimeters' and instruments' codes are iati-ec's own words: the name says it.
    return name if classification in NAMED_ONLY else f"{value}{DASH}{name}"


def organisations(connection: Connection, refs: set[str]) -> dict[str, str]:
    """The registry's name of each identifier in `refs` that it knows."""
    if not refs:
        return {}
    statement = (
        select(ORG_REF.c.ref, ORGANISATION.c.name)
        .join(ORGANISATION, ORGANISATION.c.id == ORG_REF.c.organisation_id)
        .where(ORG_REF.c.ref.in_(sorted(refs)))
    )
    return {str(ref): str(name) for ref, name in connection.execute(statement)}


def entries(connection: Connection, ids: set[int]) -> dict[int, tuple[str, bool]]:
    """The name each registry entry of `ids` is shown by, and whether it is an official
    name: the catalogue's, for an Ecuadorian entity it knows; else the entry's name as
    published."""
    if not ids:
        return {}
    refs: dict[int, list[str]] = {}
    for entry, ref in connection.execute(select(ORG_REF.c.organisation_id, ORG_REF.c.ref).where(
            ORG_REF.c.organisation_id.in_(sorted(ids))).order_by(ORG_REF.c.id)):
        refs.setdefault(entry, []).append(ref)
    found = {}
    for entry, name in connection.execute(select(ORGANISATION.c.id, ORGANISATION.c.name).where(
            ORGANISATION.c.id.in_(sorted(ids)))):
        official = catalogue_entity(refs.get(entry, []), name)
        found[entry] = (official.name, True) if official is not None else (name, False)
    return found


def expenditure_item(code: str | None) -> str | None:
    """The name of an item of the budget classifier (clasificador presupuestario)."""
    row = table(Classification.expenditure_item).get(code) if code else None
    return row.name_es if row is not None else None


UNOFFICIAL_NOTE = (
    "Los nombres en español de los sectores CAD y de las listas de códigos de IATI, las "
    "explicaciones de las reglas y los mensajes de validación son una traducción no oficial "
    "de iati-ec: la OCDE publica los códigos CRS en inglés y francés, e IATI sus listas de "
    "códigos en inglés y francés."
)


def narrative(element: Narratives | None, lang: str, default_lang: str | None = None) -> Markup:
    """A publisher's text (title, name, description) in the page's language if given in
    it, else its first, marked as published (and with its language, where known)."""
    if element is None or not element.narratives:
        return Markup("—")
    chosen = next((n for n in element.narratives if (n.lang or default_lang) == lang),
                  element.narratives[0])
    return published(chosen.text, chosen.lang or default_lang)


def published(text: str | None, text_lang: str | None = None) -> Markup:
    """Text as a publisher wrote it: never translated, so marked (`class="published"`)."""
    if not text:
        return Markup("—")
    code = (text_lang or "").strip().lower()
    if LANGUAGE_TAG.fullmatch(code):
        return Markup('<span class="published" lang="{}">{}</span>').format(code, text)
    return Markup('<span class="published">{}</span>').format(text)


def variants(name: str, names: list[dict[str, Any]]) -> list[str]:
    """The spellings an entry was published under, other than the name it is shown by."""
    return list(dict.fromkeys(text for given in names
                              if (text := str(given.get("text") or "").strip())
                              and text != name))


__all__ = ["UNOFFICIAL_NOTE", "classified", "code", "entries", "expenditure_item", "narrative",
           "organisations", "plan_objective", "province", "published", "published_sector",
           "sector", "variants"]
