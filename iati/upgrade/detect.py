"""Tell whether a record that declares no usable version is structured as IATI 1.x."""

from __future__ import annotations

from lxml import etree

from iati.upgrade.context import direct_text, plain_elements
from iati.upgrade.outline import outline_at
from iati.upgrade.tables import CODE_MAPS, ONLY_IN_1X


def looks_like_1x(record: etree._Element) -> bool:
    """True if `record` (an iati-activity) shows any mark that only IATI 1.x data has.

    The marks: a 1.x @version on the activity itself (1.x put one there; aggregators such as
    d-portal also write the 2.x version of each activity there), an element 2.x removed
    (activity-website, location/coordinates, …), free text directly inside an element that
    holds narratives since 2.01 (``<title>Text</title>``), or a 1.x text code such as
    ``role="Funding"``.
    """
    own = (record.get("version") or "").strip()
    if own:
        return not own.startswith("2")
    return any(_is_1x(path, element) for path, element in plain_elements(record))


def _is_1x(path: str, element: etree._Element) -> bool:
    if path in ONLY_IN_1X:
        return True
    declared = outline_at(path)
    if declared is not None and declared.holds_narratives and direct_text(element) is not None:
        return True
    return any(
        code_map.path == path and code_map.lookup(element.get(code_map.attribute, "")) is not None
        for code_map in CODE_MAPS
    )
