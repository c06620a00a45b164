"""The codelist and ruleset stages find, on every sample file, exactly what they always found.

The ruleset stage skips work it can show to be useless (cases about elements a record lacks,
one test on the record instead of a case per organisation, …); none of that may change a
finding. Each sample's findings from both stages, on every record, and for the ruleset with
and without registered publishers, are digested here. The digests were recorded with the
plain interpreter that ran every case on every context element (commit eba8470), and
recorded again when the stages came to read a rule's ``if`` and ``then`` as the official
validator does (3.7.1 never fails; 8.8.2, 8.9.2 and 8.10.2 fail for a missing value: those
were the only differences); after a deliberate change,
``python -m tests.validate.test_findings_unchanged`` prints them afresh.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iati.artefacts import LATEST, VERSIONS
from iati.errors import IatiInputError
from iati.source import IatiSource
from iati.validate.codelists import CodelistRules
from iati.validate.rules import Ruleset
from tests.support.samples import SAMPLES, sample

TODAY = date(2026, 11, 27)
# Publishers whose identifiers the samples use, so that `idCondition` exempts some of them.
REGISTERED = frozenset({
    "GB-GOV-1", "US-GOV-1", "XM-DAC-41114", "NL-1", "44000", "AA-AAA-123456789",
})

DIGESTS = {
    "invalid/broken-xml.xml": "e5847bdd71cbaeaa3d2b",
    "invalid/dportal-frankenstein.xml": "7400e8a1a268b4920947",
    "invalid/encoding-valid-UTF-16LE.xml": "a8e58f09a561b51d2389",
    "invalid/iati-act-line-endings-cr.xml": "c820c9ec78a5ab8ffa5e",
    "invalid/iati-act-no-errors-old-version-1.03.xml": "aa54dabaf13a952a1044",
    "invalid/iati-act-schema-errors.xml": "a09cb23186060d5e761a",
    "invalid/iati-dup-activity-ids.xml": "ccae8608adc5c823e9e3",
    "invalid/iati-org-schema-errors.xml": "4f53cda18c2baa0c0354",
    "invalid/not-xml.xml": "8facab9f966303c7e27f",
    "invalid/schema-should-fail-01-empty-activity.xml": "f52a980128fa3a745b13",
    "invalid/schema-should-fail-17-bad-hierarchy.xml": "e4ceaab12b3a9e2871b7",
    "invalid/schema-should-fail-18-missing-iati-activities-version.xml": "4f53cda18c2baa0c0354",
    "invalid/schema-should-fail-20-two-reporting-orgs.xml": "97081414dc0a9948c028",
    "invalid/schema-should-fail-budget-12-non-decimal-value.xml": "d52d3d11ddaea9a0b658",
    "invalid/xml-but-not-iati.xml": "4430d2bae19fe9c99126",
    "legacy-1x/dfid-cd-1.01.xml": "c136d084baea9682a1d9",
    "legacy-1x/dfid-sample.xml": "b1a0c81e224a9a161fbb",
    "legacy-1x/ocha-test-data.xml": "2448b8840aaec75771e4",
    "legacy-1x/sida-same_orgs_different_roles-1.00.xml": "b8f0ea50a3a5d6b225bf",
    "legacy-1x/undp-sample.xml": "205569c2af26ae4b108b",
    "legacy-1x/worldbank-1.0.xml": "0dcded009de3cf50238e",
    "official/2.01/activity-standard-example-annotated.xml": "7f2b7a3526dbb23389be",
    "official/2.01/organisation-standard-example-annotated.xml": "6f793e840078257b5fa9",
    "official/2.02/activity-standard-example-annotated.xml": "ff0c326d003967ffc6c3",
    "official/2.02/organisation-standard-example-annotated.xml": "6f793e840078257b5fa9",
    "official/2.03/activity-standard-example-annotated.xml": "b0c1cbb020098f7f50d8",
    "official/2.03/organisation-standard-example-annotated.xml": "3ed19ae0a6225ca4a00f",
    "organisation/caf-organisation.xml": "5044583357491fd3c57e",
    "organisation/netherlands-mfa-organisation.xml": "4f53cda18c2baa0c0354",
    "real/acfspain-co.xml": "0802441e34aff742c60b",
    "real/acfspain-pe.xml": "0802441e34aff742c60b",
    "real/adb-armenia.xml": "4f53cda18c2baa0c0354",
    "real/cabei-bcie.xml": "13c09883e039a1e6a89f",
    "real/dportal-canada-idrc-denmark-p91.xml": "0e3f28c6af0656db998e",
    "real/dportal-download-mixed-activities.xml": "d3e14997aa3e140a8663",
    "real/dportal-eu-intpa-p80.xml": "3aaa42a78053a77f9a2f",
    "real/dportal-germany-bmz-p10.xml": "56ce27a6190f3eed7cae",
    "real/dportal-iadb-p3.xml": "72ca5b0c1bb46f5a3366",
    "real/dportal-spain-aecid-p16.xml": "b70296c4a3d64691b153",
    "real/dportal-sweden-sida-p45.xml": "39531ab16bbd7e25760b",
    "real/dportal-usaid-p68.xml": "de493535e4ea39aecbed",
    "real/iom-example_203_references.xml": "4c73f9a6a0fd6525f6b6",
    "real/netherlands-mfa-example_203_file.xml": "03af450babb47f38e28f",
    "real/spain-maec-indonesia.xml": "620aa2b91de9a22f98f7",
    "real/usaid-bo.xml": "86401f261eb738c41b44",
    "real/usaid-ec.xml": "f145c2f960a340205be7",
    "real/usaid-mx.xml": "9174b195a1452222faeb",
    "real/who-arg.xml": "b53873708fb52fda5c39",
    "real/worldbank-sv.xml": "ff6f0d766c00c51d9616",
}


def stage_findings(path: Path) -> list[dict[str, Any]]:
    """Every codelist and ruleset finding on the records of `path`, in the stages' order."""
    source = IatiSource(path)
    found: list[dict[str, Any]] = []
    try:
        for position, record in enumerate(source.records(), start=1):
            assert source.root is not None
            version = source.root.version if source.root.version in VERSIONS else LATEST
            options: dict[str, Any] = {"activity": "A", "position": position}
            found += [f.as_dict() for f in CodelistRules.load(version).check(record, **options)]
            for registered in (frozenset(), REGISTERED):
                found += [f.as_dict() for f in Ruleset.load(version).check(
                    record, today=TODAY, registered_org_ids=registered, **options
                )]
    except IatiInputError as error:
        found.append(error.as_dict())
    return found


def digest(path: Path) -> str:
    text = json.dumps(stage_findings(path), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def test_every_sample_has_a_recorded_digest() -> None:
    on_disk = {str(path.relative_to(SAMPLES)) for path in SAMPLES.glob("**/*.xml")}
    if not on_disk:
        pytest.skip("reference samples not available")
    assert on_disk == set(DIGESTS)


@pytest.mark.parametrize("relative", sorted(DIGESTS))
def test_the_stages_find_what_they_found_before(relative: str) -> None:
    assert digest(sample(relative)) == DIGESTS[relative]


if __name__ == "__main__":
    for path in sorted(SAMPLES.glob("**/*.xml")):
        print(f'    "{path.relative_to(SAMPLES)}": "{digest(path)}",')
