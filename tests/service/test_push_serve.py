"""End to end over real HTTP: a donor gets a key and pushes files to `iati-ec serve`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import iati_ec
from tests.support.publishing import (
    USAID,
    USAID_EC,
    identifier_of,
    set_first_transaction,
    variant,
)
from tests.support.samples import sample
from tests.support.serving import serving


def _cli(folder: Path, *arguments: str) -> str:
    """`iati-ec arguments` in this process, on the server's database (a file in `folder`)."""
    done = iati_ec(*arguments, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`iati-ec serve` on a new SQLite file in `tmp_path`; its base URL."""
    with serving(tmp_path) as base:
        yield base


def test_a_donor_gets_a_key_and_pushes_over_http(server: str, tmp_path: Path) -> None:
    _cli(tmp_path, "orgs", "add", "--ref", USAID, "--name", "USAID", "--role", "donor")
    key = _cli(tmp_path, "keys", "create", "--org", USAID, "--scope", "publish").split()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    body = sample(USAID_EC).read_bytes()
    with httpx.Client(base_url=server, headers=auth, timeout=120) as http:
        first = http.post("/api/v1/activities", content=body)
        assert first.status_code == 200, first.text
        assert first.json()["counts"]["created"] == 250
        again = http.post("/api/v1/activities", content=body).json()
        assert again["counts"]["unchanged"] == 250
        identifier = identifier_of(USAID_EC, 7)
        xml = http.get(f"/api/v1/activities/{identifier}", headers={"Accept": "application/xml"})
        assert xml.status_code == 200
        assert identifier in xml.text
        polled = http.get(f"/api/v1/pushes/{first.json()['id']}").json()
        assert polled["status"] == "completed"


def test_parallel_clients_never_lose_an_update(server: str, tmp_path: Path) -> None:
    _cli(tmp_path, "orgs", "add", "--ref", USAID, "--name", "USAID", "--role", "donor")
    key = _cli(tmp_path, "keys", "create", "--org", USAID, "--scope", "publish").split()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    identifier = identifier_of(USAID_EC, 1)
    bodies = [
        variant(
            USAID_EC, tmp_path / f"v{n}.xml", keep=1,
            a1=set_first_transaction(f"{n}.00", f"2026-01-{n:02d}T00:00:00Z"),
        ).read_bytes()
        for n in range(1, 9)
    ]
    answers: list[httpx.Response] = []

    def send(body: bytes) -> None:
        with httpx.Client(base_url=server, headers=auth, timeout=120) as http:
            answers.append(http.put(f"/api/v1/activities/{identifier}", content=body))

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200] * 8
    outcomes = [answer.json()["activities"][0]["outcome"] for answer in answers]
    assert outcomes.count("created") == 1
    with httpx.Client(base_url=server, headers=auth, timeout=60) as http:
        stored = http.get(f"/api/v1/activities/{identifier}").json()
        versions = http.get(f"/api/v1/activities/{identifier}/versions").json()
    assert stored["transactions"][0]["value"]["amount"] == "8.00"
    assert len(versions) == 1 + outcomes.count("updated")


def test_an_analyst_reads_the_budget_view_and_exports_it_over_http(
    server: str, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[1] / "fixtures" / "examples"
    _cli(tmp_path, "orgs", "add", "--ref", "ES-DAC-2", "--name", "AECID", "--role", "donor")
    key = _cli(tmp_path, "keys", "create", "--org", "ES-DAC-2", "--scope", "publish").split()[-1]
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"},
                      timeout=60) as http:
        body = (example / "health-grant-esmeraldas.xml").read_bytes()
        assert http.post("/api/v1/activities", content=body).json()["counts"]["created"] == 1
        identifier = "ES-DAC-2-EJEMPLO-SALUD-ESMERALDAS"
        view = http.get(f"/api/v1/activities/{identifier}/budget-view").json()
        cantons = [f for f in view["figures"] if f["classification"] == "canton"]
        assert [(f["code"], f["amount_usd"], f["original_amount"], f["currency"])
                for f in cantons] == [("0805", "544600.00", "500000.00", "EUR")]
        with http.stream("GET", "/api/v1/exports/budget.csv") as exported:
            assert exported.status_code == 200
            lines = [line for line in exported.iter_lines() if line]
        assert len(lines) == 1 + len(view["figures"])
        assert lines[0].startswith("\ufeffiati_identifier,reporting_org,year,measure,")
