"""Shared fixtures: where the reference IATI samples live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# No webhook dispatcher thread and no page warming in apps the tests start, unless a
# test asks for them.
os.environ.setdefault("IATI_EC_WEBHOOK_DISPATCHER", "false")
os.environ.setdefault("IATI_EC_WARM_PAGES", "false")

# The reference data beside the checkout (../shared), or where IATI_EC_SHARED points.
SHARED = Path(
    os.environ.get("IATI_EC_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
)
SAMPLES = SHARED / "iati" / "samples"


def sample(relative: str) -> Path:
    """A file of ../shared/iati/samples (skips the test when the folder is absent)."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"reference sample {relative} not available")
    return path


def samples(folder: str) -> list[Path]:
    return sorted((SAMPLES / folder).glob("**/*.xml"))
