"""Dependencies point inwards: `iati` and `mappings` never pull in the web, the database
or the settings; and migrations are history, carrying what they need instead of importing
the application."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import iati
import mappings

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = (
    "fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn", "pydantic_settings",
    "service",
)
APPLICATION = ("service", "iati", "mappings")
# Imports each library module in turn, in a fresh interpreter, and names the forbidden
# modules that each one brought in first.
PROBE = """
import importlib, json, pkgutil, sys
forbidden = set(sys.argv[1].split(","))
def bad():
    return {m for m in sys.modules if m.split(".")[0] in forbidden}
found, seen = {}, set()
for package in ("iati", "mappings"):
    root = importlib.import_module(package)
    names = [package] + [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
    for name in names:
        importlib.import_module(name)
        if new := bad() - seen:
            found[name] = sorted(new)
            seen |= new
print(json.dumps({"modules": len(sys.modules), "found": found}))
"""


def _library_modules() -> list[str]:
    return [
        name
        for package in (iati, mappings)
        for name in [package.__name__, *(
            found.name
            for found in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        )]
    ]


def test_no_library_module_imports_the_web_the_database_or_the_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(FORBIDDEN)], capture_output=True, text=True,
        check=True, timeout=120, cwd=ROOT,
    )
    assert json.loads(done.stdout)["found"] == {}


def test_the_walk_reaches_every_library_module() -> None:
    modules = _library_modules()
    files = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in ("iati", "mappings")
        for path in (ROOT / package).rglob("*.py")
        if all((ROOT / Path(*path.relative_to(ROOT).parts[:depth]) / "__init__.py").exists()
               for depth in range(1, len(path.relative_to(ROOT).parts)))
    }
    assert set(modules) == files
    assert {"iati.validate", "iati.upgrade", "mappings.engine"} <= set(modules)


def _application_imports(source: str, *, depth: int) -> list[tuple[int, str]]:
    """The imports of application code in `source` (a module `depth` folders below
    `migrations/`, itself included), however written: nested, relative beyond
    `migrations/`, or through importlib with a literal name. (line, module) pairs."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.level >= depth:
                names = [f"{'.' * node.level}{node.module or ''}"]
            elif not node.level:
                names = [node.module or ""]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ast.unparse(node.func) in ("importlib.import_module", "import_module",
                                             "__import__")):
            names = [node.args[0].value]
        found += [
            (node.lineno, name) for name in names
            if name.startswith(".") or name.split(".")[0] in APPLICATION
        ]
    return found


def test_no_migration_imports_the_application() -> None:
    # env.py is the environment that runs the migrations (engine, settings, the models'
    # metadata for autogenerate), not one of them: it is not replayed as history.
    migrations = [path for path in sorted((ROOT / "migrations").rglob("*.py"))
                  if path.name != "env.py"]
    assert len(migrations) > 20
    found = {
        str(path.relative_to(ROOT)): imports for path in migrations
        if (imports := _application_imports(
            path.read_text(encoding="utf-8"),
            depth=len(path.relative_to(ROOT / "migrations").parts)))
    }
    assert found == {}


@pytest.mark.parametrize(("source", "expected"), [
    ("from service.search import words\n", ["service.search"]),
    ("def upgrade():\n    import iati.reader\n", ["iati.reader"]),
    ("import importlib\nimportlib.import_module('mappings.engine')\n", ["mappings.engine"]),
    ("from ..service import models\n", ["..service"]),
    ("import sqlalchemy as sa\nfrom alembic import op\nfrom collections.abc import Sequence\n",
     []),
])
def test_the_migration_check_sees_every_way_of_importing(
    source: str, expected: list[str]
) -> None:
    assert [name for _, name in _application_imports(source, depth=2)] == expected
