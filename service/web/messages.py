"""Validation findings in Spanish for the Spanish pages: each message the validator writes
(the official rulesets' messages, the codelist check's sentence, iati-ec's own catalogue)
with its Spanish from `spanish/findings.csv`, an unofficial translation."""

from __future__ import annotations

import csv
import re
from functools import cache

from iati.findings import SCHEMA_INVALID
from iati.validate.codelists import CodelistRules
from service.web.explain import SPANISH
from service.web.phrasebook import Phrasebook, Reading

# The codelist stage's sentence (iati/validate/codelists.py): the rule's message, the value,
# where it was, and the codelist.
CODELIST = (r"(?P<rule>.+?) \"(?P<code>.*)\" is not a valid value for (?P<context>.+?) "
            r"\(codelist (?P<codelist>[^)]+)\)\.")
CONTEXT = re.compile(r"(?:attribute (?P<attribute>@\S+), in )?element (?P<element><[^>]+>)"
                     r"(?: and linked (?P<linked>\S+) = (?P<value>.*))?")
FIELD = re.compile(r"\\\{(actual|expected)(?:!r)?\\\}")
FIELD_TEXT = re.compile(r"\{(?:actual|expected)(?:!r)?\}")
LATEST = "2.03"


def _codelist(reading: Reading) -> str:
    where = CONTEXT.fullmatch(reading["context"])
    if where is None:
        context = reading["context"]
    else:
        context = f"el elemento {where['element']}"
        if where["attribute"]:
            context = f"el atributo {where['attribute']} del elemento {where['element']}"
        if where["linked"]:
            context += f" con {where['linked']} vinculado = {where['value']}"
    return (f"«{reading['code']}» no es un valor válido para {context} "
            f"(lista de códigos {reading['codelist']}).")


def _pattern(template: str) -> str:
    """A message template (`{actual}`, `{expected!r}` …) as a pattern capturing its fields."""
    pattern = re.escape(template)
    seen: set[str] = set()

    def field(match: re.Match[str]) -> str:
        name = match[1]
        if name in seen:
            return f"(?P={name})"
        seen.add(name)
        return f"(?P<{name}>.+?)"

    return FIELD.sub(field, pattern)


@cache
def phrasebook() -> Phrasebook:
    """Every known message, its Spanish from the translation file."""
    with (SPANISH / "findings.csv").open(encoding="utf-8") as rows:
        known = [(_pattern(row["message_en"]), row["message_es"]) for row in csv.DictReader(rows)]
    return Phrasebook([*known, (CODELIST, _codelist)])


@cache
def _rules() -> dict[str, tuple[str, str]]:
    """Each finding code's message (English, Spanish): the first the translation file
    gives it, else, for a codelist rule, what it checks."""
    found = {SCHEMA_INVALID: ("The file does not follow the IATI XML schema.",
                              "El archivo no cumple el esquema XML de IATI.")}
    for check in CodelistRules.load(LATEST).checks():
        rules = [check.rule] if check.rule else (
            list(check.condition.rules.values()) if check.condition else [])
        for rule in rules:
            found.setdefault(rule.id, (rule.message, f"Un valor que no es un código de la "
                                                     f"lista {rule.codelist} de IATI."))
    with (SPANISH / "findings.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            found.setdefault(row["code"], (row["message_en"], row["message_es"]))
    return found


def rule_message(code: str, lang: str) -> str | None:
    """What a finding code is about, in the page's language (None: not known); fields of
    a message's template (`{actual}`) are left as "…"."""
    known = _rules().get(code)
    if known is None:
        return None
    return FIELD_TEXT.sub("…", known[0] if lang == "en" else known[1])


def finding(code: str, message: str, lang: str) -> str:
    """The finding's message as the page's language says it. A schema finding's message is
    the XML parser's own (in English), said after what it is about."""
    if lang == "en":
        return message
    if code == SCHEMA_INVALID:
        return f"El archivo no cumple el esquema XML de IATI: {message}"
    return phrasebook().say(message).text


__all__ = ["finding", "phrasebook", "rule_message"]
