"""The manual (`docs/`, `mkdocs.yml`) builds as a site with warnings as errors: every link
and anchor resolves and every page is in the navigation."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

REPO = Path(__file__).resolve().parents[2]


def _build(config_file: Path, site: Path) -> None:
    build(load_config(str(config_file), site_dir=str(site), strict=True))


def test_the_manual_builds_strictly(tmp_path: Path) -> None:
    _build(REPO / "mkdocs.yml", tmp_path / "site")
    built = {page.relative_to(tmp_path / "site").as_posix()
             for page in (tmp_path / "site").rglob("index.html")}
    sources = {path.relative_to(REPO / "docs").with_suffix("").as_posix()
               for path in (REPO / "docs").rglob("*.md")}
    expected = {"index.html"} | {f"{name}/index.html" for name in sources if name != "index"}
    assert expected <= built


def test_a_broken_link_fails_the_build(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the API](api.md#no-such-part).\n")
    (docs / "api.md").write_text("# API\n")
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:")[0]
    (tmp_path / "mkdocs.yml").write_text(config + "\nnav:\n  - index.md\n  - api.md\n")
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        _build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert "no-such-part" in caplog.text


def test_the_readme_stays_short_and_its_links_lead_somewhere() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    # The README introduces; the manual is in docs/ (new material goes there).
    assert len(readme.splitlines()) <= 200
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [target for target in targets if "://" not in target]
    assert "docs/index.md" in local
    assert [target for target in local if not (REPO / target).is_file()] == []
