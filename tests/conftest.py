"""Settings every test process starts with; shared helpers live in `tests.support`."""

from __future__ import annotations

import os
from collections.abc import Iterator

# No webhook dispatcher thread and no page warming in apps the tests start, unless a
# test asks for them.
os.environ.setdefault("IATI_EC_WEBHOOK_DISPATCHER", "false")
os.environ.setdefault("IATI_EC_WARM_PAGES", "false")


import pytest

from tests.support import clock_guard

clock_guard.install()


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
