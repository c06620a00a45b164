"""Paths to the IATI artefacts vendored in `iati/resources` (see its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

RESOURCES: Final = Path(__file__).resolve().parent / "resources"
VERSIONS: Final = ("2.01", "2.02", "2.03")
LATEST: Final = "2.03"

SchemaKind = Literal["activities", "organisations"]


def schema_path(version: str, kind: SchemaKind) -> Path:
    """The official XSD of `version` for activity or organisation files."""
    return RESOURCES / "schema" / _known(version) / f"iati-{kind}-schema.xsd"


def codelist_path(name: str) -> Path:
    """The XML file of the codelist `name` (e.g. ``Sector``)."""
    return RESOURCES / "codelists" / f"{name}.xml"


def codelist_mapping_path() -> Path:
    """IATI's `mapping.xml`: which XPath uses which codelist."""
    return RESOURCES / "codelists" / "mapping.xml"


def ruleset_path(version: str) -> Path:
    """The IATI Standard Ruleset (`standard.json`) of `version`."""
    return RESOURCES / "rulesets" / _known(version) / "standard.json"


def codelist_rules_path(version: str) -> Path:
    """The official validator's codelist rules of `version`."""
    return RESOURCES / "validator" / _known(version) / "codelist_rules.json"


def data_quality_rules_path() -> Path:
    """The official validator's master list of rule ids and messages."""
    return RESOURCES / "validator" / "data-quality-rules.csv"


def _known(version: str) -> str:
    if version not in VERSIONS:
        raise ValueError(f"no artefacts for IATI version {version!r}; known: {VERSIONS}")
    return version


# Commits of the vendored artefacts (SOURCES.md), named in validation reports.
RULESET_COMMITS: Final = {
    "2.01": "fe290290797ca519b45a6eecfb16c6d9198dd073",
    "2.02": "8c00028c5e1f0dfc716916d204a3980633a5e5f7",
    "2.03": "a88f835ba9a85eefb1384484eb20df10a007a31a",
}
CODELIST_RULE_COMMITS: Final = {
    "2.01": "a4d4af94f102f2434e01b29818c97c0bebfcff43",
    "2.02": "10ec7c629b403e4b583dc3903e1e5dd67995825c",
    "2.03": "8a174160223278fad1233028b5eb043207c164a2",
}
