"""How webhooks are delivered: where to, time-outs, retries with exponential back-off, batch
size."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from service.config import Settings
from service.services.webhooks.destinations import Destinations


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The knobs of delivery (`from_settings` reads them from the service's settings).

    After the n-th failure in a row the next attempt waits ``retry_base * 2**(n-1)``
    seconds, at most `retry_cap`, plus up to `jitter` of that at random. From
    `failing_after` failures on the webhook is marked failing and waits `retry_cap`.
    `destinations` are the hosts events may be sent to (public addresses by default).
    """

    timeout: float = 5.0
    retry_base: float = 10.0
    retry_cap: float = 3600.0
    jitter: float = 0.0
    failing_after: int = 5
    batch: int = 100
    public_url: str = ""
    destinations: Destinations = field(default_factory=Destinations)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout=settings.webhook_timeout_seconds,
            retry_base=settings.webhook_retry_base_seconds,
            retry_cap=settings.webhook_retry_cap_seconds,
            jitter=settings.webhook_retry_jitter,
            failing_after=settings.webhook_failing_after,
            batch=settings.webhook_batch,
            public_url=settings.public_url,
            destinations=Destinations.allowing(settings.webhook_allowed_destinations),
        )

    def wait(self, failures: int) -> timedelta:
        """How long to wait before the next attempt after `failures` failures in a row."""
        if failures >= self.failing_after:
            seconds = self.retry_cap
        else:
            seconds = min(self.retry_cap, self.retry_base * 2 ** max(failures - 1, 0))
        if self.jitter:
            seconds *= 1 + random.uniform(0, self.jitter)
        return timedelta(seconds=seconds)

    @property
    def lease(self) -> timedelta:
        """How long a dispatcher holds a webhook: longer than its slowest pass could take."""
        return timedelta(seconds=self.batch * self.timeout * 3 + 60)
