"""iati-ec as an IATI publisher: per-publisher activity files and their index, public,
valid against the 2.03 schema, with entity tags that change exactly with the content."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine

from iati.artefacts import schema_path
from iati.elements.activity import Activity
from iati.validate import ValidationReport, validate
from service.config import Settings
from service.models import KeyScope
from service.services.sync.ckan import publishers_of
from service.services.sync.sources import packages_of
from tests.support.loads import DONORS
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    push,
    set_first_transaction,
    variant,
)
from tests.support.samples import CAF_LOANS, sample

Loaded = tuple[Api, str, str]
MINISTRY = Settings.model_fields["publisher_ref"].default
CAF = "XM-DAC-46008"
TODAY = date(2026, 11, 27)



@pytest.mark.reads_only
def test_the_index_lists_every_publisher_with_working_urls(
    loaded: Loaded, usaid_activities: list[Activity]
) -> None:
    api, _, _ = loaded
    index = api.request("GET", "/iati/datasets.json")  # public: no key
    assert index.status_code == 200
    packages, count = packages_of(index.json())  # read as the Registry's answers are read
    assert count == len(packages)
    listed = {_extras(item)["reporting_org_ref"]: item for item in packages}
    assert set(listed) == {USAID, *DONORS.values()}
    usaid = listed[USAID]
    extras = _extras(usaid)
    stored = len(usaid_activities)
    assert 0 < int(extras["activity_count"]) <= stored
    assert (extras["filetype"], extras["country"], extras["iati_version"]) == (
        "activity", "EC", "2.03")
    assert extras["publisher_iati_id"] == MINISTRY
    assert usaid["organization"]["publisher_iati_id"] == MINISTRY
    assert usaid["license_id"]
    [resource] = usaid["resources"]
    assert resource["url"] == f"http://iati-ec/iati/datasets/{USAID}/activities.xml"
    answer = api.request("GET", resource["url"].removeprefix("http://iati-ec"))
    assert answer.status_code == 200
    # weak: the same tag whether or not the answer is gzipped
    assert answer.headers["etag"] == f'W/"{resource["hash"]}"'
    assert answer.headers["content-encoding"] == "gzip"
    plain = api.request("GET", resource["url"].removeprefix("http://iati-ec"),
                        headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == answer.headers["etag"]
    assert plain.content == answer.content  # httpx has unzipped the first
    for url in ("/iati/datasets.json", resource["url"].removeprefix("http://iati-ec")):
        head = api.request("HEAD", url, headers={"Accept-Encoding": "identity"})
        whole = api.request("GET", url, headers={"Accept-Encoding": "identity"})
        assert (head.status_code, head.content) == (200, b"")  # as the GET, headers only
        assert head.headers.get("etag") == whole.headers.get("etag")
        assert head.headers.get("content-length") == whole.headers.get("content-length")
    document = etree.fromstring(answer.content)
    etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities")))).assertValid(document)
    identifiers = [a.findtext("iati-identifier") for a in document.findall("iati-activity")]
    assert len(identifiers) == int(extras["activity_count"])
    assert identifiers == sorted(identifiers)
    # republished as a secondary reporter, the donor a participating organisation
    reporting = {(a.find("reporting-org").get("ref"), a.find("reporting-org").get(
        "secondary-reporter")) for a in document.findall("iati-activity")}
    assert reporting == {(MINISTRY, "1")}
    for activity in document.findall("iati-activity"):
        assert USAID in {org.get("ref") for org in activity.findall("participating-org")}
    # the activities in Ecuador only
    assert all(a.find("recipient-country[@code='EC']") is not None
               or a.find("transaction/recipient-country[@code='EC']") is not None
               for a in document.findall("iati-activity"))
    # our own pull sync reads the index as it reads the Registry
    publishers, notes = publishers_of(packages)
    assert notes == []
    assert {dataset.url for p in publishers for dataset in p.datasets} == {
        item["resources"][0]["url"] for item in packages}
    assert api.request("GET", "/iati/datasets/XX-NONE/activities.xml").json()["code"] == (
        "publishing.no-dataset")


def _extras(package: dict[str, Any]) -> dict[str, str]:
    return {extra["key"]: extra["value"] for extra in package["extras"]}


@pytest.mark.reads_only
def test_the_ministrys_organisation_file_is_valid(loaded: Loaded) -> None:
    api, _, _ = loaded
    answer = api.request("GET", "/iati/organisation.xml")
    assert answer.status_code == 200
    document = etree.fromstring(answer.content)
    schema = etree.XMLSchema(etree.parse(str(schema_path("2.03", "organisations"))))
    schema.assertValid(document)
    assert document.findtext("iati-organisation/organisation-identifier") == MINISTRY
    assert document.find("iati-organisation/reporting-org").get("ref") == MINISTRY


def test_republished_files_add_no_error_the_received_ones_lacked(
    store: Engine, tmp_path: Path
) -> None:
    """Each real file pushed, then read back republished: iati-ec's validator finds no
    new error nor critical finding; a secondary reporter's identifier no longer starts
    with its own reference, so 1.1.21 (a warning) may be new. Activities elsewhere than
    Ecuador are not republished."""
    api = Api(store)
    files = {USAID: sample("real/usaid-ec.xml"), CAF: CAF_LOANS,
             "argentina": sample("real/who-arg.xml")}
    for path in files.values():
        refs = {o.get("ref") for o in etree.parse(str(path)).getroot().iterfind(
            "iati-activity/reporting-org")}
        publisher = add_publisher(store, *sorted(r for r in refs if r), name=path.stem)
        push(store, publisher, path)
    for ref in (USAID, CAF):
        received = _findings(validate(files[ref], today=TODAY))
        answer = api.request("GET", f"/iati/datasets/{ref}/activities.xml")
        republished_file = tmp_path / "republished.xml"
        republished_file.write_bytes(answer.content)
        republished = _findings(validate(republished_file, today=TODAY))
        assert set(republished) <= set(received)
        for identifier, codes in republished.items():
            new = codes - received[identifier]
            assert new <= {("1.1.21", "warning")}, identifier
        # the publisher among the participating organisations (CAF lists itself nowhere)
        for activity in etree.fromstring(answer.content).iterfind("iati-activity"):
            listed = activity.iterfind(f"participating-org[@ref='{ref}']")
            roles = {organisation.get("role") for organisation in listed}
            assert roles
            if ref == CAF:
                assert roles == {"3"}
    argentina = {o.get("ref") for o in etree.parse(str(files["argentina"])).getroot()
                 .iterfind("iati-activity/reporting-org")}
    index = api.request("GET", "/iati/datasets.json").json()["result"]["results"]
    assert not argentina & {_extras(item)["reporting_org_ref"] for item in index}


def _findings(report: ValidationReport) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for record in report.records:
        found.setdefault(record.identifier or "", set()).update(
            (f.code, f.severity.value) for f in record.findings if f.is_error or
            f.severity.value == "warning"
        )
    return found


def test_the_tag_changes_exactly_when_the_content_does(store: Engine, tmp_path: Path) -> None:
    api = Api(store)
    publisher = add_publisher(store, USAID)
    push(store, publisher, variant(USAID_EC, tmp_path / "three.xml", keep=3))
    url = f"/iati/datasets/{USAID}/activities.xml"
    first = api.request("GET", url)
    tag = first.headers["etag"]
    assert api.request("GET", url).content == first.content  # the same bytes each time
    assert api.request("GET", url, headers={"If-None-Match": tag}).status_code == 304
    assert api.request("GET", url, headers={  # a strong copy of the tag matches weakly
        "If-None-Match": tag.removeprefix("W/")}).status_code == 304
    assert api.request("GET", url, headers={
        "If-Modified-Since": first.headers["last-modified"]}).status_code == 304

    push(store, publisher, variant(USAID_EC, tmp_path / "same.xml", keep=3))  # unchanged
    assert api.request("GET", url).headers["etag"] == tag

    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=3,
                      a2=set_first_transaction("12345.67", "2099-01-01T00:00:00Z"))
    push(store, publisher, changed)
    after = api.request("GET", url, headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert after.headers["etag"] != tag
    assert b"12345.67" in after.content

    removed = identifier_of(USAID_EC, 1)
    key = new_key(store, USAID, KeyScope.publish)
    assert api.request("DELETE", f"/api/v1/activities/{removed}", key=key).status_code in (
        200, 204)
    document = etree.fromstring(api.request("GET", url).content)
    assert removed not in [a.findtext("iati-identifier") for a in document]
    assert len(document.findall("iati-activity")) == 2
