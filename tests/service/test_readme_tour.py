"""The README's five-minute tour works as written: its commands, read from the README, run
against the service (the command line in-process, each `curl` sent to the app), and
give what the README says they give."""

from __future__ import annotations

import csv
import io
import re
import shlex
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from sqlalchemy import Engine

from service.search import fold
from tests.support.cli import iati_ec
from tests.support.publishing import Api
from tests.support.samples import PARSER

REPO = Path(__file__).resolve().parents[2]
HOST = "http://127.0.0.1:8000"
KEY_FROM = re.compile(r"^KEY=\$\((?P<command>.+) \| awk 'END \{print \$NF\}'\)$")
CAF_FILE = REPO / "service" / "demo" / "caf-ecuador-loans.xml"


def _tour() -> tuple[list[str], str]:
    """The tour's shell commands, one a line, and its text."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    commands = [
        line.strip()
        for block in re.findall(r"```sh\n(.*?)```", tour, re.S)
        for line in block.replace("\\\n", " ").splitlines() if line.strip()
    ]
    return commands, tour


def _curl(api: Api, command: str, key: str) -> httpx.Response:
    """Send what a `curl` command line of the tour sends, to the app."""
    words = shlex.split(command.replace("$KEY", key))[1:]
    headers: dict[str, str] = {}
    body: bytes | None = None
    fields: list[tuple[str, str]] = []
    url = ""
    as_query = False
    while words:
        word = words.pop(0)
        if word == "-H":
            name, value = words.pop(0).split(": ", 1)
            headers[name] = value
        elif word == "--data-binary":
            body = (REPO / words.pop(0).removeprefix("@")).read_bytes()
        elif word == "--data-urlencode":
            name, value = words.pop(0).split("=", 1)
            fields.append((name, value))
        elif word == "-G":
            as_query = True
        else:
            assert word.startswith(HOST), f"an option this test does not read: {word}"
            url = word.removeprefix(HOST)
    options: dict[str, Any] = {"headers": headers}
    if as_query:
        options["params"] = fields
    if body is not None:
        return api.request("POST", url, content=body, **options)
    return api.request("GET", url, **options)


def _with_salud() -> set[str]:
    """CAF's activities whose title or descriptions hold the word "salud", from the XML."""
    found = set()
    for activity in etree.parse(str(CAF_FILE), PARSER).iterfind("iati-activity"):
        texts = activity.xpath("(title|description)/narrative/text()")
        if "salud" in re.findall(r"[^\W_]+", fold(" ".join(texts))):
            found.add(str(activity.findtext("iati-identifier")).strip())
    return found


def test_the_readme_tour_runs_as_written(store: Engine, store_url: str) -> None:
    commands, tour = _tour()
    api = Api(store)
    key = ""
    answers: list[httpx.Response] = []
    for command in commands:
        if command.startswith(".venv/bin/iati-ec "):
            done = iati_ec(*shlex.split(command)[1:], database=store_url)
            assert done.returncode == 0, done.stdout + done.stderr
        elif match := KEY_FROM.match(command):
            done = iati_ec(*shlex.split(match["command"])[1:], database=store_url)
            assert done.returncode == 0, done.stdout + done.stderr
            key = done.stdout.split()[-1]
        else:
            assert command.startswith("curl "), command
            answers.append(_curl(api, command, key))
    assert key.startswith("iatiec_")
    assert [answer.status_code for answer in answers] == [200] * 6, [a.text for a in answers]
    pushed, view, listed, grouped = (answers[0].json(), answers[1].json(), answers[2].json(),
                                     answers[3].text)
    lens, scorecard = answers[4].json(), answers[5].json()
    assert pushed["counts"]["created"] == 27
    assert pushed["counts"]["rejected"] == 0
    # "Push it again: every activity is unchanged."
    again = _curl(api, next(c for c in commands if "--data-binary" in c), key).json()
    assert again["counts"]["unchanged"] == 27

    # The figures the tour names: a USD 50 million loan, perimeter central, income ítem
    # 360301, fuente 202, over three objectives of the 2017–2021 plan.
    commitment = [t for t in view["totals"] if t["measure"] == "commitment"]
    codes = {(t["classification"], t["code"]): Decimal(t["amount_usd"]) for t in commitment}
    million_50 = Decimal("50000000.00")
    assert codes[("perimeter", "central")] == codes[("income_item", "360301")] == million_50
    assert codes[("fuente", "202")] == million_50
    objectives = {code: amount for (kind, code), amount in codes.items()
                  if kind == "plan_objective"}
    assert len(objectives) == 3
    assert all(c.startswith("PND-2017-2021/") for c in objectives)
    assert sum(objectives.values()) == million_50

    assert {row["iati_identifier"] for row in listed["activities"]} == _with_salud() != set()
    rows = list(csv.DictReader(io.StringIO(grouped.lstrip("\ufeff"))))
    assert rows
    assert list(rows[0]) == ["year", "plan_objective", "amount_usd", "activities"]
    assert sum(Decimal(row["amount_usd"]) for row in rows) > 0

    # 6. CAF's loans are all development: the disbursements the tour names, none security.
    assert [(row["group"]["lens"], row["amount_usd"]) for row in lens["rows"]] == [
        ("development", "1289347630.00")]
    assert lens["total_usd"] == "1289347630.00"
    assert "USD 1,289,347,630.00 disbursed" in " ".join(tour.split())
    # CAF's scorecard in 2022: six activities, five with indicators, 5a not computed.
    [row] = [row for row in scorecard["rows"] if not row["overall"]]
    assert (row["reporting_org"], row["year"], row["activities"]) == ("XM-DAC-46008", 2022, 6)
    indicators = {item["code"]: item for item in row["indicators"]}
    assert indicators["1a-indicators"]["value_percent"] == "83.33"
    assert (indicators["1a-indicators"]["numerator"],
            indicators["1a-indicators"]["denominator"]) == ("5", "6")
    assert indicators["5a"]["value_percent"] is None
    assert "no budget for 2022" in indicators["5a"]["reason"]

    prose = re.sub(r"```.*?```", "", tour, flags=re.S)
    pages = re.findall(re.escape(HOST) + r"(/[^\s)`]*)", prose)
    assert "/actividades/XM-DAC-46008-cfa011196" in pages
    for page in pages:
        shown = api.request("GET", page)
        assert shown.status_code == 200, page
    activity = api.request("GET", "/actividades/XM-DAC-46008-cfa011196").text
    assert "Vista presupuestaria del Ecuador" in activity
    assert "360301" in activity
