"""iati-ec as an IATI publisher: per-publisher activity files and their index, public,
valid against the 2.03 schema, with entity tags that change exactly with the content."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine

from iati.artefacts import schema_path
from iati.elements.activity import Activity
from service.models import KeyScope
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

Loaded = tuple[Api, str, str]



@pytest.mark.reads_only
def test_the_index_lists_every_publisher_with_working_urls(
    loaded: Loaded, usaid_activities: list[Activity]
) -> None:
    api, _, _ = loaded
    index = api.request("GET", "/iati/datasets.json")  # public: no key
    assert index.status_code == 200
    listed = {item["publisher"]: item for item in index.json()}
    assert set(listed) == {USAID, *DONORS.values()}
    usaid = listed[USAID]
    stored = len(usaid_activities)
    assert 0 < usaid["activities"] <= stored
    assert usaid["url"] == f"http://iati-ec/iati/datasets/{USAID}/activities.xml"
    answer = api.request("GET", usaid["url"].removeprefix("http://iati-ec"))
    assert answer.status_code == 200
    # weak: the same tag whether or not the answer is gzipped
    assert answer.headers["etag"] == f'W/"{usaid["content_hash"]}"'
    assert answer.headers["content-encoding"] == "gzip"
    plain = api.request("GET", usaid["url"].removeprefix("http://iati-ec"),
                        headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == answer.headers["etag"]
    assert plain.content == answer.content  # httpx has unzipped the first
    document = etree.fromstring(answer.content)
    etree.XMLSchema(etree.parse(str(schema_path("2.03", "activities")))).assertValid(document)
    identifiers = [a.findtext("iati-identifier") for a in document.findall("iati-activity")]
    assert len(identifiers) == usaid["activities"]
    assert identifiers == sorted(identifiers)
    assert {a.find("reporting-org").get("ref") for a in document.findall("iati-activity")} \
        == {USAID}
    assert api.request("GET", "/iati/datasets/XX-NONE/activities.xml").json()["code"] == (
        "publishing.no-dataset")


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
