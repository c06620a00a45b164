"""Phase, tranche and sequence markers: what says two alike activities are successive
operations of one programme ("Progresar I" and "Progresar II", "Fase 3" and "Fase 4", a
"segundo financiamiento", an "additional financing"), not one activity reported twice.

A marker is read from a title or an identifier, folded (case, accents) and normalised to
what it counts: ``2`` for "II", "Fase 2", "segunda", "2do" or "second"; ``additional``
for an additional or complementary financing; a year (``y2021``) for a title naming one.
Roman numerals count only as a word of their own (never inside "COVID-19" or "VIH"), only
I to XII, and a single letter only after an announcing word or at the end ("Progresar
II", "Fase I", not "I love"); a number counts only after a word that announces a sequence
("fase", "phase", "etapa", "tramo", "tranche", "stage", "lote", …). Two activities whose markers
differ — both marked, or one marked past the first — are distinct operations, and so are
two identifiers that differ only in their numbers (`numbered_apart`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from service.search import fold

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9,
         "x": 10, "xi": 11, "xii": 12}
ORDINALS = {
    "primera": 1, "primer": 1, "primero": 1, "first": 1, "premiere": 1, "premier": 1,
    "segunda": 2, "segundo": 2, "second": 2, "deuxieme": 2,
    "tercera": 3, "tercer": 3, "tercero": 3, "third": 3, "troisieme": 3,
    "cuarta": 4, "cuarto": 4, "fourth": 4, "quinta": 5, "quinto": 5, "fifth": 5,
    "sexta": 6, "sexto": 6, "sixth": 6,
}
# "1er", "2do", "2da", "3ro", "3ra", "4to", "5ta", "2nd", "3rd", "4th".
_SHORT_ORDINAL = re.compile(
    r"^(\d{1,2})(?:er|ro|ra|do|da|to|ta|mo|ma|vo|va|no|na|st|nd|rd|th|o|a)$")
_ANNOUNCING = (
    "fase fases phase phases etapa etapas tramo tramos tranche tranches stage stages lote "
    "lotes componente component ciclo cycle convocatoria call parte part programa program "
    "programme proyecto project prestamo loan credito credit linea line operacion "
    "operation financiamiento financing"
)
ANNOUNCING = frozenset(_ANNOUNCING.split())
PHASES = frozenset(["fase", "phase", "etapa", "tramo", "tranche", "stage", "lote"])
_ADDITIONAL = ("adicional adicionales additional complementario complementaria complementary "
               "supplementary suplementario")
ADDITIONAL = frozenset(_ADDITIONAL.split())
_WORD = re.compile(r"[^\W_]+")
_PARTS = re.compile(r"\d+|[^\W\d_]+")
_YEAR = re.compile(r"^(19[89]\d|20[0-4]\d)$")


@lru_cache(maxsize=1 << 15)
def markers(text: str) -> frozenset[str]:
    """The sequence markers of a title or identifier (see the module)."""
    words = _WORD.findall(fold(text))
    found: set[str] = set()
    for position, word in enumerate(words):
        before = words[position - 1] if position else ""
        if word in ROMAN and (before in ANNOUNCING or position == len(words) - 1
                              or len(word) > 1):
            found.add(str(ROMAN[word]))
        elif word in ORDINALS:
            found.add(str(ORDINALS[word]))
        elif (short := _SHORT_ORDINAL.match(word)) is not None:
            found.add(str(int(short.group(1))))
        elif word.isdigit() and before in ANNOUNCING and len(word) <= 2:
            found.add(str(int(word)))
        elif word in ADDITIONAL:
            found.add("additional")
        elif _YEAR.match(word):
            found.add(f"y{word}")
    return frozenset(found)


def all_markers(titles: list[str], identifier: str) -> frozenset[str]:
    """The markers of an activity: of its titles, and of its identifier those a phase word
    announces ("…-FASE-2"; an identifier's "XI-" is a registration agency, its years may be
    a re-reporter's own)."""
    words = _WORD.findall(fold(identifier))
    named = {m for position, word in enumerate(words[1:], 1)
             if words[position - 1] in PHASES for m in markers(f"fase {word}")}
    return frozenset(named.union(*(markers(title) for title in titles)))


def numbered_apart(a: str, b: str, *, own_a: str | None = None,
                   own_b: str | None = None) -> bool:
    """Whether two identifiers differ only in their numbers ("…-14-00031-00" and
    "…-14-00036-00", "…-109418-001" and "…-109418-002", "cfa012265" and "cfa012325"):
    two entries of one publisher's numbering of its awards, loans or components. A
    re-reporter's identifier is compared by its end with the other's own part (`own_a`,
    `own_b`: what follows its publisher's prefix), at least three parts of it."""
    if a.upper() == b.upper():
        return False
    for one, other, own in ((a, b, own_a), (b, a, own_b)):
        parts = _PARTS.findall((own or one).upper())
        others = _PARTS.findall(other.upper())
        if own is None and len(parts) != len(others):
            continue
        if len(parts) < 3 or len(parts) > len(others):
            continue
        aligned = list(zip(parts, others[len(others) - len(parts):], strict=True))
        if any(x != y for x, y in aligned) and all(
                x == y or (x.isdigit() and y.isdigit()) for x, y in aligned):
            return True
    return False


def suffixes(identifier: str, *, shortest: int) -> set[str]:
    """The ends of `identifier` after each of its hyphens, `shortest` characters or more
    with a digit: where a re-reporter's identifier may hold the original's own part."""
    upper = identifier.upper()
    return {upper[index + 1:] for index, char in enumerate(upper) if char == "-"
            and len(upper) - index - 1 >= shortest and any(c.isdigit() for c in upper[index:])}


def successive(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether markers `a` and `b` say two operations: both marked and unlike, or one
    marked past the first (a phase II beside an unmarked programme: its phase I)."""
    if a == b:
        return False
    if a and b:
        return True
    marked = a or b
    return any(m == "additional" or (m.isdigit() and int(m) > 1) for m in marked)
