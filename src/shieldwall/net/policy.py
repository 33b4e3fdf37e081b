"""Which addresses outbound requests may reach: public unicast addresses only, unless a network
is explicitly allowed (``SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS``).

Refused: private (RFC 1918, ULA fc00::/7), loopback, link-local (169.254.0.0/16 with the cloud
metadata address, fe80::/10), multicast, unspecified, reserved, shared/CGNAT (100.64.0.0/10),
documentation and benchmarking ranges, site-local, and IPv6 forms that embed such an IPv4
address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``, Teredo, NAT64 ``64:ff9b::/96``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shieldwall.errors import FetchError, FetchRefused, UsageError

__all__ = ["AddressPolicy", "Resolver", "address_problem", "check_saved_url", "system_resolver"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``(host, port) -> addresses``: how a host name becomes addresses (injectable for tests).
Resolver = Callable[[str, int], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        addr = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if addr not in seen:
            seen.append(addr)
    return seen


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be reached (``"loopback"``, ``"private"``, ...), or ``None``."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner is not None:
                return f"{inner} (IPv4 {embedded} inside IPv6)"
        if ip.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared address space (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, except the ``allowed_networks``; ``resolver`` turns names into
    addresses (the system's by default)."""

    allowed_networks: Sequence[IPNetwork] = ()
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def from_networks(
        cls, networks: Sequence[str], resolver: Resolver | None = None
    ) -> AddressPolicy:
        """A policy allowing the given CIDR strings (as in the settings)."""
        parsed = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        return cls(parsed, resolver or system_resolver)

    def check(self, host: str, ip: IPAddress) -> None:
        """Raise :class:`FetchRefused` unless ``ip`` (an address of ``host``) may be reached."""
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return
        problem = address_problem(ip)
        if problem is not None:
            who = str(ip) if host == str(ip) else f"{host} resolves to {ip}"
            raise FetchRefused(
                f"refused: {who}, a {problem} address; outbound requests reach public "
                "addresses only (see SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS)"
            )

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host``, every one of them vetted: if ANY is refused the whole
        host is (a name that also points inward is not trusted with the others).

        An address literal is not resolved. Raises :class:`FetchRefused` or, when the name
        does not resolve, :class:`~shieldwall.errors.FetchError`.
        """
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            self.check(host, literal)
            return [literal]
        try:
            found = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"cannot resolve {host}: {exc}") from exc
        if not found:
            raise FetchError(f"cannot resolve {host}: no addresses")
        addresses = [ipaddress.ip_address(a) for a in found]
        for ip in addresses:
            self.check(host, ip)
        return addresses


def check_saved_url(
    url: str, allowed_networks: Sequence[str], what: str, resolver: Resolver | None = None
) -> None:
    """Refuse (:class:`~shieldwall.errors.UsageError`, a 422) a URL the policy would refuse,
    when it is saved (a webhook, an exchange's address) rather than at its first use: its host
    is an address literal or a name that resolves to a loopback, link-local (the cloud metadata
    address), private or otherwise non-public address outside ``allowed_networks``. A name
    that does not resolve now is let through: every request checks again."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(f"invalid {what} {url!r}: {exc}") from exc
    policy = AddressPolicy.from_networks(allowed_networks, resolver)
    try:
        policy.resolve(parts.hostname or "", port)
    except FetchRefused as exc:
        raise UsageError(f"{what} {url!r} is {exc.message}") from exc
    except FetchError:
        return
