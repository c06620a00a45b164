"""Settings every test process starts with; shared helpers live in `tests.support`."""

from __future__ import annotations

import os

# No webhook dispatcher thread, no page warming and no job worker in apps the tests
# start, unless a test asks for them.
os.environ.setdefault("IATI_EC_WEBHOOK_DISPATCHER", "false")
os.environ.setdefault("IATI_EC_WARM_PAGES", "false")
os.environ.setdefault("IATI_EC_EMBEDDED_WORKER", "false")
