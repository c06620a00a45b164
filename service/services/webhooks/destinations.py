"""Where webhook events may be sent: hosts whose every address is public, and the internal
hosts and networks the operator allows (`IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS`).

An administrator chooses a webhook's URL; without this check the service could be made to
send requests into its own network (a cloud's metadata at 169.254.169.254, a database on
10.x, a port on localhost). Addresses are judged once resolved, whatever the URL's spelling
(`2130706433`, `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]` all name 127.0.0.1), and
`service.services.webhooks.transport` connects to exactly the addresses judged here.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import ClassVar

from service.errors import DomainError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolver = Callable[[str], Sequence[IPAddress]]
SETTING = "IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS"

_SHARED = ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_IPV4_COMPATIBLE = ip_network("::/96")  # deprecated ::a.b.c.d, :: and ::1 among them (RFC 4291)
_NAT64 = ip_network("64:ff9b::/96")  # the IPv4 address in the last 32 bits (RFC 6052)
_NAT64_LOCAL = ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)


class DestinationNotAllowedError(DomainError):
    """The URL's host has an address that is not public, and is not an allowed destination."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "webhook.destination-not-allowed"
    title: ClassVar[str] = "Events are not sent to this host"

    def __init__(self, host: str) -> None:
        super().__init__(
            f"{host} does not resolve to public internet addresses only: events are never "
            "sent to loopback, private, link-local or other internal addresses. Register a "
            "URL whose host resolves to public addresses; for a subscriber on the internal "
            f"network, an operator lists its host or network in {SETTING}.", host=host,
        )


def is_public(address: IPAddress) -> bool:
    """Whether `address` is a global unicast address of the internet.

    Beyond `is_global`, which some Python versions grant to NAT64, multicast and site-local
    addresses: an IPv6 address standing for an IPv4 one (mapped, NAT64, 6to4) is judged by
    that IPv4 address, and IPv4-compatible, local NAT64 and Teredo addresses are refused.
    """
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if (address in _IPV4_COMPATIBLE or address in _NAT64_LOCAL or address.is_site_local
                or address.teredo is not None):
            return False
    elif address in _SHARED:
        return False
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
    )


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


def literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver takes (`::1`, `127.0.0.1`,
    `2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`), else None (a name)."""
    bare = host.strip("[]").rstrip(".")
    try:
        return ip_address(bare)
    except ValueError:
        pass
    try:
        return IPv4Address(socket.inet_aton(bare))  # the C library's legacy forms
    except OSError:
        return None


def resolve_host(host: str) -> list[IPAddress]:
    """Every address the system's resolver gives for `host` (`OSError` if none), in its
    order."""
    answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(
        ip_address(str(sockaddr[0])) for family, *_, sockaddr in answers
        if family in (socket.AF_INET, socket.AF_INET6)
    ))


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where events may go: public addresses, and the allowed internal `hosts` (by name,
    whatever they resolve to) and `networks`. `resolve` gives a name's addresses."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    resolve: Resolver = resolve_host

    @classmethod
    def allowing(cls, entries: Iterable[str], *, resolve: Resolver = resolve_host) -> Destinations:
        """Public addresses and `entries`: host names, addresses, networks in CIDR notation."""
        hosts, networks = set(), []
        for entry in entries:
            try:
                networks.append(ip_network(entry.strip().strip("[]"), strict=False))
            except ValueError:
                hosts.add(_name(entry))
        return cls(frozenset(hosts), tuple(networks), resolve)

    def allows(self, address: IPAddress) -> bool:
        """Whether events may go to `address`: public, or in an allowed network."""
        if is_public(address):
            return True
        mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
        return any(address in network or (mapped is not None and mapped in network)
                   for network in self.networks)

    def addresses(self, host: str) -> list[IPAddress]:
        """The addresses to connect to for `host`, resolved once now: all of them allowed,
        else `DestinationNotAllowedError` (`OSError` when the name does not resolve)."""
        spelt = literal(host)
        found = [spelt] if spelt is not None else list(self.resolve(host))
        if not found:
            raise OSError(f"{host} resolves to no address")
        if _name(host) not in self.hosts and not all(map(self.allows, found)):
            raise DestinationNotAllowedError(host)
        return found

    def check(self, host: str) -> None:
        """Refuse `host` (`DestinationNotAllowedError`) unless events may be sent to it now;
        a name that does not resolve is refused too, unless it is allowed by name."""
        if _name(host) in self.hosts:
            return
        try:
            self.addresses(host)
        except OSError:
            raise DestinationNotAllowedError(host) from None


def _name(host: str) -> str:
    """`host` as allowed names are compared: lower case, ASCII (IDNA), no final dot."""
    name = host.strip().strip("[]").rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name
