"""The HTTP API through httpx against the application, and its committed OpenAPI contract."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import create_app, openapi_document
from service.db import create_db_engine, get_engine, upgrade_database
from tests.support.samples import sample

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


class Client:
    """httpx against the ASGI app in-process (one event loop per request, for sync tests)."""

    def __init__(self) -> None:
        self.app = create_app()

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://iati-ec") as http:
                return await http.request(method, url, **options)

        return asyncio.run(send())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)


@pytest.fixture
def client() -> Client:
    return Client()


def test_health_says_ok_with_the_version(client: Client) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["pages_warmed_at"] is None  # no page warming in the tests


def test_validate_streams_a_real_file_and_reports_findings(client: Client) -> None:
    body = sample("invalid/schema-should-fail-budget-12-non-decimal-value.xml").read_bytes()
    answer = client.post(
        "/api/v1/validate", content=body.replace(b'version="xx"', b'version="2.03"')
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["valid"] is False
    messages = [f["message"] for r in report["records"] for f in r["findings"]]
    assert any("'eryr' is not a valid value" in message for message in messages)


def test_validate_reports_unreadable_input_as_a_coded_fatal_finding(client: Client) -> None:
    answer = client.post("/api/v1/validate", content=b"\xff\xfe not xml")
    assert answer.status_code == 200
    assert answer.json()["fatal"]["code"] == "input.not-xml"


def test_validate_official_shape(client: Client) -> None:
    body = sample("real/usaid-bo.xml").read_bytes()
    answer = client.post("/api/v1/validate", params={"official": "true"}, content=body)
    report = answer.json()
    assert report["valid"] is True
    assert report["fileType"] == "iati-activities"


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert json.loads(OPENAPI.read_text(encoding="utf-8")) == json.loads(openapi_document()), (
        "openapi/openapi.json is stale: run `iati-ec openapi -o openapi/openapi.json`"
    )


def test_validate_refuses_bodies_over_the_limit_with_a_problem(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.config import get_settings

    monkeypatch.setattr(get_settings(), "max_upload_bytes", 1000)
    answer = client.post("/api/v1/validate", content=b"<" * 5000)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "input.too-large"


def test_a_request_that_finds_no_free_connection_is_told_to_retry(tmp_path: Path) -> None:
    """A burst that holds every pooled connection past the pool's time-out gets a 503
    problem with Retry-After, not a 500."""
    url = f"sqlite:///{tmp_path / 'iati-ec.db'}"
    upgrade_database(url)
    engine = create_db_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    client = Client()
    client.app.dependency_overrides[get_engine] = lambda: engine
    held = engine.connect()  # the only connection, in use
    try:
        busy = client.get("/iati/datasets.json")
    finally:
        held.close()
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert busy.json()["code"] == "service.busy"
    assert client.get("/iati/datasets.json").status_code == 200
    engine.dispose()


def test_every_operation_on_the_store_declares_the_busy_problem() -> None:
    """Any operation that takes a database connection may answer 503 `service.busy`;
    the document says so, with its Retry-After header. Validation and health take none."""
    document = json.loads(openapi_document())
    stateless = {"/api/v1/validate", "/health"}
    operations = [(path, method, operation) for path, item in document["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) > 40
    for path, method, operation in operations:
        busy = operation["responses"].get("503")
        if any(path.startswith(p) for p in stateless):
            assert busy is None, (method, path)
            continue
        assert busy is not None, (method, path)
        assert "application/problem+json" in busy["content"]
        assert "Retry-After" in busy["headers"]


def test_a_multipart_body_of_many_parts_is_read_without_holding_the_event_loop() -> None:
    """200,000 form fields before the file (11 MB), sent in one chunk as an in-process
    client sends it: while the service parses them, a task on the same event loop keeps
    ticking. Parsed on the loop itself, they stalled it for half a second and more."""
    fields = b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n" * 200_000
    content = sample("real/usaid-bo.xml").read_bytes()
    body = (fields + b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
            + content + b"\r\n--b--\r\n")
    app = create_app()

    async def upload_while_ticking() -> tuple[httpx.Response, float, float]:
        loop = asyncio.get_running_loop()
        gaps: list[float] = []
        uploading = True

        async def tick() -> None:
            last = loop.time()
            while uploading:
                await asyncio.sleep(0.005)
                gaps.append(loop.time() - last)
                last = loop.time()

        ticker = asyncio.create_task(tick())
        started = loop.time()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://iati-ec") as http:
            answer = await http.post(
                "/api/v1/validate", content=body, timeout=120,
                headers={"Content-Type": "multipart/form-data; boundary=b"})
        took = loop.time() - started
        uploading = False
        await ticker
        return answer, max(gaps), took

    answer, longest_gap, took = asyncio.run(upload_while_ticking())
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is True
    # Relative to the whole request's time too, so a loaded machine does not fail it.
    # Gaps of a few hundredths of a second now, half a second before; the bound grows with
    # the request's own time, so a loaded machine slows both alike without failing it.
    assert longest_gap < max(0.15, took / 8), (longest_gap, took)


def test_a_multipart_body_longer_than_the_limit_is_refused_whatever_its_parts(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent without a Content-Length, a body of form fields and a small file counts whole
    against the limit: the fields are not parsed without end."""
    from service.config import get_settings

    monkeypatch.setattr(get_settings(), "max_upload_bytes", 100_000)
    field = b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield field * 100
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n<x/>\r\n--b--\r\n"

    answer = client.post("/api/v1/validate", content=chunks(),
                         headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert answer.status_code == 413
    assert answer.json()["code"] == "input.too-large"
    assert "100,000" in answer.json()["detail"]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The app's OpenAPI document, generated once for the module's tests."""
    answer: dict[str, Any] = json.loads(openapi_document())
    return answer


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def test_every_problem_is_documented_as_problem_json_with_its_schema(
    document: dict[str, Any],
) -> None:
    """FastAPI documents its 422 as `application/json` (`HTTPValidationError`); the app
    answers every refusal as an RFC 9457 problem, and the document says so."""
    assert "HTTPValidationError" not in json.dumps(document)
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, method, operation in _operations(document):
        assert "422" in operation["responses"], (method, path)  # U+0000 anywhere, at least
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert answer["content"] == {"application/problem+json": problem}, (
                    method, path, status)


def test_an_invalid_request_is_answered_as_documented(client: Client) -> None:
    answer = client.post("/api/v1/validate", params={"official": "maybe"}, content=b"<x/>")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "request.invalid"
    assert problem["errors"] == [{"location": "query/official", "type": "bool_parsing",
                                  "message": "Input should be a valid boolean, unable to "
                                             "interpret input"}]


@pytest.mark.parametrize(("method", "url", "allowed"), [
    ("OPTIONS", "/api/v1/webhooks", "GET, HEAD, POST"),
    ("OPTIONS", "/api/v1/webhooks/1", "DELETE, GET, HEAD"),
    ("OPTIONS", "/api/v1/mappings/crosswalks/a/keys/1/15210", "DELETE, GET, HEAD, PUT"),
    ("PATCH", "/api/v1/organisations/merges", "GET, HEAD, POST"),
    # a `:path` identifier does not swallow its sub-resources' paths
    ("PUT", "/api/v1/activities/US-GOV-1-X/links", "GET, HEAD"),
    ("DELETE", "/api/v1/activities/US-GOV-1-X/versions/2", "GET, HEAD"),
    ("POST", "/health", "GET, HEAD"),
])
def test_a_method_the_resource_does_not_take_is_a_405_listing_those_it_does(
    client: Client, method: str, url: str, allowed: str
) -> None:
    answer = client.request(method, url)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed
    assert answer.json()["code"] == "request.method-not-allowed"


def test_validation_takes_anonymous_callers_and_an_empty_body_and_says_so(
    client: Client, document: dict[str, Any]
) -> None:
    operation = document["paths"]["/api/v1/validate"]["post"]
    assert {} in operation["security"]  # a key is optional
    assert operation["requestBody"]["required"] is False
    answer = client.post("/api/v1/validate")
    assert answer.status_code == 200
    assert answer.json()["fatal"]["code"] == "input.empty"


def test_a_multipart_body_without_its_file_is_a_documented_400(
    client: Client, document: dict[str, Any]
) -> None:
    answer = client.post("/api/v1/validate", files={"other": ("a.xml", b"<x/>")})
    assert answer.status_code == 400
    assert answer.json()["code"] == "push.no-file"
    paths = document["paths"]
    for path, method in (("/api/v1/validate", "post"), ("/api/v1/activities", "post"),
                         ("/api/v1/activities/{iati_identifier}", "put")):
        assert {"400", "413"} <= set(paths[path][method]["responses"]), (method, path)


def test_the_activity_filters_refusals_are_documented_wherever_they_apply(
    document: dict[str, Any],
) -> None:
    """A search without a word is a 400 (`query.bad-search`) on every operation that takes
    the activity filters, the exports and coordination reports as much as the lists."""
    paths = document["paths"]
    for path in ("/api/v1/exports/budget.csv", "/api/v1/coordination/duplicates",
                 "/api/v1/coordination/overlaps", "/api/v1/activities"):
        operation = paths[path]["get"]
        assert "q" in {parameter["name"] for parameter in operation["parameters"]}
        assert "400" in operation["responses"], path


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/api/v1/activities?activity_status=%00", None),
    ("GET", "/api/v1/activities/US-GOV-1%00", None),
])
def test_nul_is_refused_anywhere_before_it_reaches_a_database(
    client: Client, method: str, url: str, body: dict[str, Any] | None
) -> None:
    """PostgreSQL cannot hold U+0000 (a 500 there), and no IATI value has it."""
    answer = client.request(method, url, json=body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "request.nul-character"


def test_an_organisation_needs_a_name_and_refs_that_are_not_blank(
    document: dict[str, Any],
) -> None:
    from pydantic import ValidationError

    from service.services.organisations import OrganisationCreate

    for blank in ({"refs": [" "], "name": "CAF"}, {"refs": ["XM-DAC-46008"], "name": "\t"}):
        with pytest.raises(ValidationError):
            OrganisationCreate.model_validate({**blank, "roles": ["donor"]})
    schema = document["components"]["schemas"]["OrganisationCreate"]
    assert schema["properties"]["name"]["pattern"] == r"\S"
    assert schema["properties"]["refs"]["items"]["pattern"] == r"\S"


@pytest.mark.parametrize("path", ["/health", "/api/v1/activities", "/docs", "/openapi.json"])
def test_head_is_answered_wherever_get_is_with_the_headers_only(
    client: Client, path: str
) -> None:
    got = client.get(path)
    head = client.request("HEAD", path)
    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
