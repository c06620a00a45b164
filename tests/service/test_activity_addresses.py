"""Activities whose identifiers end like a part of another (`/links`, `/versions`,
`/versions/3`, `/budget-view`): read, replaced and deleted at their canonical address
(`/api/v1/activity?iati_identifier=…`); the older paths answer wherever they name one
resource, and 300 with both addresses where they name two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import Engine

from iati.elements.activity import Activity as IatiActivity
from service.addresses import activity_url
from service.models import KeyScope
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    set_first_transaction,
    set_identifier,
    variant,
)

PARTS = ("links", "versions", "versions/3", "budget-view")
OLD = "/api/v1/activities"
NEW = "/api/v1/activity"


@pytest.fixture
def api(store: Engine) -> Api:
    return Api(store)


@pytest.fixture
def key(store: Engine) -> str:
    add_publisher(store, USAID)
    return new_key(store, USAID, KeyScope.publish, KeyScope.read)


@pytest.fixture
def base() -> str:
    """A real USAID identifier; the activities of the tests end it with a part's name."""
    return identifier_of(USAID_EC, 1)


def _push_parts(api: Api, key: str, base: str, tmp_path: Path) -> dict[str, str]:
    """One activity per part, identified `{base}/{part}`, pushed; `base` itself is not."""
    wholes = {part: f"{base}/{part}" for part in PARTS}
    edits = {f"a{n}": set_identifier(wholes[part]) for n, part in enumerate(PARTS, 1)}
    file = variant(USAID_EC, tmp_path / "parts.xml", keep=len(PARTS), **edits)
    pushed = api.request("POST", "/api/v1/activities", key=key, content=file.read_bytes())
    assert [a["outcome"] for a in pushed.json()["activities"]] == ["created"] * len(PARTS)
    return wholes


def _push_base(api: Api, key: str, tmp_path: Path) -> None:
    file = variant(USAID_EC, tmp_path / "base.xml", keep=1)
    pushed = api.request("POST", "/api/v1/activities", key=key, content=file.read_bytes())
    assert [a["outcome"] for a in pushed.json()["activities"]] == ["created"]


def _one(identifier: str, tmp_path: Path, amount: str | None = None) -> bytes:
    """A file holding activity `identifier` alone (its first transaction `amount`)."""

    def edit(activity: etree._Element) -> None:
        set_identifier(identifier)(activity)
        if amount is not None:
            set_first_transaction(amount, "2027-01-01T00:00:00Z")(activity)

    return variant(USAID_EC, tmp_path / "one.xml", keep=1, a1=edit).read_bytes()


def _identifier(answer: httpx.Response) -> str | None:
    assert answer.status_code == 200, answer.text
    return IatiActivity.model_validate(answer.json()).identifier


def _outcomes(answer: httpx.Response) -> list[tuple[str, Any]]:
    assert answer.status_code == 200, answer.text
    return [(a["outcome"], a["version"]) for a in answer.json()["activities"]]


def _deprecated_for(answer: httpx.Response, canonical: str) -> None:
    assert answer.headers["link"] == f'<{canonical}>; rel="canonical"'
    assert answer.headers["deprecation"].startswith("@")


def test_an_identifier_ending_like_a_part_is_read_at_its_canonical_address(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    wholes = _push_parts(api, key, base, tmp_path)
    for whole in wholes.values():
        asked = {"iati_identifier": whole}
        answer = api.request("GET", "/api/v1/activity", key=key, params=asked)
        assert _identifier(answer) == whole
        again = api.request("GET", activity_url(whole), key=key,
                            headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304
        xml = api.request("GET", "/api/v1/activity", key=key, params={**asked, "format": "xml"})
        assert xml.headers["content-type"].startswith("application/xml")
        assert f"<iati-identifier>{whole}</iati-identifier>" in xml.text
        versions = api.request("GET", "/api/v1/activity/versions", key=key, params=asked)
        assert [v["version"] for v in versions.json()] == [1]
        first = api.request("GET", "/api/v1/activity/versions/1", key=key, params=asked)
        assert f"<iati-identifier>{whole}</iati-identifier>" in first.text
        links = api.request("GET", "/api/v1/activity/links", key=key, params=asked)
        assert links.json()["activity"]["iati_identifier"] == whole
        view = api.request("GET", "/api/v1/activity/budget-view", key=key, params=asked)
        assert view.json()["iati_identifier"] == whole
    unknown = api.request("GET", activity_url(base), key=key)
    assert unknown.status_code == 404
    assert api.request("GET", activity_url(wholes["links"])).status_code == 401


def test_an_identifier_ending_like_a_part_is_replaced_and_deleted_at_its_canonical_address(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    wholes = _push_parts(api, key, base, tmp_path)
    for n, whole in enumerate(wholes.values(), 1):
        replaced = api.request("PUT", activity_url(whole), key=key,
                               content=_one(whole, tmp_path, f"{n}.25"))
        assert _outcomes(replaced) == [("updated", 2)]
        now = api.request("GET", activity_url(whole), key=key)
        assert now.headers["x-activity-version"] == "2"
        assert api.request("DELETE", activity_url(whole), key=key).status_code == 204
        gone = api.request("GET", activity_url(whole), key=key)
        assert gone.status_code == 410
        assert gone.json()["iati_identifier"] == whole
        versions = api.request("GET", activity_url(whole, "versions"), key=key).json()
        assert [(v["version"], v["deleted"]) for v in versions] == [
            (1, False), (2, False), (3, True)
        ]
    assert api.request("GET", activity_url(base), key=key).status_code == 404


def test_the_older_paths_answer_the_activity_whose_identifier_ends_so(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    wholes = _push_parts(api, key, base, tmp_path)
    for whole in wholes.values():
        answer = api.request("GET", f"{OLD}/{whole}", key=key)
        assert _identifier(answer) == whole
        _deprecated_for(answer, activity_url(whole))
        xml = api.request("GET", f"{OLD}/{whole}", key=key, params={"format": "xml"})
        assert f"<iati-identifier>{whole}</iati-identifier>" in xml.text
        _deprecated_for(xml, activity_url(whole, query=[("format", "xml")]))
    odd = api.request("GET", f"{OLD}/{base}/versions/first", key=key)
    assert odd.status_code == 422  # as before: not a version number, nor a stored activity
    first = api.request("PUT", NEW, key=key, params={"iati_identifier": f"{base}/versions/first"},
                        content=_one(f"{base}/versions/first", tmp_path))
    assert _outcomes(first) == [("created", 1)]
    odd = api.request("GET", f"{OLD}/{base}/versions/first", key=key)
    assert _identifier(odd) == f"{base}/versions/first"


def test_the_older_paths_still_answer_the_parts_of_an_activity(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    _push_base(api, key, tmp_path)
    for part in ("links", "versions", "versions/1", "budget-view"):
        old = api.request("GET", f"{OLD}/{base}/{part}", key=key)
        assert old.status_code == 200, (part, old.text)
        assert old.content == api.request("GET", activity_url(base, part), key=key).content
        _deprecated_for(old, activity_url(base, part))
    earlier = api.request("GET", f"{OLD}/{base}/budget-view", key=key,
                          params={"mapping_version": "none-such"})
    assert earlier.status_code == 404
    assert earlier.json()["code"] == "budget-view.not-found"


def test_a_path_naming_two_stored_activities_answers_300_with_both_addresses(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    wholes = _push_parts(api, key, base, tmp_path)
    _push_base(api, key, tmp_path)
    for part, whole in wholes.items():
        answer = api.request("GET", f"{OLD}/{whole}", key=key)
        assert answer.status_code == 300, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert (problem["status"], problem["code"]) == (300, "activity.ambiguous-path")
        hrefs = [choice["href"] for choice in problem["choices"]]
        assert hrefs == [activity_url(whole), activity_url(base, part)]
        assert answer.headers["link"] == ", ".join(f'<{h}>; rel="alternate"' for h in hrefs)
        assert _identifier(api.request("GET", hrefs[0], key=key)) == whole
        chosen = api.request("GET", hrefs[1], key=key)
        if part == "versions/3":  # the shorter activity has one version
            assert chosen.json()["code"] == "activity.version-not-found"
        else:
            assert chosen.status_code == 200
            assert "iati-identifier" not in chosen.text  # a part, not an activity


def test_put_and_delete_at_an_older_path_ending_in_a_part_are_405_saying_where_to_go(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    """A part takes GET only: `PUT …/{id}/links` never creates `{id}/links` by surprise;
    the canonical address takes it, and a file holding another activity is refused as
    for any PUT."""
    whole = f"{base}/links"
    refused = api.request("PUT", f"{OLD}/{whole}", key=key, content=_one(whole, tmp_path))
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert "/api/v1/activity?iati_identifier=" in refused.json()["detail"]
    created = api.request("PUT", NEW, key=key, params={"iati_identifier": whole},
                          content=_one(whole, tmp_path))
    assert _outcomes(created) == [("created", 1)]
    assert _identifier(api.request("GET", f"{OLD}/{whole}", key=key)) == whole
    other = api.request("PUT", NEW, key=key, params={"iati_identifier": whole},
                        content=_one(base, tmp_path))
    assert _outcomes(other) == [("rejected", None)]
    assert other.json()["activities"][0]["findings"][-1]["code"] == "push.identifier-mismatch"
    assert api.request("GET", activity_url(base), key=key).status_code == 404
    assert api.request("DELETE", f"{OLD}/{whole}", key=key).status_code == 405
    assert api.request("DELETE", NEW, key=key, params={"iati_identifier": whole}).status_code \
        == 204
    assert api.request("GET", f"{OLD}/{whole}", key=key).status_code == 410
    assert api.request("GET", activity_url(whole), key=key).status_code == 410


def test_the_dashboard_points_at_the_canonical_addresses(
    api: Api, key: str, base: str, tmp_path: Path
) -> None:
    wholes = _push_parts(api, key, base, tmp_path)
    page = api.request("GET", f"/actividades/{wholes['versions']}")
    assert page.status_code == 200
    expected = [
        activity_url(wholes["versions"], query=[("format", "xml")]).replace("&", "&amp;"),
        activity_url(wholes["versions"], "links"),
        activity_url(wholes["versions"], "versions/1"),
    ]
    for url in expected:
        assert url in page.text
    assert "/api/v1/activities/" not in page.text


def test_an_address_escapes_every_reserved_character_of_an_identifier_but_the_slash() -> None:
    assert activity_url("XM-1/a b?c#d&e=f%g+h", "versions/2", query=[("format", "xml")]) == (
        "/api/v1/activity/versions/2?iati_identifier=XM-1/a%20b%3Fc%23d%26e%3Df%25g%2Bh"
        "&format=xml"
    )
