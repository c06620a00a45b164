"""Where the reference IATI samples live (../shared, or IATI_EC_SHARED), and how to read them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from iati.elements.activity import Activity
from iati.reader import read_activities

# The reference data beside the checkout (../shared), or where IATI_EC_SHARED points.
SHARED = Path(
    os.environ.get("IATI_EC_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)
SAMPLES = SHARED / "iati" / "samples"
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "examples"
# CAF's 27 real loans to Ecuador (a lender's own sector codes, executors, no location).
CAF_LOANS = Path(__file__).resolve().parents[2] / "service" / "demo" / "caf-ecuador-loans.xml"
# The tests parse as the service does: no DTD, no entities, no network.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def sample(relative: str) -> Path:
    """A file of ../shared/iati/samples (skips the test when the folder is absent)."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"reference sample {relative} not available")
    return path


def ecuador_activities(path: Path) -> list[Activity]:
    """The activities of `path` with Ecuador (EC) as a recipient country, of the activity
    or of one of its transactions."""
    found = []
    for record in read_activities(path, unknown_version="assume-latest"):
        activity: Activity = record.model
        codes = {(c.code or "").strip() for c in activity.recipient_countries}
        codes |= {(t.recipient_country.code or "").strip()
                  for t in activity.transactions if t.recipient_country is not None}
        if "EC" in codes:
            found.append(activity)
    return found


def samples(folder: str) -> list[Path]:
    return sorted((SAMPLES / folder).glob("**/*.xml"))


# The samples valid against their own version's XSD (what the round-trip tests take);
# tests/iati/test_roundtrip.py checks this list against lxml's verdicts.
SCHEMA_VALID = (
    "invalid/encoding-valid-UTF-16LE.xml",
    "invalid/iati-act-line-endings-cr.xml",
    "invalid/iati-dup-activity-ids.xml",
    "official/2.01/activity-standard-example-annotated.xml",
    "official/2.01/organisation-standard-example-annotated.xml",
    "official/2.02/activity-standard-example-annotated.xml",
    "official/2.02/organisation-standard-example-annotated.xml",
    "official/2.03/activity-standard-example-annotated.xml",
    "official/2.03/organisation-standard-example-annotated.xml",
    "organisation/caf-organisation.xml",
    "organisation/netherlands-mfa-organisation.xml",
    "real/acfspain-co.xml",
    "real/acfspain-pe.xml",
    "real/adb-armenia.xml",
    "real/dportal-eu-intpa-p80.xml",
    "real/dportal-germany-bmz-p10.xml",
    "real/dportal-usaid-p68.xml",
    "real/iom-example_203_references.xml",
    "real/netherlands-mfa-example_203_file.xml",
    "real/spain-maec-indonesia.xml",
    "real/usaid-bo.xml",
    "real/usaid-ec.xml",
    "real/usaid-mx.xml",
    "real/who-arg.xml",
    "real/worldbank-sv.xml",
)
