"""Settings every test process starts with, and the fixtures shared across packages: the
PostgreSQL server and the project's installed wheel. Other helpers live in `tests.support`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.wheel import Installed, build_wheel, install

# No webhook dispatcher thread, no page warming and no job worker in apps the tests
# start, unless a test asks for them.
os.environ.setdefault("IATI_EC_WEBHOOK_DISPATCHER", "false")
os.environ.setdefault("IATI_EC_WARM_PAGES", "false")
os.environ.setdefault("IATI_EC_EMBEDDED_WORKER", "false")

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
