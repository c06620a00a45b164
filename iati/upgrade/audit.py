"""Last upgrade step: report every way the upgraded record still differs from the 2.03 schema."""

# Nothing is changed here. Unknown elements and attributes stay where they are, required
# elements and attributes that the 1.x record cannot supply stay absent; each gets a finding,
# so every schema error the upgraded record still has is explained.

from __future__ import annotations

from lxml import etree

from iati.upgrade.context import Upgrade, direct_text, tag_of
from iati.upgrade.outline import Outline, activity_outline


def audit(upgrade: Upgrade) -> None:
    """Report every difference between the upgraded record and the 2.03 schema's outline."""
    _audit(upgrade, upgrade.record, activity_outline())


def _audit(upgrade: Upgrade, element: etree._Element, declared: Outline) -> None:
    _audit_attributes(upgrade, element, declared)
    _audit_text(upgrade, element, declared)
    seen: dict[str, int] = {}
    for child in element:
        tag = tag_of(child)
        slot = None if tag.startswith("{") else declared.child(tag)
        if not tag:
            continue
        if slot is None:
            _unexpected(upgrade, element, child, declared)
            continue
        seen[tag] = seen.get(tag, 0) + 1
        if seen[tag] > 1 and not slot.repeatable:
            _report_once(upgrade, child, actual=f"repeated {tag}",
                         expected=f"2.03 allows one {tag} here; the repeat is kept as is")
        _audit(upgrade, child, slot)
    for name, slot in declared.children.items():
        if slot.required and name not in seen:
            _report_once(
                upgrade, element, child=name, actual=f"<{name}> in {tag_of(element)}",
                expected="it is not invented", code="upgrade.missing-required",
            )


def _audit_attributes(upgrade: Upgrade, element: etree._Element, declared: Outline) -> None:
    tag = tag_of(element)
    for name, value in element.attrib.items():
        if not declared.allows_attribute(name):
            _report_once(
                upgrade, element, attribute=name, actual=f"{tag}/@{name}={value!r}",
                expected=f"2.03 has no such attribute on {tag}", code="upgrade.kept-unknown",
            )
    for name in declared.required_attributes:
        if element.get(name) is None:
            _report_once(
                upgrade, element, attribute=name, actual=f"@{name} of {tag}",
                expected="it is not invented", code="upgrade.missing-required",
            )


def _audit_text(upgrade: Upgrade, element: etree._Element, declared: Outline) -> None:
    if declared.text:
        return
    text = direct_text(element) or next(
        (child.tail for child in element if child.tail and child.tail.strip()), None
    )
    if text is not None:
        _report_once(upgrade, element, actual=f"{tag_of(element)} text {text.strip()!r}",
                     expected="2.03 allows no text here; kept as is")


def _unexpected(
    upgrade: Upgrade, parent: etree._Element, child: etree._Element, declared: Outline
) -> None:
    tag, parent_tag = tag_of(child), tag_of(parent)
    if tag.startswith("{"):
        if not declared.extensible:
            _report_once(upgrade, child, actual=f"extension element {tag}",
                         expected=f"2.03 allows no extension elements in {parent_tag}; kept")
        return
    _report_once(
        upgrade, child, actual=f"<{tag}> in {parent_tag}",
        expected="IATI 2.03 has no such element here", code="upgrade.kept-unknown",
    )


def _report_once(
    upgrade: Upgrade,
    element: etree._Element,
    *,
    actual: str,
    expected: str,
    attribute: str | None = None,
    child: str | None = None,
    code: str = "upgrade.unsafe",
) -> None:
    aspect = f"@{attribute}" if attribute is not None else child or ""
    if not upgrade.is_settled(element, aspect):
        upgrade.report(code, element, actual=actual, expected=expected,
                       attribute=attribute, child=child)
