"""Results against the plan: indicator periods with progress and findings, over HTTP, on
real files, checked against figures computed here from the XML with lxml."""

from __future__ import annotations

import copy
import csv
import io
import re
import statistics
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from iati.reader import read_activities
from mappings.plans import plan_in_force
from service.db import downgrade_database, upgrade_database
from service.models import KeyScope
from service.projection import query_rows
from service.services.query import ActivityFilter
from service.services.results.listing import (
    INDICATOR,
    PERIOD,
    RESULT,
    RESULT_COLUMNS,
    RESULTS,
    ResultFilter,
    ResultRow,
    every_result,
)
from service.services.results.progress import IndicatorRows, PeriodRows, ProgressState, evaluate
from tests.support.databases import Databases, Load
from tests.support.publishing import Api, add_publisher, new_key
from tests.support.samples import EXAMPLES, PARSER, sample
from tests.support.spreadsheets import without_bom

WORLD_BANK = "real/worldbank-sv.xml"  # El Salvador, IATI 2.03: 251 indicators, 7 activities
OFFICIAL = "official/2.03/activity-standard-example-annotated.xml"  # every result element
CANADA = "real/dportal-canada-idrc-denmark-p91.xml"  # descending indicators, N/A actuals
MIXED = "real/dportal-download-mixed-activities.xml"  # one result, two measures; no @version
ARMENIA = "real/adb-armenia.xml"  # the Asian Development Bank's: targets, no actual yet
DOUBTFUL = ("results.progress-out-of-range", "results.ambiguous-comma")
# The worked examples in Ecuador, each given the results of a real activity, so that the
# roll-up meets Ecuador's provinces and plan objectives (no real file with results has any).
GRAFTS = {
    "health-grant-esmeraldas.xml": ("ES-DAC-2", WORLD_BANK, "44000-P178734"),
    "road-loan-development-bank.xml": ("XI-IATI-IADB", WORLD_BANK, "44000-P173872"),
    "gender-programme-policy-marker.xml": ("XM-DAC-41146", OFFICIAL, "AA-AAA-123456789-ABC123"),
}
NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


@dataclass
class Loaded:
    api: Api
    key: str
    xml: dict[str, etree._Element]  # each activity with results, by identifier


def _push_with_results(store: Engine, _base: Any) -> tuple[str, dict[str, etree._Element]]:
    """The World Bank's El Salvador file and the three worked examples with grafted
    results, pushed; a read key and each activity's XML."""
    api = Api(store)
    add_publisher(store, "44000", name="World Bank")
    publish = new_key(store, "44000", KeyScope.publish)
    answer = api.request("POST", "/api/v1/activities", key=publish,
                         content=sample(WORLD_BANK).read_bytes())
    assert answer.json()["counts"]["created"] == 13, answer.text
    xml = {_identifier(a): a for a in _activities(sample(WORLD_BANK))
           if a.find("result") is not None}
    with tempfile.TemporaryDirectory() as folder:
        for file, (ref, source, donor) in GRAFTS.items():
            grafted = _grafted(EXAMPLES / file, _activity(source, donor), Path(folder) / file)
            add_publisher(store, ref, name=ref)
            key = new_key(store, ref, KeyScope.publish)
            answer = api.request("POST", "/api/v1/activities", key=key,
                                 content=grafted.read_bytes())
            assert answer.json()["counts"]["created"] == 1, answer.text
            [activity] = _activities(grafted)
            xml[_identifier(activity)] = activity
    return new_key(store, "44000", KeyScope.read), xml


WITH_RESULTS = Load("world-bank-and-grafted-examples", _push_with_results)


@pytest.fixture
def loaded(databases: Databases) -> Iterator[Loaded]:
    """The World Bank's El Salvador file and the worked examples with grafted results, in a
    database of the test's own; the API, a read key and each activity's XML (read only)."""
    made = databases.copy(WITH_RESULTS)
    try:
        key, xml = made.value
        yield Loaded(Api(made.engine), key, xml)
    finally:
        databases.drop(made)


def _activities(path: Path) -> list[etree._Element]:
    return etree.parse(str(path), PARSER).getroot().findall("iati-activity")


def _identifier(activity: etree._Element) -> str:
    return str(activity.findtext("iati-identifier")).strip()


def _activity(source: str, identifier: str) -> etree._Element:
    [found] = [a for a in _activities(sample(source)) if _identifier(a) == identifier]
    return found


def _grafted(example: Path, donor: etree._Element, target: Path) -> Path:
    """`example` with the results of `donor` added (results are the last elements here)."""
    tree = etree.parse(str(example), PARSER)
    activity = tree.getroot().find("iati-activity")
    assert activity is not None
    for result in donor.findall("result"):
        activity.append(copy.deepcopy(result))
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def _pages(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        asked = {**params, **({"cursor": cursor} if cursor else {})}
        answer = api.request("GET", "/api/v1/results", key=key, params=asked)
        assert answer.status_code == 200, answer.text
        found += answer.json()["results"]
        if (cursor := answer.json()["next_cursor"]) is None:
            return found


# What the XML says, computed here --------------------------------------------------------


def _number(text: str | None) -> Decimal | None:
    spelt = (text or "").strip().removesuffix("%").strip()
    return Decimal(spelt.replace(",", "")) if NUMBER.fullmatch(spelt) else None


def _plain(elements: list[etree._Element]) -> list[etree._Element]:
    return [e for e in elements if e.find("dimension") is None and e.find("location") is None]


def _one(elements: list[etree._Element]) -> str | None:
    plain = _plain(elements)
    chosen = plain if len(plain) == 1 else elements if len(elements) == 1 else []
    return chosen[0].get("value") if chosen else None


def _expected_periods(activity: etree._Element) -> Iterator[dict[str, Any]]:
    """Each period of `activity` as the results list should give it."""
    for r, result in enumerate(activity.findall("result"), start=1):
        for i, indicator in enumerate(result.findall("indicator"), start=1):
            for p, period in enumerate(indicator.findall("period"), start=1):
                yield _expected(indicator, period) | {
                    "iati_identifier": _identifier(activity), "result_position": r,
                    "indicator_position": i, "period_position": p,
                }


def _expected(indicator: etree._Element, period: etree._Element) -> dict[str, Any]:
    start = date.fromisoformat(period.find("period-start").get("iso-date"))
    dated = [(date.fromisoformat(b.get("iso-date")) if b.get("iso-date")
              else date(int(b.get("year")), 1, 1), b)
             for b in _plain(indicator.findall("baseline")) or indicator.findall("baseline")]
    before = sorted((d, n, b) for n, (d, b) in enumerate(dated) if d <= start)
    baseline = before[-1][2].get("value") if before else None
    target, actual = _one(period.findall("target")), _one(period.findall("actual"))
    progress = None
    quantitative = indicator.get("measure") in ("1", "2", "3")
    t, a, b = _number(target), _number(actual), _number(baseline)
    if quantitative and t is not None and a is not None:
        if b is not None and b != t:
            progress = (a - b) * 100 / (t - b)
        elif indicator.get("ascending") in ("0", "false"):
            progress = t * 100 / a if a else None
        else:
            progress = a * 100 / t if t else None
    if progress is not None:
        progress = progress.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) + 0
    return {
        "baseline_value": baseline, "target_value": target, "actual_value": actual,
        "target": t if quantitative else None, "actual": a if quantitative else None,
        "progress": progress,
    }


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """The listed row in the terms of `_expected_periods`."""
    def number(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    keys = ("iati_identifier", "result_position", "indicator_position", "period_position",
            "baseline_value", "target_value", "actual_value")
    return {key: row[key] for key in keys} | {
        "target": number(row["target"]), "actual": number(row["actual"]),
        "progress": number(row["progress_percent"]),
    }


# The list ---------------------------------------------------------------------------------


def test_every_period_is_listed_with_the_progress_the_xml_gives(loaded: Loaded) -> None:
    listed = [_shown(row) for row in _pages(loaded.api, loaded.key, limit=1000)]
    expected = [row for activity in loaded.xml.values() for row in _expected_periods(activity)]
    assert len(listed) == len(expected) == 251 + 11 + 10 + 1
    assert listed == expected  # stored order: activity, result, indicator, period
    measurable = [row for row in listed if row["progress"] is not None]
    assert len(measurable) > 200
    assert any(row["progress"] < 0 for row in measurable)  # actuals below the baseline
    # Qualitative values are text only.
    yes_no = [row for row in listed if row["target_value"] == "Yes"]
    assert yes_no
    assert all(row["target"] is None and row["progress"] is None for row in yes_no)


def test_a_baseline_equal_to_the_target_gives_actual_over_target(loaded: Loaded) -> None:
    [row] = _pages(loaded.api, loaded.key, reporting_org="XM-DAC-41146")
    official = _activity(OFFICIAL, "AA-AAA-123456789-ABC123")
    indicator = official.find("result/indicator")
    assert row["indicator_title"] == indicator.findtext("title/narrative")
    baseline, period = indicator.find("baseline"), indicator.find("period")
    assert row["baseline_value"] == baseline.get("value") == period.find("target").get("value")
    # The official example's target and actual carry a dimension and locations; each is
    # the period's only one, so it is the period's value.
    assert Decimal(row["progress_percent"]) == (
        Decimal(period.find("actual").get("value")) * 100 / Decimal(baseline.get("value"))
    ).quantize(Decimal("0.1"))
    assert row["targets"][0]["dimensions"] == [
        {"name": d.get("name"), "value": d.get("value")}
        for d in period.find("target").findall("dimension")
    ]
    assert row["baseline_year"] == int(baseline.get("year"))


def test_pages_filters_and_a_bad_cursor(loaded: Loaded) -> None:
    api, key = loaded.api, loaded.key
    everything = _pages(api, key, limit=1000)
    assert _pages(api, key, limit=17) == everything
    percentages = _pages(api, key, measure="2")
    assert percentages == [row for row in everything if row["measure"] == "2"]
    esmeraldas = _pages(api, key, province="08")
    assert {row["iati_identifier"] for row in esmeraldas} == {"ES-DAC-2-EJEMPLO-SALUD-ESMERALDAS"}
    assert len(esmeraldas) == 11
    late = _pages(api, key, period_from="2029-01-01")
    assert late == [row for row in everything
                    if row["period_end"] is None or row["period_end"] >= "2029-01-01"]
    answer = api.request("GET", "/api/v1/results", key=key, params={"cursor": "nonsense"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "query.bad-cursor"
    assert api.request("GET", "/api/v1/results").status_code == 401


def test_findings_on_the_real_cases(loaded: Loaded) -> None:
    listed = _pages(loaded.api, loaded.key, limit=1000)

    def found(code: str) -> set[tuple[str, int, int, int | None, str | None]]:
        return {(row["iati_identifier"], f["result"], f["indicator"], f["period"], f["actual"])
                for row in listed for f in row["findings"] if f["code"] == code}

    # Values of quantitative indicators that are not numbers ("72,0000", "8,386413").
    spelt = {
        (_identifier(a), r, i, p, value)
        for a in loaded.xml.values()
        for r, result in enumerate(a.findall("result"), start=1)
        for i, indicator in enumerate(result.findall("indicator"), start=1)
        if indicator.get("measure") in ("1", "2", "3")
        for p, period in enumerate(indicator.findall("period"), start=1)
        for value in (_one(period.findall("target")), _one(period.findall("actual")),
                      *(b.get("value") for b in indicator.findall("baseline")))
        if value and _number(value) is None
    }
    assert ("44000-P178734", 6, 1, 1, "72,0000") in spelt
    assert found("results.not-a-number") == spelt
    # Periods ended with a target and no actual, as the XML shows them.
    today = date.today()
    ended = {
        (_identifier(a), r, i, p, period.find("period-end").get("iso-date"))
        for a in loaded.xml.values()
        for r, result in enumerate(a.findall("result"), start=1)
        for i, indicator in enumerate(result.findall("indicator"), start=1)
        for p, period in enumerate(indicator.findall("period"), start=1)
        if date.fromisoformat(period.find("period-end").get("iso-date")) < today
        and _one(period.findall("target")) and not _one(period.findall("actual"))
    }
    assert found("results.target-without-actual") == ended
    # Quantitative indicators without a baseline value.
    missing = {
        (_identifier(a), r, i, None, None)
        for a in loaded.xml.values()
        for r, result in enumerate(a.findall("result"), start=1)
        for i, indicator in enumerate(result.findall("indicator"), start=1)
        if indicator.get("measure") in ("1", "2", "3")
        and not any(b.get("value") for b in indicator.findall("baseline"))
    }
    assert {(*f[:4], None) for f in found("results.no-baseline")} == missing
    # "88.8%" beside numbers without a unit in one indicator.
    unit = [f for f in found("results.unit-changed") if f[0] == "44000-P169125"]
    assert unit
    for identifier, r, i, _, _ in unit:
        indicator = loaded.xml[identifier].findall("result")[r - 1].findall("indicator")[i - 1]
        values = [e.get("value") for e in indicator.iter("baseline", "target", "actual")]
        spelt = {v.strip().endswith("%") for v in values if _number(v) is not None}
        assert spelt == {True, False}


ONE_COMMA = re.compile(r"\d{1,3},\d{3}")  # no decimal point: the comma could be one


def test_a_comma_that_could_be_a_decimal_one_is_doubted_and_left_out_of_the_mean(
    loaded: Loaded,
) -> None:
    """The World Bank's "15,821" against a baseline of 18.50 and a target of 5.10 (15.821,
    a decimal comma, is 20 % of the way) read as fifteen thousand gave −117,929.1 % with no
    finding and dragged the World Bank's mean progress to −1,580 %. Its other values with
    one comma and three digits sit beside numbers of their scale ("23,152" beside a target
    of "20,000.00"), or give the same progress either way ("9,000" with an actual of 0)."""
    rows = _pages(loaded.api, loaded.key, reporting_org="44000", limit=1000)

    def codes(row: dict[str, Any]) -> set[str]:
        return {f["code"] for f in row["findings"]}

    doubted = [row for row in rows if codes(row) & set(DOUBTFUL)]
    assert [(row["actual_value"], row["progress_percent"], row["in_means"]) for row in doubted
            ] == [("15,821", "-117929.1", False)] * 3
    assert all(codes(row) >= set(DOUBTFUL) for row in doubted)
    [comma] = [f for f in doubted[0]["findings"] if f["code"] == "results.ambiguous-comma"]
    assert comma["actual"] == (
        "'15,821' read as 15821 gives -117929.1 %, read as 15.821 gives 20.0 %")
    spelt = [value.strip() for a in loaded.xml.values() if _identifier(a).startswith("44000")
             for e in a.iter("baseline", "target", "actual")
             if ONE_COMMA.fullmatch(value := (e.get("value") or "").strip())]
    assert len(spelt) == 24  # "9,000", "23,152", "227,601", …: only "15,821" is doubted

    [group] = _summary(loaded, group_by="reporting_org", reporting_org="44000")["groups"]
    kept = [Decimal(row["progress_percent"]) for row in rows
            if row["progress_percent"] is not None and row not in doubted]
    every = [*kept, *(Decimal(row["progress_percent"]) for row in doubted)]
    assert (group["measurable_periods"], group["left_out_of_mean"]) == (len(every), 3)
    assert Decimal(group["mean_progress_percent"]) == _mean(kept)
    assert Decimal(group["mean_progress_percent"]) > 0  # −1,579.8 with them
    assert Decimal(group["median_progress_percent"]) == _median(every)  # medians keep them
    assert group["findings"]["results.ambiguous-comma"] == 3


def _mean(progress: list[Decimal]) -> Decimal:
    return (sum(progress) / len(progress)).quantize(Decimal("0.1"), ROUND_HALF_UP) + 0


def _median(progress: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(progress)).quantize(Decimal("0.1"), ROUND_HALF_UP) + 0


def test_targets_without_actuals_have_no_progress_report_not_a_failure(loaded: Loaded) -> None:
    """The World Bank's two periods with a target and no actual are counted as having no
    progress report, with their indicators; neither on track nor measured. The Asian
    Development Bank's Armenian file has only such periods."""
    rows = _pages(loaded.api, loaded.key, reporting_org="44000", limit=1000)
    unreported = [row for row in rows if row["target_value"] and not row["actual_value"]]
    assert len(unreported) == 2
    assert {row["progress_state"] for row in unreported} == {"no-progress-report"}
    assert all(row["on_track"] is None and not row["in_means"] for row in unreported)
    assert {row["progress_state"] for row in rows if row not in unreported} == {
        "measured", "not-measurable"}
    [group] = _summary(loaded, group_by="reporting_org", reporting_org="44000")["groups"]
    assert (group["no_progress_report_periods"], group["no_progress_report_indicators"]) == (2, 2)
    assert group["measurable_periods"] + 2 <= group["periods"]

    states = [period.state for record in read_activities(sample(ARMENIA))
              for period in _evaluated(record.model).values()]
    assert states == [ProgressState.no_progress_report] * 27


def test_files_the_push_refuses_still_follow_the_rule() -> None:
    """Canada's IDRC file (codelist errors): every period, "N/A" actuals included."""
    checked = 0
    for record in read_activities(sample(CANADA)):
        activity = _activity(CANADA, record.model.identifier or "")
        expected = {(e["result_position"], e["indicator_position"], e["period_position"]):
                    e["progress"] for e in _expected_periods(activity)}
        for key, period in _evaluated(record.model).items():
            assert period.progress_percent == expected[key], (record.model.identifier, key)
            checked += 1
    assert checked == etree.parse(str(sample(CANADA)), PARSER).xpath("count(//period)")
    # Indicators titled alike in different results are not compared (AfDB titles its
    # indicators "Number", with measure 1 in one result and 2 in another).
    [mixed] = [r.model for r in read_activities(sample(MIXED), unknown_version="assume-latest")
               if r.model.identifier == "46002-P-GN-IBE-002"]
    codes = {f.code for period in _evaluated(mixed).values() for f in period.findings}
    assert "results.unit-changed" not in codes


@pytest.mark.parametrize("baselines", [True, False])
def test_descending_indicators_lower_is_better(baselines: bool) -> None:
    """No real file has a descending indicator with numbers (Canada's have no values): the
    World Bank's indicators published again with ``ascending="0"`` (and without their
    baselines), whose progress must follow the rule for lower-is-better."""
    compared = measurable = doubted = 0
    for activity in _activities(sample(WORLD_BANK)):
        for indicator in activity.iter("indicator"):
            indicator.set("ascending", "0")
            for baseline in [] if baselines else indicator.findall("baseline"):
                indicator.remove(baseline)
        if activity.find("result") is None:
            continue
        expected = {(e["result_position"], e["indicator_position"], e["period_position"]):
                    e["progress"] for e in _expected_periods(activity)}
        [model] = [r.model for r in read_activities(_document(activity))]
        for key, period in _evaluated(model).items():
            assert period.progress_percent == expected[key], (_identifier(activity), key)
            compared += 1
            measurable += period.progress_percent is not None
            beyond = period.progress_percent is not None and abs(period.progress_percent) > 1000
            out_of_range = [f for f in period.findings
                            if f.code == "results.progress-out-of-range"]
            assert len(out_of_range) == beyond, (_identifier(activity), key)
            doubted += beyond
    assert compared == 251
    assert measurable > (200 if baselines else 50)  # without baselines, a 0 actual divides
    # "15,821" below; without baselines, targets in millions over actuals without a comma.
    assert doubted == 3


def test_one_indicator_repeated_in_its_result_with_another_measure_is_a_unit_change() -> None:
    """No real file shows it: the official example's indicator, published again in the
    same result as a percentage."""
    activity = copy.deepcopy(_activity(OFFICIAL, "AA-AAA-123456789-ABC123"))
    indicator = activity.find("result/indicator")
    again = copy.deepcopy(indicator)
    again.set("measure", "2")
    indicator.addnext(again)
    [model] = [r.model for r in read_activities(_document(activity))]
    findings = {(f.code, f.indicator, f.actual) for p in _evaluated(model).values()
                for f in p.findings}
    assert ("results.unit-changed", 1, "measure 1 here, 2 in an indicator of the same result "
            "with the same title or reference") in findings
    assert {(code, number) for code, number, _ in findings} >= {
        ("results.unit-changed", 1), ("results.unit-changed", 2)}


def _document(activity: etree._Element) -> bytes:
    root = etree.Element("iati-activities", version="2.03")
    root.append(activity)
    return etree.tostring(root)


def _evaluated(model: Any) -> dict[tuple[int, int, int], Any]:
    rows = query_rows(model)
    periods: dict[int, list[PeriodRows]] = {}
    for row in rows.indicator_periods:
        periods.setdefault(row["indicator_id"].index, []).append(PeriodRows(
            row["position"], row["period_start"], row["period_end"], row["targets"],
            row["actuals"]))
    indicators = [
        (row["result_id"].index, IndicatorRows(
            result=rows.results[row["result_id"].index]["position"], position=row["position"],
            measure=row["measure"], ascending=row["ascending"], title=row["title"],
            reference_codes=row["reference_codes"], baselines=row["baselines"],
            periods=periods.get(n, [])))
        for n, row in enumerate(rows.indicators)
    ]
    found = {}
    for owner, indicator in indicators:
        siblings = [other for o, other in indicators if o == owner and other is not indicator]
        for period in evaluate(indicator, today=date.today(), siblings=siblings):
            found[indicator.result, indicator.position, period.position] = period
    return found


def test_csv_gives_every_row_with_one_header(loaded: Loaded) -> None:
    as_json = _pages(loaded.api, loaded.key, limit=1000)
    answer = loaded.api.request("GET", "/api/v1/results", key=loaded.key,
                                params={"format": "csv", "limit": 1})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(without_bom(answer.text))))
    assert tuple(rows[0]) == RESULT_COLUMNS
    assert len(rows) == len(as_json)
    for row, shown in zip(rows, as_json, strict=True):
        assert row["iati_identifier"] == shown["iati_identifier"]
        assert row["progress_percent"] == (shown["progress_percent"] or "")
        assert row["findings"] == ";".join(f["code"] for f in shown["findings"])


# The roll-up ------------------------------------------------------------------------------


def _summary(loaded: Loaded, **params: Any) -> dict[str, Any]:
    answer = loaded.api.request("GET", "/api/v1/results/summary", key=loaded.key, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("group_by", ["reporting_org", "sector", "province", "plan_objective"])
def test_each_group_reconciles_with_the_rows_of_its_activities(
    loaded: Loaded, group_by: str
) -> None:
    rows = _pages(loaded.api, loaded.key, limit=1000)
    groups = _summary(loaded, group_by=group_by)["groups"]
    assert {i for g in groups for i in g["iati_identifiers"]} == loaded.xml.keys()
    for group in groups:
        mine = _members(group, groups, rows) if group_by == "plan_objective" else [
            row for row in rows if row["iati_identifier"] in group["iati_identifiers"]]
        progress = [Decimal(r["progress_percent"]) for r in mine if r["progress_percent"]]
        believed = [Decimal(r["progress_percent"]) for r in mine if r["progress_percent"]
                    and not {f["code"] for f in r["findings"]} & set(DOUBTFUL)]
        assert group["activities"] == len(group["iati_identifiers"])
        assert group["periods"] == len(mine)
        assert group["measurable_periods"] == len(progress)
        assert group["left_out_of_mean"] == len(progress) - len(believed)
        assert group["on_track_periods"] == sum(1 for p in progress if p >= 100)
        assert group["no_progress_report_periods"] == sum(
            1 for r in mine if r["target_value"] and not r["actual_value"])
        if believed:
            assert Decimal(group["mean_progress_percent"]) == _mean(believed)
            assert Decimal(group["median_progress_percent"]) == _median(progress)
    if group_by in ("reporting_org", "plan_objective"):
        assert sum(g["periods"] for g in groups) == len(rows)  # no overlap here


def _members(group: dict[str, Any], groups: list[dict[str, Any]],
             rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An objective's periods: those of its activities dated in its plan's force; the null
    group's: those of its activities in no objective's."""
    def dated(objective: dict[str, Any]) -> list[dict[str, Any]]:
        plan = objective["code"].split("/")[0]
        return [row for row in rows if row["iati_identifier"] in objective["iati_identifiers"]
                and _plan(row) == plan]

    if group["code"] is not None:
        return dated(group)
    placed = [_position(row) for g in groups if g["code"] is not None for row in dated(g)]
    return [row for row in rows if row["iati_identifier"] in group["iati_identifiers"]
            and _position(row) not in placed]


def _plan(row: dict[str, Any]) -> str | None:
    """The plan in force on the period's end (else start), if there is one."""
    plan = plan_in_force(date.fromisoformat(row["period_end"] or row["period_start"]))
    return plan.code if plan else None


def test_provinces_and_plan_objectives_come_from_the_budget_views(loaded: Loaded) -> None:
    provinces = {g["code"]: g for g in _summary(loaded, group_by="province")["groups"]}
    assert provinces["08"]["iati_identifiers"] == ["ES-DAC-2-EJEMPLO-SALUD-ESMERALDAS"]
    assert provinces["08"]["periods"] == 11
    # The El Salvador activities have no money in Ecuador: no province, no plan objective.
    salvador = {i for i in loaded.xml if i.startswith("44000")}
    assert set(provinces[None]["iati_identifiers"]) >= salvador
    objectives = _summary(loaded, group_by="plan_objective")["groups"]
    coded = [g for g in objectives if g["code"] is not None]
    assert coded
    assert {i for g in coded for i in g["iati_identifiers"]} <= loaded.xml.keys() - salvador
    filtered = _summary(loaded, group_by="reporting_org", province="08")["groups"]
    assert [g["code"] for g in filtered] == ["ES-DAC-2"]


def test_periods_count_under_the_plan_in_force_on_their_date(loaded: Loaded) -> None:
    """The road loan's view puts money in objectives of two plans (PND 2021–2025, then PND
    2024–2025); its periods all end on 2024-06-30, under the second. The Esmeraldas grant's
    end in 2029, under PND 2025–2029, whose objectives are not loaded; the gender
    programme's in 2013, before any plan: neither counts under an objective."""
    road, esmeraldas, gender = (
        "XI-IATI-IADB-EJEMPLO-VIAL-MANABI", "ES-DAC-2-EJEMPLO-SALUD-ESMERALDAS",
        "XM-DAC-41146-EJEMPLO-GENERO-PICHINCHA")
    answer = loaded.api.request("GET", "/api/v1/exports/budget.csv", key=loaded.key, params={
        "classification": "plan_objective", "reporting_org": "XI-IATI-IADB"})
    viewed = {row["code"] for row in csv.DictReader(io.StringIO(without_bom(answer.text)))
              if row["iati_identifier"] == road}
    assert viewed == {"PND-2021-2025/2", "PND-2024-2025/8"}
    groups = {g["code"]: g for g in _summary(loaded, group_by="plan_objective")["groups"]}
    assert set(groups) == {"PND-2024-2025/8", None}
    assert groups["PND-2024-2025/8"]["iati_identifiers"] == [road]
    assert groups["PND-2024-2025/8"]["periods"] == 10
    assert {esmeraldas, gender} <= set(groups[None]["iati_identifiers"])
    assert road not in groups[None]["iati_identifiers"]


# Kept periods -----------------------------------------------------------------------------


def _listed(store: Engine, day: date) -> list[dict[str, Any]]:
    return sorted((r.model_dump() for r in every_result(
        store, ActivityFilter(), ResultFilter(), today=day)), key=_position)


def _kept(store: Engine, day: date) -> dict[int, list[ResultRow]]:
    with store.connect() as connection:
        return RESULTS.current(connection, day)


def _flat(kept: dict[int, list[ResultRow]]) -> list[dict[str, Any]]:
    return sorted((r.model_dump() for rows in kept.values() for r in rows), key=_position)


def _position(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["iati_identifier"], row["result_position"], row["indicator_position"],
            row["period_position"])


def test_the_kept_periods_follow_each_change_and_the_day(loaded: Loaded, store: Engine) -> None:
    """The periods the summary reads are those the list gives, after a new version (one
    result fewer) and a deletion; only the changed activities are evaluated again."""
    day = date(2024, 6, 30)
    first = _kept(store, day)
    assert _flat(first) == _listed(store, day)
    assert {rows[0].iati_identifier for rows in first.values()} == loaded.xml.keys()
    changed, deleted = sorted(i for i in loaded.xml if i.startswith("44000"))[:2]
    activity = copy.deepcopy(loaded.xml[changed])
    activity.remove(activity.findall("result")[-1])
    publish = new_key(store, "44000", KeyScope.publish)
    answer = loaded.api.request("POST", "/api/v1/activities", key=publish,
                                content=_document(activity))
    assert answer.json()["counts"]["updated"] == 1, answer.text
    answer = loaded.api.request("DELETE", f"/api/v1/activities/{deleted}", key=publish)
    assert answer.status_code == 204, answer.text

    second = _kept(store, day)
    assert _flat(second) == _listed(store, day) != _flat(first)
    by_identifier = {rows[0].iati_identifier: (i, rows) for i, rows in second.items()}
    assert deleted not in by_identifier
    assert len(by_identifier[changed][1]) < len(first[by_identifier[changed][0]])
    assert all(rows is first[i] for i, rows in second.items()
               if rows[0].iati_identifier != changed)
    later = _kept(store, date(2030, 1, 1))  # another day: every period evaluated again
    assert _flat(later) == _listed(store, date(2030, 1, 1))
    assert not any(rows is second[i] for i, rows in later.items())


# The migration ----------------------------------------------------------------------------


def test_the_migration_fills_the_result_model_of_stored_activities(
    store_url: str, loaded: Loaded, store: Engine
) -> None:
    def stored() -> list[Any]:
        with store.connect() as connection:
            return [
                connection.execute(select(*(c for c in table.c if c.name != "id"))
                                   .order_by(table.c.id)).all()
                for table in (RESULT, INDICATOR, PERIOD)
            ]

    before = stored()
    assert any(row.baselines and row.baselines[0].get("dimensions") for row in before[1])
    store.dispose()
    downgrade_database(store_url, "0008")
    upgrade_database(store_url)
    assert stored() == before
