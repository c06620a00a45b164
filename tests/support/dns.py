"""A resolver for webhook destinations that answers from a table instead of the network,
so that tests name hosts (public, internal, rebound) without DNS. No tests here."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import ip_address

from service.services.webhooks.destinations import IPAddress


class Dns:
    """Answers each name with its addresses; a name not in the table does not resolve.

    `answer(name, first, second, …)` makes one lookup after another get `first`, then
    `second`, …, the last answer staying (a name being rebound between lookups).
    """

    def __init__(self, table: dict[str, Sequence[str]] | None = None) -> None:
        self._answers: dict[str, list[list[IPAddress]]] = {}
        for name, addresses in (table or {}).items():
            self.answer(name, addresses)

    def answer(self, name: str, *answers: Sequence[str]) -> None:
        self._answers[name] = [[ip_address(a) for a in answer] for answer in answers]

    def __call__(self, host: str) -> list[IPAddress]:
        answers = self._answers.get(host.lower().rstrip("."))
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers.pop(0) if len(answers) > 1 else answers[0]
