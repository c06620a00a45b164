"""The activity list over HTTP: filters at activity and transaction level, keyset pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from iati.elements.activity import Activity
from service.db import downgrade_database, upgrade_database
from service.services.push.storage import ACTIVITY
from tests.support.loads import example_identifiers
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    every_page,
    identifier_of,
    identifiers,
    push,
    set_first_transaction,
    variant,
)

Loaded = tuple[Api, str, str]


def _all(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    return every_page(api, key, **params)


@pytest.mark.reads_only
def test_paging_through_everything_gives_each_live_activity_once(
    loaded: tuple[Api, str, str], usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    listed = identifiers(_all(api, key, limit=37))
    expected = [a.identifier for a in usaid_models] + example_identifiers()
    assert listed == expected  # stored order
    by_name = identifiers(_all(api, key, limit=50, sort="iati_identifier"))
    assert by_name == sorted(expected)


@pytest.mark.reads_only
def test_a_category_matches_its_codes_at_transaction_level(
    loaded: tuple[Api, str, str], usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded

    def codes(activity: Activity) -> set[str]:
        own = {s.code or "" for s in activity.sectors}
        return own | {s.code or "" for t in activity.transactions for s in t.sectors}

    expected = [a.identifier for a in usaid_models if any(c.startswith("151") for c in codes(a))]
    assert expected
    assert identifiers(_all(api, key, sector="151", reporting_org=USAID)) == expected
    one = sorted(codes(usaid_models[0]))[0]
    with_code = [a.identifier for a in usaid_models if one in codes(a)]
    assert identifiers(_all(api, key, sector=one, reporting_org=USAID)) == with_code


@pytest.mark.reads_only
def test_ecuadors_classifications_filter_through_the_budget_views(
    loaded: tuple[Api, str, str],
) -> None:
    api, key, _ = loaded
    [health, road, gender] = example_identifiers()
    assert identifiers(_all(api, key, province="08")) == [health]
    assert identifiers(_all(api, key, canton="0805")) == [health]
    assert identifiers(_all(api, key, fuente="202")) == [road]
    assert identifiers(_all(api, key, orientacion="01.01")) == [gender]
    assert set(identifiers(_all(api, key, province=["08", "13"]))) == {health, road}
    assert identifiers(_all(api, key, province="13", fuente="701")) == []


@pytest.mark.reads_only
def test_filters_on_organisations_status_and_dates(
    loaded: tuple[Api, str, str], usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    assert len(_all(api, key, reporting_org=USAID)) == len(usaid_models)
    assert identifiers(_all(api, key, reporting_org=["ES-DAC-2", "XI-IATI-IADB"])) == (
        example_identifiers()[:2])
    funders = [a.identifier for a in usaid_models
               if any(o.ref == USAID and o.role == "1" for o in a.participating_orgs)]
    assert identifiers(_all(api, key, participating_org=USAID, participating_role="1",
                     reporting_org=USAID)) == funders
    statuses = {a.activity_status.code for a in usaid_models if a.activity_status}
    status = sorted(statuses)[0]
    assert identifiers(_all(api, key, activity_status=status, reporting_org=USAID)) == [
        a.identifier for a in usaid_models
        if a.activity_status and a.activity_status.code == status
    ]
    assert _all(api, key, recipient_country="PE") == []
    assert _all(api, key, updated_since="2999-01-01T00:00:00Z") == []


def test_pages_stay_whole_while_activities_are_written(
    loaded: tuple[Api, str, str], tmp_path: Path
) -> None:
    api, key, publish = loaded
    first = api.request("GET", "/api/v1/activities", key=key,
                        params={"limit": 100, "sort": "iati_identifier"}).json()
    # Meanwhile: an activity is changed and another deleted, both beyond the first page.
    listed = identifiers(_all(api, key, sort="iati_identifier"))
    later, gone = listed[150], listed[151]
    position = next(n for n in range(1, 251) if identifier_of(USAID_EC, n) == later)
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=position,
                      **{f"a{position}": set_first_transaction("1.00", "2031-01-01T00:00:00Z")})
    api.request("POST", "/api/v1/activities", key=publish, content=changed.read_bytes())
    api.request("DELETE", f"/api/v1/activities/{gone}", key=publish)
    rest = _all(api, key, sort="iati_identifier", cursor=first["next_cursor"])
    assert identifiers(first["activities"]) + identifiers(rest) == [i for i in listed if i != gone]


def test_updated_since_lists_what_changed_from_then_in_every_order(
    loaded: tuple[Api, str, str], store: Engine, tmp_path: Path
) -> None:
    """Two activities changed by a later push and one deleted: `updated_since` the first
    change lists the two live ones, page by page, in each sort order."""
    api, key, publish = loaded
    first, second, gone = (identifier_of(USAID_EC, n) for n in (5, 9, 7))
    changed = variant(USAID_EC, tmp_path / "changed.xml", keep=9,
                      a5=set_first_transaction("1.00", "2031-01-01T00:00:00Z"),
                      a9=set_first_transaction("2.00", "2031-01-02T00:00:00Z"))
    answer = api.request("POST", "/api/v1/activities", key=publish, content=changed.read_bytes())
    assert answer.json()["counts"]["updated"] == 2, answer.text
    assert api.request("DELETE", f"/api/v1/activities/{gone}", key=publish).status_code == 204
    with store.connect() as connection:
        stamps = dict(connection.execute(
            select(ACTIVITY.c.iati_identifier, ACTIVITY.c.updated_at)
            .where(ACTIVITY.c.iati_identifier.in_([first, second]))).all())
    since = min(stamps.values()).isoformat()
    assert identifiers(_all(api, key, updated_since=since, limit=1)) == [first, second]
    by_update = sorted([first, second], key=lambda identifier: stamps[identifier])
    assert identifiers(_all(api, key, updated_since=since, limit=1, sort="updated_at")) == by_update
    assert identifiers(_all(api, key, updated_since=since, limit=1, sort="-updated_at")) == (
        by_update[::-1])
    latest = max(stamps.values()).isoformat()
    assert identifiers(_all(api, key, updated_since=latest)) == [by_update[-1]]


@pytest.mark.reads_only
def test_fields_select_what_comes_back_and_bad_requests_are_problems(
    loaded: tuple[Api, str, str],
) -> None:
    api, key, _ = loaded
    page = api.request("GET", "/api/v1/activities", key=key,
                       params={"fields": "iati_identifier,version", "limit": 2}).json()
    assert [set(row) for row in page["activities"]] == [{"iati_identifier", "version"}] * 2
    spaced = api.request("GET", "/api/v1/activities", key=key,
                         params={"fields": " iati_identifier , version", "limit": 2}).json()
    assert spaced["activities"] == page["activities"]
    # What the document's pattern for `fields` refuses, the list refuses: an unknown field,
    # an empty one, none.
    for refused in ("budget", "iati_identifier,,version", ""):
        unknown = api.request("GET", "/api/v1/activities", key=key, params={"fields": refused})
        assert unknown.status_code == 400, refused
        assert unknown.json()["code"] == "query.unknown-field"
    cursor = page["next_cursor"]
    wrong = api.request("GET", "/api/v1/activities", key=key,
                        params={"cursor": cursor, "sort": "-updated_at"})
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "query.bad-cursor"
    assert api.request("GET", "/api/v1/activities").status_code == 401


@pytest.mark.reads_only
def test_dates_in_queries_are_iso_text_never_a_number_read_as_a_unix_time(
    loaded: tuple[Api, str, str],
) -> None:
    api, key, _ = loaded
    for name, number in (("updated_since", "0.5"), ("start_from", "0"),
                         ("updated_since", "20000101")):
        answer = api.request("GET", "/api/v1/activities", key=key, params={name: number})
        assert answer.status_code == 422, (name, number)
        assert answer.json()["errors"][0]["location"] == f"query/{name}"
    for name, text in (("updated_since", "2000-01-01"), ("updated_since", "2000-01-01T10:00Z"),
                       ("start_from", "2000-01-01")):
        answer = api.request("GET", "/api/v1/activities", key=key, params={name: text})
        assert answer.status_code == 200, (name, text)


def _effective(activity: Activity) -> tuple[date | None, date | None]:
    """The activity's (start, end): actual, else planned; read here from the model."""
    given: dict[str, date] = {}
    for item in activity.activity_dates:
        if item.iso_date is not None and (item.type or "") not in given:
            given[item.type or ""] = date(item.iso_date.year, item.iso_date.month,
                                          item.iso_date.day)
    return given.get("2") or given.get("1"), given.get("4") or given.get("3")


@pytest.mark.reads_only
def test_date_filters_use_the_actual_else_planned_dates_and_overlap_periods(
    loaded: tuple[Api, str, str], usaid_models: list[Activity]
) -> None:
    api, key, _ = loaded
    spans = {a.identifier: _effective(a) for a in usaid_models}
    year_start, year_end = date(2020, 1, 1), date(2020, 12, 31)

    def listed(**params: Any) -> list[str | None]:
        return identifiers(_all(api, key, reporting_org=USAID, **params))

    assert listed(start_from="2020-01-01") == [
        i for i, (start, _) in spans.items() if start is not None and start >= year_start]
    assert listed(end_to="2020-12-31") == [
        i for i, (_, end) in spans.items() if end is not None and end <= year_end]
    overlapping = [
        i for i, (start, end) in spans.items()
        if start is not None and start <= year_end and (end is None or end >= year_start)
    ]
    assert overlapping
    assert listed(active_from="2020-01-01", active_to="2020-12-31") == overlapping
    first = _all(api, key, reporting_org=USAID, fields="iati_identifier,start_date,end_date",
                 limit=1)[0]
    start, end = spans[first["iati_identifier"]]
    assert (first["start_date"], first["end_date"]) == (
        start.isoformat() if start else None, end.isoformat() if end else None)


def test_the_migration_fills_the_dates_of_stored_activities(
    store_url: str, store: Engine, tmp_path: Path, usaid_models: list[Activity]
) -> None:
    publisher = add_publisher(store, USAID)
    push(store, publisher, variant(USAID_EC, tmp_path / "three.xml", keep=3))
    store.dispose()
    downgrade_database(store_url, "0005")
    upgrade_database(store_url)
    with store.connect() as connection:
        found = connection.execute(
            select(ACTIVITY.c.iati_identifier, ACTIVITY.c.start_date, ACTIVITY.c.end_date)
            .order_by(ACTIVITY.c.id)
        ).all()
    assert [(i, s, e) for i, s, e in found] == [
        (a.identifier, *_effective(a)) for a in usaid_models[:3]
    ]
