"""Data quality per publisher over HTTP, on SQLite and PostgreSQL, checked against the
real USAID file read independently: pushes and outcomes, findings, timeliness, completeness."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from statistics import median

from lxml import etree
from sqlalchemy import Engine

from iati.elements.activity import Activity
from service.models import KeyScope
from service.services.following import Kept
from service.services.push.storage import ACTIVITY
from service.services.quality import (
    FLAGS,
    OWN_CHECKS,
    _flags,
    headline,
    publisher_quality,
    publishers,
)
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    new_key,
    push,
    set_first_transaction,
    set_reporting_org,
    variant,
)
from tests.support.samples import sample


def _has(activity: Activity) -> dict[str, bool]:
    return {
        "sector": bool(activity.sectors or any(t.sectors for t in activity.transactions)),
        "location": bool(activity.locations),
        "recipient_country_or_region": bool(
            activity.recipient_countries or activity.recipient_regions
            or any(t.recipient_country or t.recipient_region for t in activity.transactions)),
        "transactions": bool(activity.transactions),
        "budget": bool(activity.budgets or activity.planned_disbursements),
        "results": bool(activity.results),
    }


def test_a_publishers_report_counts_what_it_pushed_and_what_its_data_lacks(
    store: Engine, tmp_path: Path, usaid_activities: list[Activity]
) -> None:
    publisher = add_publisher(store, USAID)
    first = push(store, publisher, sample(USAID_EC))
    edited = variant(
        USAID_EC, tmp_path / "second.xml", keep=3,
        a1=set_first_transaction("1", "2001-01-01T00:00:00Z"), a2=set_reporting_org("XX-OTHER"),
    )
    second = push(store, publisher, edited)
    assert (second.counts.stale, second.counts.rejected, second.counts.unchanged) == (1, 1, 1)
    models = usaid_activities
    api = Api(store)
    key = new_key(store, USAID, KeyScope.read)

    answer = api.request("GET", f"/api/v1/publishers/{USAID}/quality", key=key)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["live_activities"] == len(models) == first.counts.created
    assert report["pushes"]["pushes"] == 2
    assert report["pushes"]["outcomes"]["created"] == len(models)
    assert (report["pushes"]["outcomes"]["stale"], report["pushes"]["outcomes"]["rejected"]) \
        == (1, 1)
    assert report["pushes"]["activities_seen"] == len(models) + 3

    refused = [a for a in second.activities if a.outcome.value == "rejected"]
    codes = {f.code for f in refused[0].findings if f.severity in ("critical", "error")}
    assert {r["code"] for r in report["rejections"]} == codes
    warned: Counter[str] = Counter()
    for activity in first.activities:
        warned.update({f.code for f in activity.findings})
    assert report["findings"]
    assert {r["code"]: r["activities"] for r in report["findings"]} == {
        code: count for code, count in warned.items()
        if code in {r["code"] for r in report["findings"]}
    }
    assert report["findings"] == sorted(
        report["findings"], key=lambda r: (-r["activities"], -r["occurrences"], r["code"]))

    for name in ("sector", "location", "recipient_country_or_region", "transactions",
                 "budget", "results"):
        count = sum(_has(model)[name] for model in models)
        share = report["completeness"][name]
        assert share["activities"] == count, name
        assert Decimal(share["percent"]) == (Decimal(count) * 100 / len(models)).quantize(
            Decimal("0.01"))
    today = datetime.now(UTC).date()
    ages = [(today - m.last_updated_datetime.date()).days for m in models
            if m.last_updated_datetime is not None]
    timeliness = report["timeliness"]
    assert Decimal(timeliness["median_days_since_last_updated_datetime"]) == Decimal(
        str(median(ages)))
    assert timeliness["days_since_last_push"] == 0
    assert timeliness["changed_within_days"]["90"] == len(models)


def test_the_overview_and_the_problems(store: Engine) -> None:
    publisher = add_publisher(store, USAID)
    push(store, publisher, sample(USAID_EC))
    add_publisher(store, "XI-EXAMPLE-NONE", name="Never pushed")
    api = Api(store)
    key = new_key(store, USAID, KeyScope.read)
    overview = api.request("GET", "/api/v1/publishers", key=key).json()
    assert [line["organisation"] for line in overview] == [USAID]
    [line] = overview
    assert line["pushes"] == 1
    assert line["live_activities"] > 0
    since = api.request("GET", "/api/v1/publishers", key=key,
                        params={"since": "2999-01-01"}).json()
    assert since[0]["pushes"] == 0
    unknown = api.request("GET", "/api/v1/publishers/XX-NOBODY/quality", key=key)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "quality.unknown-publisher"
    assert api.request("GET", f"/api/v1/publishers/{USAID}/quality").status_code == 401


def test_the_overview_reads_for_every_publisher_what_each_report_says(
    store: Engine, tmp_path: Path
) -> None:
    """The overview's grouped queries give, line by line, the headline of each publisher's
    own report, with and without `since`: two publishers, a refusal, a stale activity and
    one that never pushed."""
    usaid = add_publisher(store, USAID)
    push(store, usaid, sample(USAID_EC))
    push(store, usaid, variant(
        USAID_EC, tmp_path / "second.xml", keep=3,
        a1=set_first_transaction("1", "2001-01-01T00:00:00Z"), a2=set_reporting_org("XX-OTHER"),
    ))
    world_bank = add_publisher(store, "44000", name="World Bank")
    push(store, world_bank, sample("real/worldbank-sv.xml"))
    add_publisher(store, "XI-EXAMPLE-NONE", name="Never pushed")
    api = Api(store)
    key = new_key(store, USAID, KeyScope.read)
    today = datetime.now(UTC).date()
    for since in (None, date(2999, 1, 1)):
        params = {} if since is None else {"since": since.isoformat()}
        answer = api.request("GET", "/api/v1/publishers", key=key, params=params)
        assert answer.status_code == 200, answer.text
        with store.connect() as connection:
            expected = [
                headline(publisher_quality(connection, p, today=today, since=since))
                .model_dump(mode="json")
                for p in publishers(connection)
            ]
        assert answer.json() == expected
        assert [line["organisation"] for line in expected] == [USAID, "44000"]
        assert expected[0]["rejected"] == (1 if since is None else 0)
        assert expected[1]["live_activities"] > 0


def _without_transactions(activity: etree._Element) -> None:
    for transaction in activity.findall("transaction"):
        activity.remove(transaction)
    activity.set("last-updated-datetime", "2030-01-01T00:00:00Z")


def _kept_flags(store: Engine) -> tuple[Kept[tuple[int, tuple[int, ...]]], dict[int, object]]:
    with store.connect() as connection:
        kept = FLAGS.current(connection, None)
        return kept, _flags(connection, [ACTIVITY.c.deleted_at.is_(None)])


def test_the_kept_completeness_flags_follow_each_change(store: Engine, tmp_path: Path) -> None:
    """The flags the overview adds up equal those read afresh after a new version that
    drops its transactions; only that activity is read again."""
    publisher = add_publisher(store, USAID)
    push(store, publisher, sample(USAID_EC))
    first, fresh = _kept_flags(store)
    assert first == fresh
    edited = variant(USAID_EC, tmp_path / "edited.xml", keep=1, a1=_without_transactions)
    assert push(store, publisher, edited).counts.updated == 1
    second, fresh = _kept_flags(store)
    assert second == fresh != first
    [changed] = [i for i in first if second[i] != first[i]]
    transactions = OWN_CHECKS.index("transactions")
    assert (first[changed][1][transactions], second[changed][1][transactions]) == (1, 0)
    assert all(second[i] is first[i] for i in first if i != changed)
