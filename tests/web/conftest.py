"""A real dashboard to test in a real browser: iati-ec served by uvicorn (a real process) on
a SQLite file loaded with real files (USAID Ecuador's as a bilateral donor's, CAF's loans
to Ecuador as a lender's, the IDB's and IDRC's activities of a d-portal page, for Ecuador
and for other countries, as a regional lender's, the World Bank's and the Netherlands'
loans to other countries) and the worked examples through `iati-ec import` (run in the
test's process), and Debian's chromium driven by Playwright.
Without chromium the browser tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from service.services.demo import publisher_parts
from tests.support.cli import iati_ec
from tests.support.samples import CAF_LOANS, sample

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "fixtures" / "examples"
PUBLISHERS = [
    ("US-GOV-1", "USAID", sample("real/usaid-ec.xml")),
    ("ES-DAC-2", "AECID", EXAMPLES / "health-grant-esmeraldas.xml"),
    ("XI-IATI-IADB", "BID", EXAMPLES / "road-loan-development-bank.xml"),
    ("XM-DAC-41146", "ONU Mujeres", EXAMPLES / "gender-programme-policy-marker.xml"),
    ("44000", "Banco Mundial", sample("real/worldbank-sv.xml")),  # results, loan repayments
    # A loan's terms and status (crs-add) for the debt pages.
    ("XM-DAC-7", "Países Bajos", sample("real/netherlands-mfa-example_203_file.xml")),
    ("XM-DAC-46008", "CAF", CAF_LOANS),  # a lender's own sector codes and executors
    ("XI-IATI-EC_INTPA", "Unión Europea", EXAMPLES / "ministry-four-spellings.xml"),
    # A loan to Ecuador at 30 % and Peru, with its terms, status and repayments.
    ("XI-IATI-IADB", "BID", EXAMPLES / "regional-loan-terms-status.xml"),
    # The ministry's own south-south cooperation, to Haiti and El Salvador.
    ("EC-RUC-1760000820001", "Ministerio de Relaciones Exteriores y Movilidad Humana",
     REPO / "tests" / "fixtures" / "provided" / "ecuador-south-south.xml"),
]
# A regional lender's page of activities, for Ecuador and for other countries: of its
# publishers, the IDB's (its loans everywhere, regional operations) and IDRC's (a grant
# with Ecuador at 40 %), each pushed by its publisher.
REGIONAL_PAGE = sample("real/dportal-iadb-p3.xml")
REGIONAL_PUBLISHERS = {"XI-IATI-IADB": "BID", "XM-DAC-301-2": "IDRC"}
# The flags a headless chromium needs on a closed network, as root in a container.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "Debian's chromium is not installed (bash .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: under CI=true the browser tests must run")
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(database: str, *arguments: str, rejections: bool = False) -> None:
    """Run `iati-ec`; exit 1 (some activities rejected) is expected with `rejections`."""
    done = iati_ec(*arguments, database=database)
    assert done.returncode in ((0, 1) if rejections else (0,)), (
        f"iati-ec {' '.join(arguments)}: {done.stderr}{done.stdout}")


def _regional_parts(folder: Path) -> list[tuple[str, str, Path]]:
    """The regional page's activities of each of `REGIONAL_PUBLISHERS`, in a file each."""
    parts = []
    for part in publisher_parts(REGIONAL_PAGE):
        if part.ref in REGIONAL_PUBLISHERS and part.body is not None:
            path = folder / f"regional-{len(parts)}.xml"
            path.write_bytes(part.body)
            parts.append((part.ref, REGIONAL_PUBLISHERS[part.ref], path))
    return parts


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running iati-ec holding the real sample data."""
    folder = tmp_path_factory.mktemp("dashboard")
    database = f"sqlite:///{folder / 'iati-ec.db'}"
    environment = {**os.environ, "DATABASE_URL": database, "PYTHONPATH": str(REPO)}
    registered: set[str] = set()
    regional = _regional_parts(folder)
    for ref, name, path in [*PUBLISHERS, *regional]:
        if ref not in registered:
            _cli(database, "orgs", "add", "--ref", ref, "--name", name, "--role", "donor")
            registered.add(ref)
        # A page as d-portal served it has activities the schema refuses (IDRC's one).
        _cli(database, "import", str(path), "--org", ref,
             rejections=(ref, name, path) in regional)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright; closed with its module, since
    Playwright keeps an event loop running in the thread while it is open."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where the browser tests leave their screenshots (ARTIFACTS_DIR, else artifacts/)."""
    folder = Path(os.environ.get("ARTIFACTS_DIR", REPO / "artifacts")) / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
