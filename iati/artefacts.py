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
