"""Text search over activities' titles and descriptions, in every language they give.

Each activity has one `activity_text` row: the words of all its title and description
narratives, folded (accents removed, case folded) and joined by spaces. A search folds
its words the same way, so "Educación" finds "educacion" and "EDUCACIÓN". Every word of a
search must occur; a word ending in ``*`` matches as a prefix (``seguri*``). There is no
stemming, so that no language is favoured over another.

SQLite matches through an FTS5 index kept in step with `activity_text` by triggers;
PostgreSQL through a GIN index on ``to_tsvector('simple', body)``. Both see the same
words, since the body holds nothing but words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from iati.elements.activity import Activity as IatiActivity
from service.errors import DomainError

# The FTS5 table of SQLite (and its shadow tables, named after it).
SQLITE_INDEX = "activity_search"
# PostgreSQL's index (made by the migration only: Alembic cannot compare expression indexes).
SEARCH_INDEX = "ix_activity_text_search"
MAX_LENGTH = 500
MAX_TERMS = 32
_WORD = re.compile(r"([^\W_]+)(\*)?")


class BadSearchError(DomainError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "query.bad-search"
    title: ClassVar[str] = "Unusable search"


def fold(text: str) -> str:
    """`text` without accents, case folded (NFKD: ligatures and full-width forms too)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(texts: Iterable[str | None]) -> str:
    """The folded words of `texts`, joined by spaces: what the index holds."""
    return " ".join(
        match.group(1) for text in texts if text for match in _WORD.finditer(fold(text))
    )


def activity_text(activity: IatiActivity) -> str:
    """The searchable words of `activity`: its title's and descriptions' narratives."""
    narratives = [activity.title] if activity.title is not None else []
    narratives += activity.descriptions
    return words(n.text for group in narratives for n in group.narratives)


@dataclass(frozen=True, slots=True)
class Term:
    word: str
    prefix: bool = False


def terms(search: str) -> list[Term]:
    """The terms of a search (``q``); `BadSearchError` if it has none or too many."""
    if len(search) > MAX_LENGTH:
        raise BadSearchError(
            f"A search is at most {MAX_LENGTH} characters; shorten it.", q=search[:50] + "…"
        )
    found = [Term(match.group(1), bool(match.group(2))) for match in _WORD.finditer(fold(search))]
    if not found:
        raise BadSearchError(
            "A search needs at least one word (letters or digits), e.g. q=seguridad.", q=search
        )
    if len(found) > MAX_TERMS:
        raise BadSearchError(f"A search has at most {MAX_TERMS} words.", q=search[:50] + "…")
    return found


def fts5_query(found: Iterable[Term]) -> str:
    """An FTS5 MATCH expression requiring every term (each quoted: no operators)."""
    return " AND ".join(f'"{term.word}"' + ("*" if term.prefix else "") for term in found)


def tsquery(found: Iterable[Term]) -> str:
    """A PostgreSQL ``to_tsquery`` text requiring every term."""
    return " & ".join(term.word + (":*" if term.prefix else "") for term in found)


def is_search_index(name: str) -> bool:
    """Whether `name` is SQLite's FTS5 table or one of its shadow tables (made by the
    migration, not by the models)."""
    return name == SQLITE_INDEX or name.startswith(SQLITE_INDEX + "_")
