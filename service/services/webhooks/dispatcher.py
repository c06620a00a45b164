"""The dispatcher: a thread that makes a delivery pass every few seconds until stopped."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from service.models import utcnow
from service.services.webhooks.delivery import DeliverySummary, deliver_due
from service.services.webhooks.policy import DeliveryPolicy

log = logging.getLogger(__name__)


class Dispatcher:
    """Delivers webhook events from a daemon thread, one pass every `interval` seconds.

    A failing pass is logged and the next one tries again; `stop` lets the current pass
    finish (an event being sent is delivered or retried later, never lost).
    """

    def __init__(self, engine: Engine, *, policy: DeliveryPolicy, interval: float) -> None:
        self.engine = engine
        self.policy = policy
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name="webhook-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """Passes until `stop`, in the calling thread."""
        while not self._stopping.is_set():
            self.once()
            self._stopping.wait(self.interval)

    def once(self) -> DeliverySummary | None:
        try:
            summary = deliver_due(self.engine, now=utcnow(), policy=self.policy)
        except Exception:
            log.exception("webhook delivery pass failed; the next pass tries again")
            return None
        if summary.delivered or summary.failed:
            log.info("webhooks: %d delivered, %d failed", summary.delivered, summary.failed)
        return summary
