"""The lock files agree with pyproject.toml: every dependency it declares is pinned, at a
version it allows, with hashes, and each file says how it was made."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


def pinned(lock: Path) -> dict[str, tuple[str, bool]]:
    """Each package of `lock` (by canonical name): its version, and whether a hash follows."""
    found: dict[str, tuple[str, bool]] = {}
    lines = lock.read_text(encoding="utf-8").splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if match := PIN.match(line):
            hashed = following.strip().startswith("--hash=sha256:")
            found[canonicalize_name(match["name"])] = (match["version"], hashed)
    return found


@pytest.mark.parametrize(("lock", "extras"), [
    ("requirements.lock", ()), ("requirements-dev.lock", ("dev",)),
])
def test_the_lock_pins_every_declared_dependency_at_an_allowed_version(
    lock: str, extras: tuple[str, ...]
) -> None:
    path = ROOT / lock
    text = path.read_text(encoding="utf-8")
    versions = pinned(path)
    declared = [*PROJECT["dependencies"],
                *(line for extra in extras for line in PROJECT["optional-dependencies"][extra])]
    wrong = []
    for line in declared:
        requirement = Requirement(line)
        version, _ = versions.get(canonicalize_name(requirement.name), (None, False))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{requirement} is locked at {version}")
    assert wrong == [], f"run uv pip compile again (see docs/development.md): {wrong}"
    assert [name for name, (_, hashed) in versions.items() if not hashed] == []
    command = f"--generate-hashes -o {lock}"
    assert command in text.splitlines()[1]
    if extras:
        assert "--extra dev" in text.splitlines()[1]
