"""What makes two IATI identifiers one, and which registered prefixes an identifier falls under.

An identifier is stored exactly as published, and compared by its *key*: its Unicode NFC
form, so that ``CAFÉ`` typed with a precomposed ``É`` and with ``E`` and a combining
accent is one activity. An IATI activity identifier is ``{organisation identifier}-{local
identifier}``: a prefix covers the identifier equal to it and those that continue it after
a hyphen (``XM-DAC-41114`` covers ``XM-DAC-41114-FUTURE``, not ``XM-DAC-411145``).
"""

from __future__ import annotations

import unicodedata

# Longer than any identifier a publisher uses (the longest in the IATI corpus are about
# 150 characters), in UTF-8 bytes: short enough for every database's index (PostgreSQL's
# B-tree takes about 2.7 KB a row). The same for identifiers, their keys and prefixes.
IDENTIFIER_LIMIT = 500
SHOWN = 100  # characters of an identifier quoted back in a message


def identifier_key(identifier: str) -> str:
    """The form identifiers are compared in: Unicode NFC."""
    return unicodedata.normalize("NFC", identifier)


def within_limit(identifier: str) -> bool:
    """Whether `identifier` and its key each take at most `IDENTIFIER_LIMIT` bytes in UTF-8
    (NFC can lengthen a few characters)."""
    if len(identifier) > IDENTIFIER_LIMIT:  # every character takes a byte at least
        return False
    return max(len(identifier.encode("utf-8")),
               len(identifier_key(identifier).encode("utf-8"))) <= IDENTIFIER_LIMIT


def invisible(identifier: str) -> bool:
    """Whether `identifier` holds a control character or an invisible format character
    (Unicode categories Cc and Cf), which make two identifiers that look the same differ."""
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in identifier)


def covering_prefixes(key: str) -> list[str]:
    """Every prefix that would cover the identifier of `key`, longest first: the key
    itself, then the key cut before each of its hyphens."""
    cuts = [position for position, char in enumerate(key) if char == "-" and position > 0]
    return [key, *(key[:position] for position in reversed(cuts))]


def covers(prefix_key: str, key: str) -> bool:
    """Whether the prefix of `prefix_key` covers the identifier (or prefix) of `key`."""
    return key == prefix_key or key.startswith(prefix_key + "-")


def shown(identifier: str) -> str:
    """`identifier` as quoted in a message: cut to `SHOWN` characters."""
    return identifier if len(identifier) <= SHOWN else identifier[:SHOWN] + "…"
