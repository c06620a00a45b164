"""Settings every test process starts with, and the fixtures shared across packages: the
PostgreSQL server and the project's installed wheel. Other helpers live in `tests.support`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import clock_guard
from tests.support.wheel import Installed, build_wheel, install

# No webhook dispatcher thread, no page warming and no job worker in apps the tests
# start, unless a test asks for them.
os.environ.setdefault("IATI_EC_WEBHOOK_DISPATCHER", "false")
os.environ.setdefault("IATI_EC_WARM_PAGES", "false")
os.environ.setdefault("IATI_EC_EMBEDDED_WORKER", "false")

clock_guard.install()

POSTGRES_ENV = "IATI_EC_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server to create test databases in."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = f"{POSTGRES_ENV} is not set (bash .ci/run starts a PostgreSQL server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: under CI=true the PostgreSQL tests must run")
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per run (per worker: the modules that use it share
    the xdist group "wheel")."""
    return build_wheel(tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed in a new virtual environment."""
    return install(wheel, tmp_path_factory.mktemp("installed") / "venv")


@pytest.fixture(autouse=True)
def _clock_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test in which a transaction wrote a table derived data reads without
    recording an event (see `tests.support.clock_guard`), unless it is marked
    `writes_without_clock`."""
    yield
    found = clock_guard.take()
    if found and request.node.get_closest_marker("writes_without_clock") is None:
        pytest.fail("the clock was not advanced:\n" + "\n".join(map(str, found)),
                    pytrace=False)
