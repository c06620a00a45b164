"""Request ids and JSON logs: every request has an id, answered in `X-Request-ID`, kept on
the push it made and written on its log lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from service.logs import JsonFormatter
from service.models import KeyScope
from tests.support.publishing import USAID, USAID_EC, Api, add_publisher, new_key, variant


def test_a_push_keeps_the_id_of_the_request_that_made_it(
    store: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api = Api(store)
    add_publisher(store, USAID)
    key = new_key(store, USAID, KeyScope.publish)
    body = variant(USAID_EC, tmp_path / "two.xml", keep=2).read_bytes()
    with caplog.at_level(logging.INFO, logger="iati_ec.access"):
        pushed = api.request("POST", "/api/v1/activities", key=key, content=body,
                             headers={"X-Request-ID": "sigef-2026-000123"})
    assert pushed.headers["x-request-id"] == "sigef-2026-000123"
    assert pushed.json()["request_id"] == "sigef-2026-000123"
    again = api.request("GET", f"/api/v1/pushes/{pushed.json()['id']}", key=key)
    assert again.json()["request_id"] == "sigef-2026-000123"
    [line] = [r for r in caplog.records if getattr(r, "path", "") == "/api/v1/activities"]
    logged = json.loads(JsonFormatter().format(line))
    assert (logged["method"], logged["status"], logged["route"]) == (
        "POST", 200, "/api/v1/activities")
    assert logged["duration_ms"] >= 0


@pytest.mark.parametrize("sent", ["two\nlines", "x" * 65, "ünïcode", ""])
def test_an_id_that_is_not_a_short_token_is_replaced(store: Engine, sent: str) -> None:
    headers = {"X-Request-ID": sent.encode("utf-8")} if sent else {}
    answer = Api(store).request("GET", "/health", headers=headers)
    given = answer.headers["x-request-id"]
    assert given != sent
    assert len(given) == 32
    assert int(given, 16) >= 0


def test_serve_logs_json_lines_with_the_request_id() -> None:
    script = (
        "import logging, logging.config, asyncio\n"
        "from service.logs import logging_config, RequestIds\n"
        "logging.config.dictConfig(logging_config('json'))\n"
        "logging.getLogger('uvicorn.error').info('Started server process')\n"
        "async def app(scope, receive, send):\n"
        "    logging.getLogger('service.x').warning('inside %s', 'request')\n"
        "    await send({'type': 'http.response.start', 'status': 204, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b''})\n"
        "async def sent(message): pass\n"
        "scope = {'type': 'http', 'method': 'GET', 'path': '/x',"
        " 'headers': [(b'x-request-id', b'abc-1')]}\n"
        "asyncio.run(RequestIds(app)(scope, None, sent))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("uvicorn.error", "info"), ("service.x", "warning"), ("iati_ec.access", "info")]
    assert "request_id" not in lines[0]
    assert lines[1]["request_id"] == lines[2]["request_id"] == "abc-1"
    assert lines[1]["message"] == "inside request"
    assert lines[2]["status"] == 204
