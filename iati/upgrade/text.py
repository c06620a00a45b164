"""Upgrade steps for 1.x free text: into narratives, into @iso-date, or off coded elements."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from lxml import etree

from iati.upgrade.context import Upgrade, direct_text, plain_elements, tag_of
from iati.upgrade.outline import NARRATIVE, XML_LANG, Outline, outline_at

# xs:date: the 1.01 examples wrote dates such as "2006-04-01Z" as element text.
_XS_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?")


def place_text(upgrade: Upgrade) -> None:
    """Give the text of every element the place 2.03 has for it, or report why it has none."""
    for path, element in plain_elements(upgrade.record):
        declared = outline_at(path)
        text = direct_text(element)
        if declared is None or declared.text or text is None:
            continue
        if declared.holds_narratives:
            _narrative_or_date(upgrade, element, text)
        elif declared.needs_iso_date:
            _date_text(upgrade, element, text)
        else:
            _coded_text(upgrade, element, text, declared)


def merge_repeats(upgrade: Upgrade) -> None:
    """Fold 1.x per-language repeats (title, …) into one element with one narrative each."""
    for path, parent in [("", upgrade.record), *plain_elements(upgrade.record)]:
        declared = outline_at(path)
        for name, slot in (declared.children.items() if declared else ()):
            if not slot.repeatable and _pure_narratives(slot):
                _merge(upgrade, [child for child in parent if tag_of(child) == name])


def _narrative_or_date(upgrade: Upgrade, element: etree._Element, text: str) -> None:
    # activity-date: 1.01 carried the date itself as text (its @iso-date was optional).
    if tag_of(element) == "activity-date" and element.get("iso-date") is None and _is_date(text):
        _text_to_iso_date(upgrade, element, text)
        return
    narrative = upgrade.make_child(element, NARRATIVE, index=0)
    narrative.text = text
    element.text = None
    language = element.attrib.pop(XML_LANG, None)
    if language is not None:
        narrative.set(XML_LANG, language)
    upgrade.report("upgrade.narrative", element, actual=tag_of(element))


def _date_text(upgrade: Upgrade, element: etree._Element, text: str) -> None:
    name = tag_of(element)
    if element.get("iso-date") is None and _is_date(text):
        _text_to_iso_date(upgrade, element, text)
    elif element.get("iso-date") is not None:
        element.text = None
        upgrade.report(
            "upgrade.removed", element, actual=f"{name} text {text.strip()!r}",
            expected="a 2.03 date element holds only @iso-date; its value is kept",
        )
    else:
        upgrade.settle(element, "@iso-date")
        upgrade.report(
            "upgrade.unsafe", element, actual=f"{name} text {text.strip()!r}",
            expected="it is not an ISO date, so the required @iso-date cannot be derived; "
            "kept as is",
        )


def _coded_text(upgrade: Upgrade, element: etree._Element, text: str, declared: Outline) -> None:
    name = tag_of(element)
    missing = [attribute for attribute in declared.required_attributes
               if element.get(attribute) is None]
    if missing:
        for attribute in missing:
            upgrade.settle(element, f"@{attribute}")
        upgrade.report(
            "upgrade.unsafe", element, actual=f"{name} text {text.strip()!r}",
            expected=f"2.03 allows no text here and the required @{missing[0]} is missing; "
            "a label cannot safely be turned into a code, so it is kept as is",
        )
        return
    element.text = None
    element.attrib.pop(XML_LANG, None)  # the language of the text just removed
    codes = ", ".join(f"@{attribute}={element.get(attribute)!r}"
                      for attribute in declared.required_attributes)
    authority = f"; {codes} is authoritative" if codes else ""
    upgrade.report(
        "upgrade.removed", element, actual=f"{name} text {text.strip()!r}",
        expected=f"2.03 allows no text on {name}{authority}",
    )


def _text_to_iso_date(upgrade: Upgrade, element: etree._Element, text: str) -> None:
    element.set("iso-date", text.strip())
    element.text = None
    name = tag_of(element)
    upgrade.report("upgrade.renamed", element, actual=f"{name} text {text.strip()!r}",
                   expected=f"{name}/@iso-date")


def _pure_narratives(slot: Outline) -> bool:
    return set(slot.children) == {NARRATIVE} and slot.attributes <= {XML_LANG}


def _merge(upgrade: Upgrade, repeats: list[etree._Element]) -> None:
    for extra in repeats[1:]:
        name = tag_of(extra)
        if set(extra.attrib) - {XML_LANG} or any(
            tag_of(child) not in ("", NARRATIVE) for child in extra
        ):
            continue  # not a plain per-language repeat; the audit reports it
        for narrative in extra.findall(NARRATIVE):
            repeats[0].append(narrative)
        parent = extra.getparent()
        if parent is not None:
            parent.remove(extra)
        upgrade.report(
            "upgrade.renamed", extra, actual=upgrade.origin(extra).xpath,
            expected=f"a narrative of the first {name}: 2.03 allows one {name} with a "
            "narrative per language",
        )


def _is_date(text: str) -> bool:
    if _XS_DATE.fullmatch(text.strip()) is None:
        return False
    try:
        date.fromisoformat(text.strip()[:10])
    except ValueError:
        return False  # shaped like a date but not one, such as 2010-02-30
    return True
