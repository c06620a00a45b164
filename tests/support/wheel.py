"""The project's wheel, built from a copy of the sources and installed in a new virtual
environment, as the image's build does: shared by the tests of the wheel and of the
compose file (tests/conftest.py builds it once per run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from tests.support.serving import environment_without_database

ROOT = Path(__file__).resolve().parents[2]
# What the build reads: the packaging files and the packages, migrations included.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "iati", "service", "mappings", "migrations")


@dataclass(frozen=True)
class Installed:
    """A virtual environment holding the wheel: its interpreter, its `iati-ec` script and
    its site-packages folder."""

    python: Path
    command: Path
    purelib: Path


def run(*command: str | Path, cwd: Path, env: dict[str, str]) -> str:
    """`command`'s standard output; the test fails with its output unless it exits 0."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def environment_without_sources() -> dict[str, str]:
    """This process's environment, less DATABASE_URL and PYTHONPATH: nothing of the source
    tree or of the tests' database reaches the installed service."""
    environment = environment_without_database()
    environment.pop("PYTHONPATH", None)
    return environment


def build_wheel(source: Path, dist: Path) -> Path:
    """The wheel built alone (`pip wheel --no-deps`) from a copy of the sources in `source`,
    so that the tree stays clean."""
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist,
        source, cwd=source, env=environment_without_database())
    return next(dist.glob("iati_ec-*.whl"))


def install(wheel: Path, venv: Path) -> Installed:
    """`wheel` installed without its dependencies in a new virtual environment at `venv`.
    The dependencies are this environment's (installing them again would only be slow);
    the project itself is the wheel's, not the source tree's."""
    environment = environment_without_sources()
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent, env=environment)
    python = venv / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       cwd=venv.parent, env=environment).strip())
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        wheel, cwd=venv.parent, env=environment)
    return Installed(python, venv / "bin" / "iati-ec", purelib)
