"""Numbers beyond what the database columns hold get a problem (422 or 404), never a 500,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from service.models import KeyScope
from tests.support.publishing import Api, add_publisher, new_key

HUGE = "99999999999999999999"  # beyond 64 bits
BEYOND_INT32 = "2147483648"


@pytest.fixture
def keys(store: Engine) -> dict[str, str]:
    add_publisher(store, "US-GOV-1")
    return {"admin": new_key(store, "US-GOV-1", KeyScope.admin),
            "read": new_key(store, "US-GOV-1", KeyScope.read)}


@pytest.mark.parametrize(("method", "path", "params", "scope"), [
    ("GET", "/api/v1/changes", {"since": HUGE}, "read"),
    ("GET", f"/api/v1/activities/US-GOV-1-A/versions/{HUGE}", {}, "read"),
    ("GET", f"/api/v1/activities/US-GOV-1-A/versions/{BEYOND_INT32}", {}, "read"),
    ("GET", f"/api/v1/webhooks/{HUGE}", {}, "admin"),
    ("GET", f"/api/v1/webhooks/{BEYOND_INT32}", {}, "admin"),
    ("DELETE", f"/api/v1/webhooks/{BEYOND_INT32}", {}, "admin"),
    ("GET", f"/api/v1/webhooks/{BEYOND_INT32}/deliveries", {"before": HUGE}, "admin"),
    ("POST", f"/api/v1/webhooks/{HUGE}/replay", {"since": "0"}, "admin"),
    ("POST", "/api/v1/webhooks/1/replay", {"since": HUGE}, "admin"),
    ("GET", "/api/v1/organisations", {"offset": HUGE}, "read"),
    ("GET", "/api/v1/exports/budget.csv", {"year": HUGE}, "read"),
])
def test_a_number_too_large_for_its_column_is_a_422_problem(
    store: Engine, keys: dict[str, str], method: str, path: str, params: dict[str, str],
    scope: str,
) -> None:
    answer = Api(store).request(method, path, key=keys[scope], params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("named", [HUGE, BEYOND_INT32])
def test_an_organisation_named_by_a_huge_number_is_not_found(
    store: Engine, keys: dict[str, str], named: str
) -> None:
    answer = Api(store).request("GET", f"/api/v1/organisations/{named}", key=keys["read"])
    assert answer.status_code == 404, answer.text
