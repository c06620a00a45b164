"""Sentences the library writes in English, said in Spanish: a small engine of patterns.

The mapping engine and the validator write their rules, reasons and messages in English;
they are stored so and the API gives them as written. The Spanish pages say them through a
`Phrasebook`: an ordered list of patterns, each a whole sentence with its Spanish. A text
made of several sentences joined by "; " is said sentence by sentence, the longest run of
sentences one pattern knows first (a quoted rationale may hold a "; " of its own). What no
pattern knows is kept as written and reported in `Said.unknown`, so that a test can require
that every sentence of the real samples is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Render = Callable[["Reading"], str]
Spanish = str | Render  # a template of the pattern's groups, or how to say a match
JOIN = "; "


@dataclass(frozen=True, slots=True)
class Said:
    """A text in Spanish, and the parts of it that were kept as written."""

    text: str
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Phrase:
    """One sentence the library writes: its pattern, and how to say it in Spanish."""

    pattern: re.Pattern[str]
    render: Render


@dataclass(slots=True)
class Reading:
    """A pattern's match, read with the phrasebook that matched it (to say its parts)."""

    match: re.Match[str]
    book: Phrasebook
    unknown: list[str] = field(default_factory=list)

    def __getitem__(self, group: str) -> str:
        return self.match[group] or ""

    def say(self, group: str) -> str:
        """The group, itself said in Spanish (a rule inside a rule)."""
        said = self.book.say(self[group])
        self.unknown.extend(said.unknown)
        return said.text


class Phrasebook:
    """Ordered phrases: the first whose pattern matches a whole sentence says it."""

    def __init__(self, phrases: Sequence[tuple[str, Spanish]]) -> None:
        self.phrases = tuple(Phrase(re.compile(pattern + r"\Z", re.DOTALL), spoken(spanish))
                             for pattern, spanish in phrases)

    def say(self, text: str) -> Said:
        """`text` in Spanish, sentence by sentence (see the module)."""
        parts = text.split(JOIN) if text else []
        said: list[str] = []
        unknown: list[str] = []
        start = 0
        while start < len(parts):
            for end in range(len(parts), start, -1):
                found = self._sentence(JOIN.join(parts[start:end]))
                if found is not None:
                    said.append(found.text)
                    unknown += found.unknown
                    start = end
                    break
            else:
                said.append(parts[start])
                unknown.append(parts[start])
                start += 1
        return Said(JOIN.join(said), tuple(unknown))

    def _sentence(self, sentence: str) -> Said | None:
        for phrase in self.phrases:
            match = phrase.pattern.match(sentence)
            if match is not None:
                reading = Reading(match, self)
                return Said(phrase.render(reading), tuple(reading.unknown))
        return None


def spoken(spanish: Spanish) -> Render:
    """A template's fields are the pattern's groups as written."""
    if callable(spanish):
        return spanish
    return lambda reading: spanish.format(
        **{name: value or "" for name, value in reading.match.groupdict().items()})


__all__ = ["Phrasebook", "Reading", "Said", "Spanish", "spoken"]
