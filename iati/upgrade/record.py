"""Upgrade of one IATI 1.0x activity record, in place, into IATI 2.03 structure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from lxml import etree

from iati.findings import Finding
from iati.upgrade.audit import audit
from iati.upgrade.codes import replace_codes, replace_names
from iati.upgrade.context import Upgrade, tag_of
from iati.upgrade.structure import move_version, rebuild_elements, remove_attributes
from iati.upgrade.text import merge_repeats, place_text

# Rebuilds come first (they consume the text of gazetteer-entry, activity-website, …), the
# audit last (it judges the finished record against the 2.03 schema).
STEPS: Final[tuple[Callable[[Upgrade], None], ...]] = (
    move_version,
    rebuild_elements,
    remove_attributes,
    replace_codes,
    replace_names,
    place_text,
    merge_repeats,
    audit,
)


def upgrade_record(
    record: etree._Element, *, from_version: str | None = None, activity: str | None = None
) -> list[Finding]:
    """Upgrade the 1.x `record` (an iati-activity element) in place to 2.03 structure.

    `from_version` is the version the file declares (None or "" when it declares none). Returns
    one finding per change, per value that had no safe 2.03 form, and per required 2.03
    element or attribute that the record cannot supply (left absent, never invented); the
    version itself is reported once per file by the reader, not per record.
    Unknown and extension elements are kept where they are. The child order is left to the
    writer, which puts known elements into schema order.
    """
    if tag_of(record) != "iati-activity":
        raise ValueError(f"upgrade_record takes an <iati-activity>, not <{tag_of(record)}>")
    upgrade = Upgrade.start(record, activity=activity, from_version=from_version)
    for step in STEPS:
        step(upgrade)
    return upgrade.findings
