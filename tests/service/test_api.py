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
