"""Traceability over HTTP on SQLite and PostgreSQL: the links of a funder's and its
implementer's activities both ways, the graph, and net against gross aggregates, with a
chain derived from real AECID data (tests/fixtures/traceability/SOURCES.md) and a real
parent and child of Danida's."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from service.db import downgrade_database, upgrade_database
from service.models import ActivityLink, KeyScope
from service.services import aggregates
from tests.support.publishing import PARSER, Api, add_publisher, new_key
from tests.support.samples import sample
from tests.support.spreadsheets import without_bom

CHAIN = Path(__file__).resolve().parents[1] / "fixtures" / "traceability"
FUNDER, IMPLEMENTER = "ES-DIR3-EA0035768", "EC-RUC-1791822870001"
FUNDING = "ES-DIR3-EA0035768-Z03-20-01-13500"
IMPLEMENTING = "EC-RUC-1791822870001-Z03-20-01-13500"
MEASURES = ["commitment", "disbursement", "expenditure"]
DANIDA = "real/dportal-canada-idrc-denmark-p91.xml"
PARENT, CHILD = "XM-DAC-3-1-285834", "XM-DAC-3-1-285834-34233"


class Chain:
    """The pushed chain: the API, a read key and each publisher's publish key."""

    def __init__(self, store: Engine) -> None:
        self.api = Api(store)
        self.keys: dict[str, str] = {}
        for ref in (FUNDER, IMPLEMENTER):
            add_publisher(store, ref, name=ref)
            self.keys[ref] = new_key(store, ref, KeyScope.publish)
        self.read = new_key(store, FUNDER, KeyScope.read)

    def push(self, ref: str, content: bytes) -> dict[str, Any]:
        answer = self.api.request("POST", "/api/v1/activities", key=self.keys[ref],
                                  content=content)
        assert answer.status_code in (200, 202), answer.text
        return answer.json()  # type: ignore[no-any-return]

    def get(self, url: str, **params: Any) -> dict[str, Any]:
        answer = self.api.request("GET", url, key=self.read, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


@pytest.fixture
def chain(store: Engine) -> Chain:
    pushed = Chain(store)
    for ref, file in ((FUNDER, "aecid-funder.xml"), (IMPLEMENTER, "aldea-implementer.xml")):
        assert pushed.push(ref, (CHAIN / file).read_bytes())["counts"]["created"] == 1
    return pushed


def _implementer(*, incoming: bool, updated: str) -> bytes:
    """The implementer's file, with or without its incoming funds, updated at `updated`."""
    tree = etree.parse(str(CHAIN / "aldea-implementer.xml"), PARSER)
    activity = tree.getroot()[0]
    activity.set("last-updated-datetime", updated)
    if not incoming:
        [received] = activity.xpath("transaction[transaction-type/@code='1']")
        activity.remove(received)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def _links(chain: Chain, identifier: str) -> dict[str, Any]:
    return chain.get(f"/api/v1/activities/{identifier}/links")


def _summary(links: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (link["kind"], link["type"], link["activity"]["iati_identifier"],
         link["activity"]["stored"], (link["transaction"] or {}).get("amount"))
        for link in links
    ]


def test_the_funder_sees_its_implementer_and_the_implementer_its_funder(chain: Chain) -> None:
    funder = _links(chain, FUNDING)
    assert funder["activity"]["reporting_org"] == FUNDER
    assert _summary(funder["outgoing"]) == [
        ("transaction_outgoing", "2", IMPLEMENTING, True, "100000"),
        ("transaction_outgoing", "3", IMPLEMENTING, True, "100000"),
        ("other_identifier", "A1", "Z03-20-01-13500-EC", False, None),
        ("other_identifier", "A1", "2020/SPE/0000400131", False, None),
        ("other_identifier", "A1", "Z03/20/01/13500", False, None),
    ]
    assert funder["outgoing"][0]["activity"]["reporting_org"] == IMPLEMENTER
    assert _summary(funder["incoming"]) == [
        ("transaction_incoming", "1", IMPLEMENTING, True, "100000"),
    ]
    implementer = _links(chain, IMPLEMENTING)
    assert _summary(implementer["outgoing"]) == [
        ("transaction_incoming", "1", FUNDING, True, "100000"),
        ("other_identifier", "A9", "Z03-20-01-13500-EC", False, None),
    ]
    assert _summary(implementer["incoming"]) == [
        ("transaction_outgoing", "2", FUNDING, True, "100000"),
        ("transaction_outgoing", "3", FUNDING, True, "100000"),
    ]
    flows = [(f["stage"], f["funder"]["iati_identifier"], f["implementer"]["iati_identifier"],
              f["outgoing_total"], f["incoming_total"], f["matched"]) for f in funder["flows"]]
    assert flows == [
        ("commitment", FUNDING, IMPLEMENTING, {"EUR": "100000"}, {}, False),
        ("disbursement", FUNDING, IMPLEMENTING, {"EUR": "100000"}, {"EUR": "100000"}, True),
    ]
    assert implementer["flows"] == funder["flows"]
    assert [(s["identifier"], s["type"], s["activity"]["iati_identifier"])
            for s in funder["shared_identifiers"]] == [
        ("Z03-20-01-13500-EC", "A9", IMPLEMENTING),
    ]
    [disbursed] = funder["flows"][1]["outgoing"]
    assert (disbursed["position"], disbursed["date"]) == (2, "2020-09-24")


def test_links_of_an_unknown_or_deleted_activity_are_problems(chain: Chain) -> None:
    unknown = chain.api.request("GET", "/api/v1/activities/XX-NOPE/links", key=chain.read)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "activity.not-found")
    anonymous = chain.api.request("GET", f"/api/v1/activities/{FUNDING}/links")
    assert anonymous.status_code == 401
    url = f"/api/v1/activities/{IMPLEMENTING}"
    assert chain.api.request("DELETE", url, key=chain.keys[IMPLEMENTER]).status_code == 204
    gone = chain.api.request("GET", f"{url}/links", key=chain.read)
    assert (gone.status_code, gone.json()["code"]) == (410, "activity.deleted")


def _figures(chain: Chain, **params: Any) -> list[dict[str, str]]:
    answer = chain.api.request("GET", "/api/v1/exports/budget.csv", key=chain.read,
                               params={"classification": "fuente", **params})
    assert answer.status_code == 200, answer.text
    return [row for row in csv.DictReader(io.StringIO(without_bom(answer.text)))
            if row["measure"] in MEASURES]


def _total(chain: Chain, **params: Any) -> Decimal:
    found = chain.get("/api/v1/aggregates", **{"measure": MEASURES, **params})
    assert found["basis"] == params.get("basis", "net")
    assert Decimal(found["total_usd"]) == sum(Decimal(r["amount_usd"]) for r in found["rows"])
    return Decimal(found["total_usd"])


@pytest.fixture(params=["named", "found-by-each-statement"])
def pairs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The figures net totals leave out named in the statement, or found by it."""
    if request.param != "named":
        monkeypatch.setattr(aggregates, "NAMED_PAIRS", 0)
    return str(request.param)


def test_net_counts_the_disbursement_once_at_the_implementer(chain: Chain, pairs: str) -> None:
    figures = _figures(chain)
    gross = sum(Decimal(f["amount_usd"]) for f in figures)
    # AECID's disbursement (its transaction[2]) is the money A.L.D.E.A reports receiving.
    twice = sum(Decimal(f["amount_usd"]) for f in figures
                if f["iati_identifier"] == FUNDING and f["location"] == "transaction[2]")
    assert twice > 0
    assert _total(chain, basis="gross") == gross
    assert _total(chain, basis="net") == _total(chain) == gross - twice
    by_org = chain.get("/api/v1/aggregates", measure=MEASURES, group_by="reporting_org")
    spent = sum(Decimal(f["amount_usd"]) for f in figures if f["reporting_org"] == IMPLEMENTER)
    assert {r["group"]["reporting_org"]: Decimal(r["amount_usd"]) for r in by_org["rows"]} == {
        IMPLEMENTER: spent, FUNDER: gross - spent - twice,
    }
    exported = chain.api.request("GET", "/api/v1/aggregates", key=chain.read,
                                 params={"measure": MEASURES, "format": "csv"})
    assert exported.headers["IATI-EC-Basis"] == "net"
    assert sum(Decimal(row["amount_usd"]) for row in csv.DictReader(
        io.StringIO(without_bom(exported.text)))) == gross - twice
    # AECID's commitment is not reported back as an incoming commitment: counted in both.
    assert _total(chain, basis="net", measure="commitment") == _total(
        chain, basis="gross", measure="commitment")


def test_a_pair_counts_only_when_both_activities_are_totalled(
    chain: Chain, pairs: str
) -> None:
    alone = {"reporting_org": FUNDER}
    assert _total(chain, basis="net", **alone) == _total(chain, basis="gross", **alone)
    both = {"reporting_org": [FUNDER, IMPLEMENTER]}
    assert _total(chain, basis="net", **both) < _total(chain, basis="gross", **both)


def test_the_graph_shows_the_flows_and_which_one_net_figures_leave_out(chain: Chain) -> None:
    graph = chain.get("/api/v1/traceability")
    assert graph["activities"] == 2
    assert [(n["id"], n["in_set"], n["stored"]) for n in graph["nodes"]] == [
        (f"activity:{IMPLEMENTING}", True, True), (f"activity:{FUNDING}", True, True),
    ]
    edges = [(e["source"], e["target"], e["type"], e["reported_by"], e["amounts"],
              e["duplicate"]) for e in graph["edges"]]
    funding, implementing = f"activity:{FUNDING}", f"activity:{IMPLEMENTING}"
    assert edges == [
        (funding, implementing, "1", IMPLEMENTING, {"EUR": "100000"}, False),
        (funding, implementing, "2", FUNDING, {"EUR": "100000"}, False),
        (funding, implementing, "3", FUNDING, {"EUR": "100000"}, True),
    ]
    only = chain.get("/api/v1/traceability", activity=FUNDING)
    assert [(n["ref"], n["in_set"]) for n in only["nodes"]] == [
        (IMPLEMENTING, False), (FUNDING, True),
    ]
    assert not any(e["duplicate"] for e in only["edges"])  # the implementer is not in the set
    too_many = chain.api.request("GET", "/api/v1/traceability", key=chain.read,
                                 params={"limit": 1})
    assert too_many.status_code == 400
    assert (too_many.json()["code"], too_many.json()["activities"]) == (
        "traceability.too-many-activities", 2)


def test_updating_and_deleting_the_implementer_changes_links_and_net(chain: Chain) -> None:
    gross = _total(chain, basis="gross")
    unreported = _implementer(incoming=False, updated="2021-08-01T00:00:00")
    assert chain.push(IMPLEMENTER, unreported)["counts"]["updated"] == 1
    funder = _links(chain, FUNDING)
    assert funder["incoming"] == []
    assert [f["matched"] for f in funder["flows"]] == [False, False]
    assert _total(chain) == _total(chain, basis="gross") == gross
    reported = _implementer(incoming=True, updated="2021-09-01T00:00:00")
    assert chain.push(IMPLEMENTER, reported)["counts"]["updated"] == 1
    assert _total(chain) < gross
    url = f"/api/v1/activities/{IMPLEMENTING}"
    assert chain.api.request("DELETE", url, key=chain.keys[IMPLEMENTER]).status_code == 204
    funder = _links(chain, FUNDING)
    assert funder["incoming"] == []
    assert {link["activity"]["stored"] for link in funder["outgoing"]} == {False}
    assert _total(chain) == _total(chain, basis="gross")


def _parent_and_child(target: Path) -> Path:
    """Danida's file with only a real parent activity and its child, mended where the IATI
    ruleset would reject them: xml:lang in lower case, other-identifier type `XM-DAC-3-1`
    read as A1, the child's country-budget-items (a 2.01 attribute) dropped and its empty
    description given its title."""
    tree = etree.parse(str(sample(DANIDA)), PARSER)
    root = tree.getroot()
    for activity in root.findall("iati-activity"):
        if (activity.findtext("iati-identifier") or "").strip() not in (PARENT, CHILD):
            root.remove(activity)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for element in root.iter():
        if lang in element.attrib:
            element.set(lang, element.get(lang, "").lower())
    for other in root.iter("other-identifier"):
        other.set("type", "A1")
    for budget_items in root.iter("country-budget-items"):
        root_of = budget_items.getparent()
        assert root_of is not None
        root_of.remove(budget_items)
    for description in root.xpath("//description[not(narrative/text())]"):
        for empty in description.findall("narrative"):
            description.remove(empty)
        title = description.getparent().find("title/narrative")
        description.append(etree.fromstring(etree.tostring(title)))
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def test_a_real_parent_and_child_name_each_other(store: Engine, tmp_path: Path) -> None:
    api = Api(store)
    add_publisher(store, "XM-DAC-3-1", name="Danida")
    key = new_key(store, "XM-DAC-3-1", KeyScope.publish)
    pushed = api.request("POST", "/api/v1/activities", key=key,
                         content=_parent_and_child(tmp_path / "danida.xml").read_bytes())
    assert pushed.json()["counts"]["created"] == 2, pushed.text
    parent = api.request("GET", f"/api/v1/activities/{PARENT}/links", key=key).json()
    related = [(link["kind"], link["type"], link["activity"]["iati_identifier"],
                link["activity"]["stored"]) for link in parent["outgoing"]
               if link["kind"] == "related_activity"]
    assert ("related_activity", "2", CHILD, True) in related
    assert [(link["type"], link["activity"]["iati_identifier"]) for link in parent["incoming"]
            if link["kind"] == "related_activity"] == [("1", CHILD)]
    graph = api.request("GET", "/api/v1/traceability", key=key,
                        params={"activity": [PARENT, CHILD]}).json()
    assert {(e["source"], e["target"], e["type"]) for e in graph["edges"]
            if e["kind"] == "related_activity"} >= {
        (f"activity:{PARENT}", f"activity:{CHILD}", "2"),
        (f"activity:{CHILD}", f"activity:{PARENT}", "1"),
    }


def test_the_migration_fills_the_links_of_stored_activities(
    chain: Chain, store_url: str, store: Engine
) -> None:
    def stored() -> list[tuple[Any, ...]]:
        with store.connect() as connection:
            return [tuple(row) for row in connection.execute(select(
                ActivityLink.activity_id, ActivityLink.transaction_id, ActivityLink.kind,
                ActivityLink.type, ActivityLink.target, ActivityLink.org_ref,
            ).order_by(ActivityLink.activity_id, ActivityLink.kind, ActivityLink.target,
                       ActivityLink.type))]

    pushed = stored()
    assert len(pushed) == 7
    store.dispose()
    downgrade_database(store_url, "0008")
    upgrade_database(store_url)
    assert stored() == pushed
    assert _total(chain) < _total(chain, basis="gross")
