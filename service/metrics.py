"""Prometheus metrics at `/metrics`: the HTTP requests each process answered, by route, and
the store's own figures, read from the database at each scrape.

Requests are counted in the process that answered them. With several worker processes
(`iati-ec serve --workers N`), `PROMETHEUS_MULTIPROC_DIR` names a folder they all write to
(`serve` makes one when it is not set), and any worker's `/metrics` adds them all up. The
store's figures (activities, pushes and their outcomes, webhook deliveries, sync sources,
the database's size, the change feed's head) come from the database, which every process
shares, so they are the same whichever worker answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine, text

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter(
    "iati_ec_http_requests", "HTTP requests answered, by method, route and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "iati_ec_http_request_duration_seconds", "Time to answer an HTTP request, by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)

def observe(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request by its route's template (`unmatched` for a path no route
    has), never by its path: identifiers never become labels."""
    template = route or "unmatched"
    REQUESTS.labels(method, template, str(status)).inc()
    LATENCY.labels(method, template).observe(seconds)


class StoreMetrics:
    """The store's figures, read when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as connection:
            def rows(sql: str) -> list[Any]:
                return list(connection.execute(text(sql)))

            yield _family("iati_ec_activities", "Activities stored, live or deleted", "state",
                          rows("SELECT CASE WHEN deleted_at IS NULL THEN 'live' ELSE "
                               "'deleted' END, count(*) FROM activity GROUP BY 1"))
            yield _family("iati_ec_pushes", "Pushes, by status", "status",
                          rows("SELECT status, count(*) FROM push GROUP BY status"))
            totals = rows("SELECT sum(created), sum(updated), sum(unchanged), sum(stale), "
                          "sum(rejected), sum(deleted) FROM push")[0]
            outcomes = ("created", "updated", "unchanged", "stale", "rejected", "deleted")
            yield _family("iati_ec_push_outcomes", "Activities pushed, by outcome, over all "
                          "pushes", "outcome", zip(outcomes, totals, strict=True))
            yield _family("iati_ec_webhook_deliveries", "Webhook delivery attempts, by "
                          "outcome", "outcome",
                          rows("SELECT outcome, count(*) FROM webhook_delivery GROUP BY outcome"))
            yield _gauge("iati_ec_webhooks_failing", "Webhooks whose last delivery failed",
                         rows("SELECT count(*) FROM webhook WHERE consecutive_failures > 0"))
            yield _family("iati_ec_sync_sources", "Sync sources, by the status of their last "
                          "sync", "status",
                          rows("SELECT coalesce(status, 'never'), count(*) FROM sync_source "
                               "GROUP BY 1"))
            yield _gauge("iati_ec_change_feed_head", "The last change's sequence number",
                         rows("SELECT coalesce(max(value), 0) FROM change_counter"))
            yield _gauge("iati_ec_database_bytes", "The database's size on disk",
                         rows(_SIZE[connection.dialect.name]))


_SIZE = {
    "sqlite": "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
    "postgresql": "SELECT pg_database_size(current_database())",
}


def _family(name: str, documentation: str, label: str, values: Any) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values:
        family.add_metric([str(key)], float(value or 0))
    return family


def _gauge(name: str, documentation: str, found: list[Any]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(found[0][0] or 0))


def exposition(engine: Engine) -> bytes:
    """What `/metrics` answers: every process's requests, then the store's figures."""
    if os.environ.get(MULTIPROCESS):
        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)  # type: ignore[no-untyped-call]
    else:
        requests = REGISTRY
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreMetrics(engine))
    return generate_latest(requests) + generate_latest(store)
