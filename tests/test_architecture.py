"""Dependencies point inwards: `iati` and `mappings` never pull in the web or the database."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn", "service")


@pytest.mark.parametrize(
    "module",
    ["iati", "iati.reader", "iati.writer", "iati.validate", "iati.upgrade", "mappings"],
)
def test_library_packages_import_neither_web_nor_database(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
