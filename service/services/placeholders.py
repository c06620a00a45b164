"""Placeholders among participating organisations: names and refs that stand for no one
organisation, which the registry keeps by name and flags but never keys or merges on.

A name is a placeholder when it says nothing of who ("nan", empty, "Unspecified Vendors -
Ecuador", "Various", "Not specified", "Bénéficiaire(s) non spécifié(s)", "Unknown").
A ref is a placeholder when it says nothing of who, as such a name does ("N/A", "#"), or
when the evidence says so, never by a list of codes alone (a real
organisation's own ref can look like a category code): it is given for unrelated names
(`UNRELATED_NAMES` or more, their words sharing less than half), or it is a CRS channel
code used as an organisation ref (``XM-DAC-23000``) with a name that names a category
("NGO - Non United States Other", "… Unknown"); a channel code of one organisation
(``XM-DAC-41114``, UNDP) given with its own name is that organisation's ref. An acronym
and the full name ("UNICEF", "United Nations Children's Fund") are two names, not a
placeholder's spread.

Wherever partners are listed, a placeholder is flagged (`Placeholder`): `name`, a name that
names no one; `ref`, a placeholder ref, whose participants the registry keeps by their
names. `placeholders` decides them for refs and names as stored participants give them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum
from functools import cache

from sqlalchemy import select
from sqlalchemy.engine import Connection

from iati.codelists import load_codelist
from service.models import ParticipatingOrg
from service.search import fold

PARTICIPANT = ParticipatingOrg.__table__  # type: ignore[attr-defined]

UNRELATED_NAMES = 3
_WORD = re.compile(r"[^\W_]+")
_PLACEHOLDER_NAME = re.compile(
    r"^(nan|none|null|n ?a|na|unknown|desconocid[oa]|various|varios|varias|other|otros?|"
    r"not specified|no especificad[oa]|general not specified|tbd|to be determined|redacted|"
    r"unspecified.*|non specifi.*|.*non specifie.*|beneficiaire s non specifie s.*|"
    r"sin especificar.*|.*not mapped)$")
_CATEGORY_NAME = re.compile(r"\b(non united states|unknown|other|not mapped|category)\b")
_CRS_REF = re.compile(r"^XM-DAC-(\d{5})$")


def placeholder_name(name: str | None) -> bool:
    """Whether a participant's name names no one organisation (see the module)."""
    words = " ".join(_WORD.findall(fold(name or "")))
    return not words or _PLACEHOLDER_NAME.match(words) is not None


@cache
def _channel_names() -> dict[str, str]:
    codelist = load_codelist("CRSChannelCode")
    return {item.code: fold(item.name or "") for item in codelist}


def channel_code(ref: str | None) -> str | None:
    """The CRS channel code a ref of the form ``XM-DAC-NNNNN`` names, if it is one."""
    matched = _CRS_REF.match((ref or "").strip().upper())
    return matched.group(1) if matched and matched.group(1) in _channel_names() else None


def unrelated(names: Iterable[str]) -> int:
    """How many of `names` share less than half their words with every other one."""
    kept: list[frozenset[str]] = []
    for name in names:
        words = frozenset(_WORD.findall(fold(name)))
        if words and all(len(words & other) / len(words | other) < 0.5 for other in kept):
            kept.append(words)
    return len(kept)


def placeholder_ref(ref: str | None, names: Iterable[str]) -> bool:
    """Whether `ref`, given with `names` (in this push and stored activities), is a
    placeholder (see the module)."""
    if not ref or not ref.strip():
        return False
    if placeholder_name(ref):  # "N/A", "#": says nothing of who, whatever the names
        return True
    given = [name for name in names if not placeholder_name(name)]
    spread = unrelated(given)
    code = channel_code(ref)
    if code is not None:
        named_category = any(_CATEGORY_NAME.search(fold(name)) for name in names)
        return named_category or spread >= UNRELATED_NAMES
    return spread >= UNRELATED_NAMES


class Placeholder(StrEnum):
    """Why a listed partner stands for no one organisation (see the module)."""

    name = "name"
    ref = "ref"


def placeholders(connection: Connection, keys: Iterable[str]) -> dict[str, Placeholder]:
    """The placeholders among `keys` — each a participant's ref, or its name when it has
    none — judged on the names stored participants give with each ref."""
    wanted = {key.strip() for key in keys if key and key.strip()}
    names: dict[str, set[str]] = defaultdict(set)  # the keys stored as refs: their names
    statement = select(PARTICIPANT.c.ref, PARTICIPANT.c.name).distinct().where(
        PARTICIPANT.c.ref.in_(sorted(wanted)))
    for ref, name in connection.execute(statement):
        names[ref.strip()].add(name or "")
    found = {ref: Placeholder.ref for ref, given in names.items() if placeholder_ref(ref, given)}
    return found | {key: Placeholder.name for key in wanted - names.keys()
                    if placeholder_name(key)}
