"""The published IATI 1.0x → 2.0x changes as data: renames, removed attributes, code maps."""

# Sources (stored copies were read; the facts are restated here, no text was copied):
# * 2.01 changelog, IATI/IATI-Upgrades en/upgrade-changelogs/integer-upgrade-to-2-01/
#   2-01-changes.rst (https://iatistandard.org/en/iati-standard/upgrades/upgrade-changelogs/
#   integer-upgrade-to-2-01/2-01-changes/): removed and renamed elements and attributes, the
#   new narrative children, the "language neutral" code tables.
# * "Migrating from versions 1.x to version 2.01", IATI/IATI-Guidance en/upgrades/
#   integer-upgrade-to-2-01/migrating.rst: free text into narratives, no text on coded
#   elements, activity-website becomes a document-link of category A12, @version moves to the
#   root, schema element order, mandatory elements.
# * 1.04 location summary, IATI/IATI-Guidance en/upgrades/decimal-upgrade-to-1-04/
#   location-summary.rst: coordinates → point/pos, gazetteer-entry → location-id,
#   location-type → feature-designation, administrative/@country/@adm1/@adm2 deprecated.
# * The 1.05 codelists (reference.iatistandard.org/105 downloads) and the 1.x Vocabulary
#   codelist (IATI/IATI-Codelists xml/Vocabulary.xml), matched by name with the 2.03
#   codelists vendored in iati/resources/codelists.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class CodeMap:
    """The 1.x text codes of one attribute and the 2.03 codes that replaced them."""

    path: str
    attribute: str
    codes: Mapping[str, str]
    codelist: str

    def lookup(self, value: str) -> str | None:
        """The 2.03 code for 1.x code `value`; 1.x data often varied the letter case."""
        wanted = value.strip().casefold()
        for old, new in self.codes.items():
            if old.casefold() == wanted:
                return new
        return None


ORGANISATION_ROLE: Final = {
    "Funding": "1", "Accountable": "2", "Extending": "3", "Implementing": "4",
}
ACTIVITY_DATE_TYPE: Final = {
    "start-planned": "1", "start-actual": "2", "end-planned": "3", "end-actual": "4",
}
# The 2.01 changelog prints "Q3" for Sale of Equity; the 1.05 codelist spells it QS.
TRANSACTION_TYPE: Final = {
    "IF": "1", "C": "2", "D": "3", "E": "4", "IR": "5",
    "LR": "6", "R": "7", "QP": "8", "QS": "9", "CG": "10",
}
# Matched by name: 1.x Vocabulary → 2.03 SectorVocabulary. The 2.01 changelog's table
# (ADT→1, COFOG→2, DAC→3 …) contradicts the SectorVocabulary codelist itself, whose code 1 is
# the DAC 5-digit list; the codelist is followed. ISO and WB have no 2.x counterpart.
SECTOR_VOCABULARY: Final = {
    "DAC": "1", "DAC-3": "2", "COFOG": "3", "NACE": "4", "NTEE": "5", "ADT": "6",
    "RO": "99", "RO2": "98",
}
POLICY_MARKER_VOCABULARY: Final = {"DAC": "1", "RO": "99"}
# 1.x GazetteerAgency → 2.03 GeographicVocabulary (Geonames, OpenStreetMap); NGA has no entry.
GAZETTEER_VOCABULARY: Final = {"GEO": "G1", "OSM": "G2"}

CODE_MAPS: Final = (
    CodeMap("participating-org", "role", ORGANISATION_ROLE, "OrganisationRole"),
    CodeMap("activity-date", "type", ACTIVITY_DATE_TYPE, "ActivityDateType"),
    CodeMap("transaction/transaction-type", "code", TRANSACTION_TYPE, "TransactionType"),
    CodeMap("sector", "vocabulary", SECTOR_VOCABULARY, "SectorVocabulary"),
    CodeMap("transaction/sector", "vocabulary", SECTOR_VOCABULARY, "SectorVocabulary"),
    CodeMap("policy-marker", "vocabulary", POLICY_MARKER_VOCABULARY, "PolicyMarkerVocabulary"),
)

RENAMED_ELEMENTS: Final[Mapping[str, str]] = {
    "crs-add/aid-type-flag": "other-flags",
    # Same LocationType (NGA feature designation) codes under the new name.
    "location/location-type": "feature-designation",
}

REMOVED_ATTRIBUTES: Final[Mapping[tuple[str, str], str]] = {
    ("location", "percentage"): "removed in 2.01 (splitting costs across locations pro rata "
    "was judged not feasible)",
    ("location/administrative", "adm1"): "removed in 2.01; a free-text area name has no code",
    ("location/administrative", "adm2"): "removed in 2.01; a free-text area name has no code",
    ("planned-disbursement", "updated"): "removed in 2.01",
    ("planned-disbursement", "last-updated"): "removed in 2.01",
    ("result/description", "type"): "removed in 2.01",
    ("result/indicator/description", "type"): "removed in 2.01",
    ("country-budget-items/budget-item/description", "type"): "removed in 2.01",
}

# Elements that exist only in 1.x: any of them marks a version-less record as 1.x.
ONLY_IN_1X: Final = frozenset({
    "activity-website",
    "crs-add/aid-type-flag",
    "location/coordinates",
    "location/gazetteer-entry",
    "location/location-type",
})

EPSG_4326: Final = "http://www.opengis.net/def/crs/EPSG/0/4326"
ACTIVITY_WEB_PAGE: Final = "A12"  # DocumentCategory, added in 2.01 for the old activity-website
ISO_COUNTRY_VOCABULARY: Final = "A4"  # GeographicVocabulary "ISO Country (3166-1 alpha-2)"
# OtherIdentifierType: a 1.x other-identifier always identified the activity.
OWN_ACTIVITY_IDENTIFIER: Final = "A1"
OTHER_ACTIVITY_IDENTIFIER: Final = "A9"
