"""The security lens: which DAC sectors' money is security, justice and counter-narcotics
cooperation, which words in an activity's text propose it for review, and which objectives
of the national citizen security plan those sectors align with.

The lens is data (`mappings/data/lenses/`, sources in `mappings/data/SOURCES.md`): a
definition with a version and the day it takes effect (`lenses.csv`), the DAC codes it
counts (`security-codes.csv`, rows `included=yes`; the codes considered and left out are
kept with the reason), keywords (`security-keywords.csv`) that only propose activities for
review and never count money, and the plan's objectives (`security-policy.csv`) with the
alignment of each counted code (`security-alignment.csv`).

An amount's lens follows from its DAC sector in the budget view's sector split: a counted
code is `security`; anything else, an amount without a DAC sector included, is
`development`. So an activity split between sectors gives each lens the share of its money
the split gives it, and the two lenses add up to the whole amount to the cent.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path

from mappings.tables import file_version

__all__ = ["Alignment", "Lens", "LensCode", "LensDefinition", "PolicyObjective",
           "SecurityPolicy", "folded_keywords", "keyword_matches", "lens_of",
           "security_lens", "security_policy"]

DATA = Path(__file__).resolve().parent / "data" / "lenses"


class Lens(StrEnum):
    """The side of the security lens an amount is on."""

    security = "security"
    development = "development"


@dataclass(frozen=True, slots=True)
class LensCode:
    """A DAC code the lens considered: counted (`included`) or left out, and why."""

    code: str
    vocabulary: str  # SectorVocabulary: 1 purpose code, 2 category
    included: bool
    name_en: str
    name_es: str
    sources: tuple[str, ...]
    rationale: str


@dataclass(frozen=True, slots=True)
class LensDefinition:
    """A lens's version, the day it takes effect, its codes and its keywords."""

    lens: str
    version: str
    effective_from: date
    digest: str  # the data files' SHA-256, shortened: changes with any row
    name_es: str
    name_en: str
    sources: tuple[str, ...]
    note: str
    codes: tuple[LensCode, ...]
    keywords: tuple[str, ...]

    @property
    def counted(self) -> frozenset[str]:
        """The codes whose money is the lens's."""
        return frozenset(code.code for code in self.codes if code.included)


@dataclass(frozen=True, slots=True)
class PolicyObjective:
    code: str  # `PSCCP-2019-2030/2`
    number: int
    name_es: str
    name_en: str
    sources: tuple[str, ...]
    confidence: str
    note: str


@dataclass(frozen=True, slots=True)
class Alignment:
    """A counted DAC code's objective of the plan (None: no objective fits, `rationale`
    says why); `proposed` until the ministry reviews it."""

    vocabulary: str
    code: str
    objective: str | None
    status: str
    rationale: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """The national security plan in force, its objectives and the lens codes' alignment."""

    code: str
    name_es: str
    name_en: str
    valid_from: date
    valid_to: date
    sources: tuple[str, ...]
    note: str
    version: str
    objectives: tuple[PolicyObjective, ...]
    alignment: tuple[Alignment, ...]

    def objective_of(self, code: str) -> Alignment | None:
        return next((row for row in self.alignment if row.code == code), None)


def _rows(name: str) -> tuple[list[dict[str, str]], bytes]:
    content = (DATA / name).read_bytes()
    return list(csv.DictReader(content.decode("utf-8").splitlines())), content


def _tags(value: str) -> tuple[str, ...]:
    return tuple(tag for tag in value.split(";") if tag)


@cache
def security_lens() -> LensDefinition:
    """The security lens as its data files define it, checked: every code once, of
    vocabulary 1 (5 digits) or 2 (3 digits)."""
    heads, head = _rows("lenses.csv")
    (row,) = [found for found in heads if found["lens"] == Lens.security.value]
    records, codes = _rows(row["codes_file"])
    words, keywords = _rows("security-keywords.csv")
    found = tuple(LensCode(r["code"], r["vocabulary"], r["included"] == "yes", r["name_en"],
                           r["name_es"], _tags(r["source"]), r["rationale"]) for r in records)
    seen = [code.code for code in found]
    if len(seen) != len(set(seen)):
        raise ValueError(f"{row['codes_file']}: a code is listed twice")
    for code in found:
        if len(code.code) != {"1": 5, "2": 3}.get(code.vocabulary):
            raise ValueError(f"{row['codes_file']}: {code.code} is not of vocabulary "
                             f"{code.vocabulary}")
    return LensDefinition(
        lens=row["lens"], version=row["version"],
        effective_from=date.fromisoformat(row["effective_from"]),
        digest=file_version(head + codes + keywords), name_es=row["name_es"],
        name_en=row["name_en"], sources=_tags(row["source"]), note=row["note"], codes=found,
        keywords=tuple(word["keyword"] for word in words),
    )


def lens_of(code: str | None) -> Lens:
    """The lens of an amount of DAC sector `code` (None: no DAC sector, development)."""
    return Lens.security if code in security_lens().counted else Lens.development


_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> str:
    """The words of `text` in lower case without accents, joined by spaces, so that
    "Narcotráfico" finds "narcotrafico" and "counter-narcotics" "counter narcotics"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return " ".join(_WORD.findall(plain))


def folded_keywords() -> tuple[str, ...]:
    """The keywords as `keyword_matches` looks for them: words folded as a search index
    holds them (no accents, lower case, punctuation as spaces)."""
    return tuple(dict.fromkeys(_words(word) for word in security_lens().keywords))


def keyword_matches(texts: Iterable[str | None]) -> tuple[str, ...]:
    """The lens's keywords found in `texts` (whole words, or word beginnings: `cárcel`
    finds "cárceles"; accents, case and punctuation aside), in the keyword file's order."""
    folded = f" {_words(' '.join(text for text in texts if text))}"
    return tuple(dict.fromkeys(
        word for word in security_lens().keywords if f" {_words(word)}" in folded))


@cache
def security_policy() -> SecurityPolicy:
    """The national citizen security plan of `security-policy.csv`, and the alignment of
    the lens's counted codes; every target is one of the plan's objectives."""
    records, plan_file = _rows("security-policy.csv")
    aligned, alignment_file = _rows("security-alignment.csv")
    (plan,) = [row for row in records if row["level"] == "plan"]
    objectives = tuple(
        PolicyObjective(row["code"], int(row["number"]), row["name_es"], row["name_en"],
                        _tags(row["source"]), row["confidence"], row["note"])
        for row in records if row["level"] == "objective" and row["parent_code"] == plan["code"])
    known = {objective.code for objective in objectives}
    rows = tuple(Alignment(row["vocabulary"], row["code"], row["target"] or None, row["status"],
                           row["rationale"], _tags(row["source"]))
                 for row in aligned if row["plan"] == plan["code"])
    for row in rows:
        if row.objective is not None and row.objective not in known:
            raise ValueError(f"security-alignment.csv: {row.objective} is not an objective "
                             f"of {plan['code']}")
    return SecurityPolicy(
        code=plan["code"], name_es=plan["name_es"], name_en=plan["name_en"],
        valid_from=date.fromisoformat(plan["valid_from"]),
        valid_to=date.fromisoformat(plan["valid_to"]), sources=_tags(plan["source"]),
        note=plan["note"], version=file_version(plan_file + alignment_file),
        objectives=objectives, alignment=rows,
    )
