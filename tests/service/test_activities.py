"""Reading pushed activities back over HTTP: JSON, IATI XML that round-trips, versions."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import canonicalize

import pytest
from lxml import etree
from sqlalchemy import Engine

from iati.elements.activity import Activity as IatiActivity
from service.models import KeyScope
from tests.support.publishing import (
    PARSER,
    USAID,
    USAID_EC,
    Api,
    activity_element,
    add_publisher,
    identifier_of,
    new_key,
    set_first_transaction,
    variant,
)
from tests.support.samples import sample

# Real 2.03 files of several publishers: (sample, reporting-org ref).
ROUND_TRIP = [
    ("real/usaid-ec.xml", USAID),
    ("real/who-arg.xml", "XM-DAC-928"),
    ("real/iom-example_203_references.xml", "XM-DAC-47066"),
    ("real/adb-armenia.xml", "XM-DAC-46004"),
    ("real/netherlands-mfa-example_203_file.xml", "XM-DAC-7"),
]



def _canonical(element: etree._Element) -> str:
    return canonicalize(etree.tostring(element, encoding="unicode"), strip_text=True)


def _publisher_key(store: Engine, ref: str) -> str:
    add_publisher(store, ref, name=ref)
    return new_key(store, ref, KeyScope.publish)


@pytest.mark.parametrize(("source", "ref"), ROUND_TRIP, ids=[s for s, _ in ROUND_TRIP])
def test_get_as_xml_round_trips_what_was_pushed(store: Engine, source: str, ref: str) -> None:
    api = Api(store)
    key = _publisher_key(store, ref)
    pushed = api.request("POST", "/api/v1/activities", key=key, content=sample(source).read_bytes())
    stored = [a for a in pushed.json()["activities"] if a["outcome"] == "created"]
    assert len(stored) >= 10 or len(stored) == len(pushed.json()["activities"])
    originals = etree.parse(str(sample(source)), PARSER).getroot().findall("iati-activity")
    reader = new_key(store, ref, KeyScope.read)
    for outcome in stored[:25]:
        url = f"/api/v1/activities/{outcome['iati_identifier']}"
        answer = api.request("GET", url, key=reader, headers={"Accept": "application/xml"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/xml")
        document = etree.fromstring(answer.content, PARSER)
        assert document.tag == "iati-activities"
        assert document.get("version") == "2.03"
        (written,) = document.findall("iati-activity")
        original = originals[outcome["position"] - 1]
        assert _canonical(written) == _canonical(original), outcome["iati_identifier"]


def test_get_gives_the_models_json_by_default_and_xml_on_request(store: Engine) -> None:
    api = Api(store)
    key = _publisher_key(store, USAID)
    api.request("POST", "/api/v1/activities", key=key, content=sample(USAID_EC).read_bytes())
    identifier = identifier_of(USAID_EC, 2)
    url = f"/api/v1/activities/{identifier}"
    answer = api.request("GET", url, key=key)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-activity-version"] == "1"
    model = IatiActivity.model_validate(answer.json())
    assert model.identifier == identifier
    assert answer.json()["reporting_org"]["ref"] == USAID
    as_xml = api.request("GET", url, key=key, params={"format": "xml"})
    assert as_xml.headers["content-type"].startswith("application/xml")
    # The same version in another representation: its own entity tag, from the same hash.
    assert as_xml.headers["etag"] == answer.headers["etag"][:-1] + '-xml"'
    assert answer.headers["etag"].startswith('W/"')  # weak: the answers may be gzipped
    missing = api.request("GET", "/api/v1/activities/NOT-THERE", key=key)
    assert missing.status_code == 404
    assert missing.json()["code"] == "activity.not-found"
    assert api.request("GET", url).status_code == 401


def test_versions_list_what_changed_and_give_the_xml_exactly_as_received(
    store: Engine, tmp_path: Path
) -> None:
    api = Api(store)
    key = _publisher_key(store, USAID)
    first = variant(USAID_EC, tmp_path / "first.xml", keep=3)
    second = variant(
        USAID_EC, tmp_path / "second.xml", keep=3,
        a2=set_first_transaction("12.34", "2026-03-01T00:00:00Z"),
    )
    one = api.request("POST", "/api/v1/activities", key=key, content=first.read_bytes()).json()
    two = api.request("POST", "/api/v1/activities", key=key, content=second.read_bytes()).json()
    identifier = identifier_of(USAID_EC, 2)
    reader = new_key(store, USAID, KeyScope.read)
    versions = api.request("GET", f"/api/v1/activities/{identifier}/versions", key=reader)
    assert versions.status_code == 200
    listed = versions.json()
    assert [(v["version"], v["push_id"]) for v in listed] == [(1, one["id"]), (2, two["id"])]
    assert listed[0]["summary"]["kind"] == "created"
    assert listed[1]["summary"]["kind"] == "updated"
    changed = {c["field"]: c for c in listed[1]["summary"]["changes"]}
    assert changed["transactions"]["items_changed"] == 1
    assert set(changed) == {"transactions", "last_updated_datetime"}
    assert listed[0]["content_hash"] != listed[1]["content_hash"]
    for number, source in ((1, first), (2, second)):
        answer = api.request(
            "GET", f"/api/v1/activities/{identifier}/versions/{number}", key=reader
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/xml")
        received = etree.parse(str(source), PARSER).getroot().findall("iati-activity")[1]
        assert answer.text == etree.tostring(received, encoding="unicode", with_tail=False)
    assert "12.34" in api.request(
        "GET", f"/api/v1/activities/{identifier}/versions/2", key=reader
    ).text
    unknown = api.request("GET", f"/api/v1/activities/{identifier}/versions/9", key=reader)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "activity.version-not-found"


def test_the_received_xml_of_a_sample_is_its_activity_element_verbatim(store: Engine) -> None:
    api = Api(store)
    key = _publisher_key(store, USAID)
    api.request("POST", "/api/v1/activities", key=key, content=sample(USAID_EC).read_bytes())
    text = sample(USAID_EC).read_text(encoding="utf-8")
    for position in (1, 100, 250):
        identifier = identifier_of(USAID_EC, position)
        answer = api.request("GET", f"/api/v1/activities/{identifier}/versions/1", key=key)
        expected = etree.tostring(
            activity_element(USAID_EC, position), encoding="unicode", with_tail=False
        )
        assert answer.text == expected
        # The sample's own bytes, but for the namespace declaration lxml repeats on it.
        body = answer.text.replace(' xmlns:usg="https://explorer.usaid.gov"', "", 1)
        assert body in text
