"""The HTTP transport of webhook deliveries: each connection goes to an address that
`Destinations` allowed, resolved once for that connection.

Checking a host and then letting the client look it up again would leave a gap: DNS can
answer the check with a public address and the connection with 127.0.0.1 (DNS
rebinding). Here the one lookup's addresses are both the ones checked and the ones
connected to. The request keeps the URL's host name: in its `Host` header, as the TLS
server name (SNI), and for verifying the server's certificate.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from service.services.webhooks.destinations import Destinations

_KEEPALIVE_SECONDS = 5.0  # as httpx's own transport


class PinnedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting to the allowed addresses of the host."""

    def __init__(self, destinations: Destinations) -> None:
        self.destinations = destinations

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.destinations.addresses(host)  # DestinationNotAllowedError
        except OSError as error:
            raise httpcore.ConnectError(f"{host} did not resolve: {error}") from error
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                # An address, not a name: nothing is looked up again on the way.
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport (TLS verified against the URL's host) over `PinnedBackend`.

    Environment proxies never apply: a client given a transport does not read them.
    """

    def __init__(self, destinations: Destinations) -> None:
        super().__init__()
        # httpx takes no network backend yet (encode/httpx#3749): the pool it made is
        # replaced by a like one that connects through ours.
        assert isinstance(self._pool, httpcore.ConnectionPool)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            keepalive_expiry=_KEEPALIVE_SECONDS,
            network_backend=PinnedBackend(destinations),
        )
