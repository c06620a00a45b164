"""The duplicate report's labelled evaluation set: real files of several publishers and
labelled re-reports of their real activities, pushed once per run, and the labels.

The corpus (`CORPUS`) holds what the brief of issue 27 names: USAID Ecuador (funder and
implementer names, dozens of awards under one programme title), CAF's Ecuador loans
(phases, credit lines to several banks), a d-portal page of the IDB and its neighbours
(one loan programme to several borrowers, IDRC's components of one project), the d-portal
Ecuador activities of IDRC, the EU, Germany and Spain, and the traceability pair (a
funder's activity and its implementer's). Real activities re-published under a second
identifier are scarce, so re-reports are derived from real activities with lxml, each as
`tests/fixtures/duplicates/rereports.csv` says (see `rereport`); the labels of every pair,
real or derived, are in `tests/fixtures/duplicates/labels.csv` (see its README).
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Engine

from service.db import session_scope
from service.search import fold
from service.services.organisations import find_organisation
from service.services.push import Publisher
from tests.support.databases import Load
from tests.support.loads import USAID_AND_EXAMPLES, Keys
from tests.support.publishing import add_publisher, push
from tests.support.samples import CAF_LOANS, PARSER, sample

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "duplicates"
DEMO = CAF_LOANS.parent
TRACEABILITY = Path(__file__).resolve().parents[1] / "fixtures" / "traceability"
# Pushed in this order after the USAID load; an identifier already pushed is skipped.
CORPUS = (
    TRACEABILITY / "aecid-funder.xml",
    TRACEABILITY / "aldea-implementer.xml",
    CAF_LOANS,
    "real/dportal-iadb-p3.xml",
    DEMO / "dportal-canada-idrc-denmark-p91-ecuador.xml",
    DEMO / "dportal-eu-intpa-p80-ecuador.xml",
    DEMO / "dportal-germany-bmz-p10-ecuador.xml",
    DEMO / "dportal-spain-aecid-p16-ecuador.xml",
)
USAID_FILE = "real/usaid-ec.xml"
LABELS = ("duplicate", "distinct", "chain")


@dataclass(frozen=True, slots=True)
class Labelled:
    """A pair of activity identifiers and what it is, why, and whether it is real."""

    a: str
    b: str
    label: str
    origin: str  # real | derived
    reason: str

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.a, self.b))


@dataclass(frozen=True, slots=True)
class Recipe:
    """A re-report to derive: of the real activity `source`, by `reporter`, as `identifier`."""

    source: str
    identifier: str
    reporter: str
    reporter_name: str
    how: str  # exact | respelt-title | no-money | partial-transactions | implementer


@cache
def labels() -> tuple[Labelled, ...]:
    with (FOLDER / "labels.csv").open(encoding="utf-8", newline="") as file:
        found = tuple(Labelled(**row) for row in csv.DictReader(file))
    assert {item.label for item in found} <= set(LABELS)
    return found


@cache
def recipes() -> tuple[Recipe, ...]:
    with (FOLDER / "rereports.csv").open(encoding="utf-8", newline="") as file:
        return tuple(Recipe(**row) for row in csv.DictReader(file))


def _path(source: str | Path) -> Path:
    return sample(source) if isinstance(source, str) else source


@cache
def real_activities() -> dict[str, tuple[etree._Element, etree._Element]]:
    """Every corpus activity by identifier, with its file's root (the first file wins)."""
    found: dict[str, tuple[etree._Element, etree._Element]] = {}
    for source in (USAID_FILE, *CORPUS):
        root = etree.parse(str(_path(source)), PARSER).getroot()
        for activity in root.findall("iati-activity"):
            found.setdefault(_identifier(activity), (root, activity))
    return found


def _identifier(activity: etree._Element) -> str:
    return (activity.findtext("iati-identifier") or "").strip()


def rereport(recipe: Recipe) -> tuple[etree._Element, etree._Element]:
    """The re-report `recipe` describes, built from a copy of the real activity: its
    identifier and reporting-org replaced, and by `how`: `exact` nothing else;
    `respelt-title` the title's narratives in capitals, without accents or punctuation;
    `no-money` without transactions, budgets and planned disbursements; `partial-transactions`
    only the first half of the transactions (a re-reporter a few quarters behind);
    `implementer` the implementer's own report: its transactions received from the funder
    as incoming funds (1) naming the funder's activity, no other money."""
    root, original = real_activities()[recipe.source]
    activity = etree.fromstring(etree.tostring(original), PARSER)
    activity.find("iati-identifier").text = recipe.identifier  # type: ignore[union-attr]
    reporting = activity.find("reporting-org")
    assert reporting is not None
    reporting.set("ref", recipe.reporter)
    for narrative in reporting.findall("narrative"):
        narrative.text = recipe.reporter_name
    transactions = activity.findall("transaction")
    if recipe.how == "respelt-title":
        for narrative in activity.findall("title/narrative"):
            narrative.text = _respelt(narrative.text or "")
    elif recipe.how == "no-money":
        for element in [*transactions, *activity.findall("budget"),
                        *activity.findall("planned-disbursement")]:
            activity.remove(element)
    elif recipe.how == "partial-transactions":
        for element in transactions[(len(transactions) + 1) // 2:]:
            activity.remove(element)
    elif recipe.how == "implementer":
        _received(activity, transactions, funder=original, funded=recipe.source)
    else:
        assert recipe.how == "exact", recipe.how
    return root, activity


def _respelt(title: str) -> str:
    return " ".join(fold(title).upper().replace("-", " ").replace(",", " ").split())


def _received(
    activity: etree._Element, transactions: list[etree._Element], *, funder: etree._Element,
    funded: str,
) -> None:
    """The transactions turned into the implementer's incoming funds from the funder."""
    funder_org = funder.find("reporting-org")
    assert funder_org is not None
    for element in [*activity.findall("budget"), *activity.findall("planned-disbursement")]:
        activity.remove(element)
    for transaction in transactions:
        kind = transaction.find("transaction-type")
        if kind is None or kind.get("code") not in ("2", "3"):
            activity.remove(transaction)
            continue
        kind.set("code", "1" if kind.get("code") == "3" else "11")
        for side in ("provider-org", "receiver-org"):
            for element in transaction.findall(side):
                transaction.remove(element)
        provider = etree.Element("provider-org", ref=funder_org.get("ref") or "",
                                 **{"provider-activity-id": funded})
        etree.SubElement(provider, "narrative").text = funder_org.findtext("narrative")
        anchor = transaction.find("description")
        if anchor is None:
            anchor = transaction.find("value")
        assert anchor is not None
        anchor.addnext(provider)


def _publisher(engine: Engine, ref: str, name: str) -> Publisher:
    with session_scope(engine, write=True) as session:
        found = find_organisation(session, ref)
        if found is not None and found.id is not None:
            return Publisher(organisation_id=found.id, refs=frozenset([ref]))
    return add_publisher(engine, ref, name=name)


def _push_groups(
    engine: Engine, groups: dict[str, list[tuple[etree._Element, etree._Element]]],
    folder: Path,
) -> dict[str, int]:
    """Each reporting organisation's activities pushed as one file; rejections by ref."""
    rejected: dict[str, int] = {}
    for ref, members in groups.items():
        root = members[0][0]
        document = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
        for _, activity in members:
            document.append(etree.fromstring(etree.tostring(activity), PARSER))
        path = folder / "push.xml"
        etree.ElementTree(document).write(str(path), xml_declaration=True, encoding="utf-8")
        name = members[0][1].findtext("reporting-org/narrative") or ref
        answer = push(engine, _publisher(engine, ref, name), path)
        rejected[ref] = answer.counts.rejected
    return rejected


def _build(engine: Engine, keys: Keys) -> Keys:
    seen = set(real_activities()) & {_identifier(a) for a in _usaid()}
    with tempfile.TemporaryDirectory() as folder:
        for source in CORPUS:
            root = etree.parse(str(_path(source)), PARSER).getroot()
            groups: dict[str, list[tuple[etree._Element, etree._Element]]] = defaultdict(list)
            for activity in root.findall("iati-activity"):
                if _identifier(activity) not in seen:
                    seen.add(_identifier(activity))
                    groups[activity.find("reporting-org").get("ref") or ""].append(  # type: ignore[union-attr]
                        (root, activity))
            _push_groups(engine, groups, Path(folder))
        derived: dict[str, list[tuple[etree._Element, etree._Element]]] = defaultdict(list)
        for recipe in recipes():
            derived[recipe.reporter].append(rereport(recipe))
        rejected = _push_groups(engine, derived, Path(folder))
        assert not any(rejected.values()), rejected
    return keys


def _usaid() -> Iterable[etree._Element]:
    return etree.parse(str(sample(USAID_FILE)), PARSER).getroot().findall("iati-activity")


EVALUATION: Load[Keys] = Load("duplicate-evaluation", _build, base=USAID_AND_EXAMPLES)


@dataclass(frozen=True, slots=True)
class Measured:
    """The report at one threshold against the labels."""

    returned: frozenset[frozenset[str]]  # pairs listed as duplicates
    chains: frozenset[frozenset[str]]  # pairs listed as `chain`
    true_positives: frozenset[frozenset[str]]
    duplicates: int

    @property
    def precision(self) -> float:
        return len(self.true_positives) / len(self.returned) if self.returned else 1.0

    @property
    def recall(self) -> float:
        return len(self.true_positives) / self.duplicates if self.duplicates else 1.0


def measure(pairs: Iterable[dict[str, Any]]) -> Measured:
    """Precision and recall of the report's `pairs` (as the API gives them): every pair
    listed as a duplicate counts, labelled or not; a pair listed as `chain` is not one."""
    wanted = {item.pair for item in labels() if item.label == "duplicate"}
    returned, chains = set(), set()
    for pair in pairs:
        if pair["kind"] == "same-identifier":
            continue
        key = frozenset((pair["a"]["iati_identifier"], pair["b"]["iati_identifier"]))
        (chains if pair["kind"] == "chain" else returned).add(key)
    return Measured(frozenset(returned), frozenset(chains), frozenset(returned & wanted),
                    len(wanted))
