"""Every operation that takes a JSON body, on SQLite and on PostgreSQL: the caller's key is
checked before anything is said about the body; a body that is not UTF-8 JSON is a 422
problem saying where; a body over 1 MiB is a 413 problem, read no further."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from service.api.routing import JSON_BODY_BYTES
from service.app import create_app
from service.models import KeyScope
from tests.support.publishing import Api, add_publisher, new_key

JSON = {"Content-Type": "application/json"}
NOT_UTF8 = b'{"x": "\xff"}'
UNREADABLE = [NOT_UTF8, b'{"x": ', b"[" * 100_000, b'{"n": ' + b"9" * 5000 + b"}",
              '{"x": 1}'.encode("utf-16")]


def _json_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation whose body is JSON, path parameters filled in."""
    document = create_app().openapi()
    found = [
        (method.upper(), path.replace("{", "").replace("}", ""))
        for path, item in document["paths"].items() for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(found) >= 5
    return found


OPERATIONS = _json_operations()


@pytest.fixture
def admin(store: Engine) -> str:
    add_publisher(store, "US-GOV-1")
    return new_key(store, "US-GOV-1", KeyScope.admin)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_an_anonymous_caller_is_told_401_whatever_the_body(
    store: Engine, method: str, path: str
) -> None:
    api = Api(store)
    for body in UNREADABLE:
        answer = api.request(method, path, content=body, headers=JSON)
        assert answer.status_code == 401, (body[:12], answer.text)
        assert answer.json()["code"] == "auth.invalid-key"
    declared = {**JSON, "Content-Length": str(JSON_BODY_BYTES + 1)}
    answer = api.request(method, path, content=b"{}", headers=declared)
    assert answer.status_code == 401, answer.text


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_with_the_key_a_body_not_utf8_json_is_a_422_and_one_over_a_mebibyte_a_413(
    store: Engine, admin: str, method: str, path: str
) -> None:
    api = Api(store)
    answer = api.request(method, path, key=admin, content=NOT_UTF8, headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "request.invalid"
    assert problem["title"] == "Invalid request"
    [error] = problem["errors"]
    assert error["location"] == "body/7"  # the byte 0xff
    assert error["type"] == "json_invalid"
    assert "not UTF-8: byte 0xff at byte 7" in error["message"]
    assert "body/7" in problem["detail"]
    for body in UNREADABLE[1:]:
        answer = api.request(method, path, key=admin, content=body, headers=JSON)
        assert answer.status_code == 422, (body[:12], answer.text)
        assert answer.json()["errors"][0]["type"] == "json_invalid"
    for nul in (b'{"name": "A\\u0000"}', b'{"name": "A\x00"}'):  # escaped, and as is
        answer = api.request(method, path, key=admin, content=nul, headers=JSON)
        assert (answer.status_code, answer.json()["code"]) == (422, "request.nul-character")
    for illegal, named in ((b'{"name": "A\\u0001"}', "U+0001"),
                           (b'{"name": "\\u001b[31m"}', "U+001B"),
                           (b'{"n\\ud800": "A"}', "U+D800"), (b'{"name": ["\\uffff"]}', "U+FFFF")):
        answer = api.request(method, path, key=admin, content=illegal, headers=JSON)
        assert (answer.status_code, answer.json()["code"]) == (
            422, "request.illegal-character"), illegal
        assert named in answer.json()["detail"]
    declared = {**JSON, "Content-Length": "3000000000"}
    answer = api.request(method, path, key=admin, content=b"{}", headers=declared)
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "request.too-large"
    assert "3,000,000,000" in answer.json()["detail"]


def test_a_body_sent_without_its_length_is_read_no_further_than_the_limit(
    store: Engine, admin: str
) -> None:
    sent: list[int] = []

    async def spaces() -> AsyncIterator[bytes]:
        for _ in range(64):  # 4 MiB in all
            sent.append(1)
            yield b" " * 65536

    answer = Api(store).request("POST", "/api/v1/webhooks", key=admin, content=spaces(),
                                headers=JSON)
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "request.too-large"
    assert len(sent) <= JSON_BODY_BYTES // 65536 + 2  # the rest was never asked for
