"""`/metrics`: requests by route, added up over worker processes, and the store's figures
as the database has them, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from service.models import KeyScope
from tests.support.publishing import USAID, USAID_EC, Api, add_publisher, new_key, variant
from tests.support.serving import serving


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Each sample of a Prometheus text answer, by name and labels."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def requests(found: dict[tuple[str, frozenset[tuple[str, str]]], float], route: str,
             status: str) -> float:
    return sum(value for (name, labels), value in found.items()
               if name == "iati_ec_http_requests_total" and ("route", route) in labels
               and ("status", status) in labels)


def test_metrics_count_requests_by_route_and_read_the_store(
    store: Engine, tmp_path: Path
) -> None:
    api = Api(store)
    add_publisher(store, USAID)
    key = new_key(store, USAID, KeyScope.publish)
    five = variant(USAID_EC, tmp_path / "five.xml", keep=5)
    assert api.request("POST", "/api/v1/activities", key=key,
                       content=five.read_bytes()).status_code == 200
    before = samples(api.request("GET", "/metrics").text)
    for _ in range(3):
        api.request("GET", "/api/v1/activity", params={"iati_identifier": "x"})  # 401
    answer = api.request("GET", "/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    after = samples(answer.text)
    counted = requests(after, "/api/v1/activity", "401") - requests(before, "/api/v1/activity",
                                                                      "401")
    assert counted == 3  # by the route's template: no identifier becomes a label
    with store.connect() as connection:
        live = connection.execute(text(
            "SELECT count(*) FROM activity WHERE deleted_at IS NULL")).scalar_one()
        created = connection.execute(text("SELECT sum(created) FROM push")).scalar_one()
    assert after[("iati_ec_activities", frozenset({("state", "live")}))] == live
    assert after[("iati_ec_push_outcomes", frozenset({("outcome", "created")}))] == created
    assert after[("iati_ec_pushes", frozenset({("status", "completed")}))] >= 1
    assert after[("iati_ec_change_feed_head", frozenset())] >= 5
    assert after[("iati_ec_database_bytes", frozenset())] > 0


def test_several_workers_report_every_request_whichever_answers(tmp_path: Path) -> None:
    with serving(tmp_path, arguments=["--workers", "2"], start_seconds=90) as base:
        for _ in range(30):  # a new connection each, shared out among the workers
            assert httpx.get(f"{base}/api/v1/changes", timeout=10).status_code == 401
        scraped = {requests(samples(httpx.get(f"{base}/metrics", timeout=10).text),
                            "/api/v1/changes", "401") for _ in range(6)}
    assert scraped == {30}
