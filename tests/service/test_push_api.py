"""The push API over HTTP: httpx against the application in-process, on both databases."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from service.models import KeyScope
from service.services.jobs import JobPolicy, PushWork, Worker
from service.services.push.intake import MultipartFile, NoFilePartError, multipart_boundary
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    set_first_transaction,
    variant,
    working,
)
from tests.support.samples import sample


@pytest.fixture
def api(store: Engine) -> Api:
    return Api(store)


@pytest.fixture
def publish_key(store: Engine) -> str:
    add_publisher(store, USAID)
    return new_key(store, USAID, KeyScope.publish)


def _outcomes(document: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for activity in document["activities"]:
        found[activity["outcome"]] = found.get(activity["outcome"], 0) + 1
    return found


def test_pushing_a_raw_body_twice_creates_then_changes_nothing(
    api: Api, publish_key: str
) -> None:
    body = sample(USAID_EC).read_bytes()
    first = api.request("POST", "/api/v1/activities", key=publish_key, content=body)
    assert first.status_code == 200, first.text
    document = first.json()
    assert document["status"] == "completed"
    assert document["counts"]["created"] == 250
    assert document["size"] == len(body)
    outcome = document["activities"][0]
    assert set(outcome) == {"position", "iati_identifier", "outcome", "version", "findings"}
    again = api.request("POST", "/api/v1/activities", key=publish_key, content=body).json()
    assert _outcomes(again) == {"unchanged": 250}
    assert again["id"] != document["id"]
    polled = api.request("GET", f"/api/v1/pushes/{document['id']}", key=publish_key)
    assert polled.status_code == 200
    assert polled.json()["counts"]["created"] == 250


def test_a_multipart_upload_is_pushed_like_a_raw_body(
    api: Api, publish_key: str, tmp_path: Path
) -> None:
    five = variant(USAID_EC, tmp_path / "five.xml", keep=5)
    answer = api.request(
        "POST", "/api/v1/activities", key=publish_key,
        data={"note": "ignored"}, files={"file": ("five.xml", five.read_bytes(), "text/xml")},
    )
    assert answer.status_code == 200, answer.text
    assert _outcomes(answer.json()) == {"created": 5}
    missing = api.request(
        "POST", "/api/v1/activities", key=publish_key,
        files={"upload": ("five.xml", five.read_bytes(), "text/xml")},
    )
    assert missing.status_code == 400
    assert missing.json()["code"] == "push.no-file"


def test_pushing_needs_a_publish_key(api: Api, store: Engine, publish_key: str) -> None:
    body = sample("real/usaid-bo.xml").read_bytes()
    assert api.request("POST", "/api/v1/activities", content=body).status_code == 401
    reader = new_key(store, USAID, KeyScope.read)
    refused = api.request("POST", "/api/v1/activities", key=reader, content=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.insufficient-scope"


def test_an_unreadable_body_is_a_422_problem_with_its_code(api: Api, publish_key: str) -> None:
    answer = api.request("POST", "/api/v1/activities", key=publish_key, content=b"\xff not xml")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "input.not-xml"
    failed = api.request("GET", f"/api/v1/pushes/{problem['push_id']}", key=publish_key).json()
    assert failed["status"] == "failed"
    assert failed["findings"][0]["code"] == "input.not-xml"


def test_modes_and_scopes_are_query_parameters(
    api: Api, publish_key: str, tmp_path: Path
) -> None:
    four = variant(USAID_EC, tmp_path / "four.xml", keep=4).read_bytes()
    three = variant(USAID_EC, tmp_path / "three.xml", keep=3).read_bytes()
    api.request("POST", "/api/v1/activities", key=publish_key, content=four)
    with working(api.engine):  # a whole dataset is queued: the request waits for it
        answer = api.request(
            "POST", "/api/v1/activities", key=publish_key, content=three,
            params={"mode": "atomic", "scope": "dataset", "wait": 60},
        )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["mode"], answer.json()["scope"]) == ("atomic", "dataset")
    assert _outcomes(answer.json()) == {"unchanged": 3, "deleted": 1}


def test_a_dataset_push_is_queued_and_answered_202_without_waiting(
    api: Api, publish_key: str, tmp_path: Path
) -> None:
    two = variant(USAID_EC, tmp_path / "two.xml", keep=2).read_bytes()
    accepted = api.request("POST", "/api/v1/activities", key=publish_key, content=two,
                           params={"scope": "dataset", "wait": 0.2})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "running"
    assert accepted.headers["location"] == f"/api/v1/pushes/{accepted.json()['id']}"
    assert Worker(api.engine, policy=JobPolicy(), work=PushWork(max_bytes=1 << 20)
                  ).run_until_idle() == 1
    done = api.request("GET", accepted.headers["location"], key=publish_key).json()
    assert (done["status"], done["counts"]["created"]) == ("completed", 2)


def test_a_large_file_is_queued_and_done_by_a_worker(
    store: Engine, publish_key: str
) -> None:
    api = Api(store, background_bytes=1000)
    accepted = api.request(
        "POST", "/api/v1/activities", key=publish_key,
        content=sample("real/usaid-bo.xml").read_bytes(),
    )
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["location"]
    assert location == f"/api/v1/pushes/{accepted.json()['id']}"
    with working(store):
        deadline = time.monotonic() + 120
        while (document := api.request("GET", location, key=publish_key).json())[
            "status"
        ] == "running":
            assert document["bytes_read"] <= document["size"]
            assert time.monotonic() < deadline, "the background push did not finish"
            time.sleep(0.2)
    assert document["status"] == "completed"
    assert document["counts"]["created"] == 63
    assert document["bytes_read"] == document["size"]


def test_a_push_is_visible_to_its_organisation_and_to_admins_only(
    api: Api, store: Engine, publish_key: str, tmp_path: Path
) -> None:
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1).read_bytes()
    push_id = api.request("POST", "/api/v1/activities", key=publish_key, content=one).json()["id"]
    add_publisher(store, "GB-1", name="FCDO")
    stranger = new_key(store, "GB-1", KeyScope.read)
    assert api.request("GET", f"/api/v1/pushes/{push_id}", key=stranger).status_code == 404
    admin = new_key(store, "GB-1", KeyScope.admin)
    assert api.request("GET", f"/api/v1/pushes/{push_id}", key=admin).status_code == 200
    assert api.request("GET", "/api/v1/pushes/nonsense", key=publish_key).status_code == 404


def test_put_replaces_exactly_the_activity_of_its_url(
    api: Api, publish_key: str, tmp_path: Path
) -> None:
    identifier = identifier_of(USAID_EC, 1)
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1).read_bytes()
    created = api.request("PUT", f"/api/v1/activities/{identifier}", key=publish_key, content=one)
    assert created.status_code == 200, created.text
    assert _outcomes(created.json()) == {"created": 1}
    changed = variant(
        USAID_EC, tmp_path / "changed.xml", keep=1,
        a1=set_first_transaction("5.00", "2026-02-01T00:00:00Z"),
    ).read_bytes()
    updated = api.request(
        "PUT", f"/api/v1/activities/{identifier}", key=publish_key, content=changed
    ).json()
    assert [(a["outcome"], a["version"]) for a in updated["activities"]] == [("updated", 2)]
    other = api.request(
        "PUT", "/api/v1/activities/US-GOV-1-ELSEWHERE", key=publish_key, content=one
    ).json()
    assert other["activities"][0]["outcome"] == "rejected"
    assert other["activities"][0]["findings"][-1]["code"] == "push.identifier-mismatch"
    two = variant(USAID_EC, tmp_path / "two.xml", keep=2).read_bytes()
    both = api.request(
        "PUT", f"/api/v1/activities/{identifier}", key=publish_key, content=two
    ).json()
    assert [a["outcome"] for a in both["activities"]] == ["stale", "rejected"]
    empty = b'<iati-activities version="2.03"></iati-activities>'
    none = api.request("PUT", f"/api/v1/activities/{identifier}", key=publish_key, content=empty)
    assert none.status_code == 422
    assert none.json()["code"] == "push.not-one-activity"


def test_delete_keeps_a_tombstone_and_answers_410_after(
    api: Api, store: Engine, publish_key: str, tmp_path: Path
) -> None:
    identifier = identifier_of(USAID_EC, 1)
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1).read_bytes()
    api.request("POST", "/api/v1/activities", key=publish_key, content=one)
    add_publisher(store, "GB-1", name="FCDO")
    stranger = new_key(store, "GB-1", KeyScope.publish)
    url = f"/api/v1/activities/{identifier}"
    refused = api.request("DELETE", url, key=stranger)
    assert refused.status_code == 403
    assert refused.json()["code"] == "activity.not-yours"
    assert api.request("DELETE", "/api/v1/activities/NOPE", key=publish_key).status_code == 404
    assert api.request("DELETE", url, key=publish_key).status_code == 204
    assert api.request("DELETE", url, key=publish_key).status_code == 204  # idempotent
    gone = api.request("GET", url, key=publish_key)
    assert gone.status_code == 410
    tombstone = gone.json()
    assert (tombstone["code"], tombstone["iati_identifier"], tombstone["version"]) == (
        "activity.deleted", identifier, 2,
    )
    assert tombstone["deleted_at"]
    versions = api.request("GET", f"{url}/versions", key=publish_key).json()
    assert [(v["version"], v["deleted"]) for v in versions] == [(1, False), (2, True)]
    assert versions[1]["summary"]["kind"] == "deleted"
    deletion = api.request("GET", f"/api/v1/pushes/{versions[1]['push_id']}", key=publish_key)
    assert deletion.json()["counts"]["deleted"] == 1


def test_the_multipart_parser_streams_the_file_part_across_any_chunking() -> None:
    content = b"<iati-activities>\r\n--not-the-boundary\r\n\r\n</iati-activities>"
    body = (
        b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello"
        b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xml\"\r\n"
        b"Content-Type: text/xml\r\n\r\n" + content + b"\r\n--XyZ--\r\nepilogue"
    )
    boundary = multipart_boundary('multipart/form-data; boundary="XyZ"')
    assert boundary == b"XyZ"
    for size in (1, 2, 3, 7, 64, len(body)):
        written: list[bytes] = []
        parser = MultipartFile(boundary, written.append)
        for start in range(0, len(body), size):
            parser.feed(body[start:start + size])
        parser.close()
        assert b"".join(written) == content, size
    truncated = MultipartFile(boundary, lambda _: None)
    truncated.feed(body[: body.index(b"</iati")])
    with pytest.raises(NoFilePartError):
        truncated.close()
    assert multipart_boundary("application/xml") is None


def test_many_small_parts_before_the_file_are_skipped_in_one_chunk_or_many() -> None:
    """A body of 20,000 form fields and then the file: every field skipped, the file whole,
    whether the body comes in one chunk (as an in-process client sends it) or in many."""
    fields = b"".join(
        b"--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n" % number
        for number in range(20_000)
    )
    content = sample(USAID_EC).read_bytes()[:4096]
    body = (fields + b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
            + content + b"\r\n--b--\r\n")
    for size in (len(body), 65536, 13):
        written: list[bytes] = []
        parser = MultipartFile(b"b", written.append)
        for start in range(0, len(body), size):
            parser.feed(body[start:start + size])
        parser.close()
        assert b"".join(written) == content, size
