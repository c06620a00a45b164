"""The installable wheel: built from the repository, installed in a new virtual environment,
it migrates and serves from a folder that holds nothing of the source tree."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.serving import serving
from tests.support.wheel import ROOT, Installed, environment_without_sources, run

# The wheel is built once per run for this module and tests/test_compose.py: one worker.
pytestmark = pytest.mark.xdist_group("wheel")


def test_the_wheel_ships_the_migrations_and_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    revisions = {path.name for path in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {name.rsplit("/", 1)[-1] for name in names
            if name.startswith("service/migrations/versions/")} == revisions
    assert {"service/migrations/env.py", "service/migrations/script.py.mako"} <= names
    assert any(name.startswith("iati/resources/schema/") for name in names)
    assert any(name.startswith("mappings/data/") for name in names)
    demo = {path.name for path in (ROOT / "service" / "demo").iterdir()}
    assert {name.rsplit("/", 1)[-1] for name in names
            if name.startswith("service/demo/")} == demo
    assert not any(name.startswith(("tests/", "migrations/")) for name in names)


def test_an_installed_wheel_migrates_and_serves_from_any_folder(
    installed: Installed, tmp_path: Path
) -> None:
    environment = environment_without_sources()
    located = run(installed.python, "-c",
                  "import service.db as d; print(d.migrations_directory())",
                  cwd=tmp_path, env=environment).strip()
    assert Path(located).is_relative_to(installed.purelib), located
    database = tmp_path / "store.db"
    environment["DATABASE_URL"] = f"sqlite:///{database}"
    run(installed.command, "db", "upgrade", cwd=tmp_path, env=environment)
    assert "(latest)" in run(installed.command, "db", "current", cwd=tmp_path, env=environment)
    with serving(tmp_path, command=[str(installed.command)], environment=environment,
                 start_seconds=90) as base:
        assert httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok"
        assert httpx.get(f"{base}/api/v1/activities", timeout=5).status_code in (200, 401)


def test_the_image_is_built_as_this_module_builds_and_runs_the_wheel() -> None:
    """No container engine runs here: the Dockerfile is held to the steps above (the wheel
    built alone, installed over the locked dependencies, migrations inside, `serve`), to a
    base pinned to an exact release, a health check on the configured port that waits for
    the first migration, and a .dockerignore that lets through exactly what it copies."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert bases
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base) for base in bases)
    steps = " ".join(dockerfile.split())
    for step in ("pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .",
                 "pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock",
                 "pip install --no-cache-dir --no-deps /wheels/*.whl",
                 'CMD ["iati-ec", "serve"]'):
        assert step in steps, step
    health = next(line for line in dockerfile.splitlines() if line.startswith("HEALTHCHECK"))
    assert "--start-period=" in health
    assert "IATI_EC_PORT" in steps.split("HEALTHCHECK", 1)[1]
    copied = {source.rstrip("/") for source in re.findall(
        r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE)
        for source in source.split()}
    admitted = {line[1:].rstrip("/") for line in
                (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.startswith("!")}
    assert copied == admitted
    assert all((ROOT / name).exists() for name in copied)
