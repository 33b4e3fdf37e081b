"""The client address a public rate limit counts by: the connection's, or, when the connection
comes from one of the ``trusted_proxies``, the last address of ``client_address_header`` that is
not itself a trusted proxy. Nobody but a configured proxy can choose the address they are
counted by, and people behind one proxy do not share one limit.

The HTTP server does not rewrite the client address itself (uvicorn's ``proxy_headers`` is
off): this setting is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from shieldwall.config import Settings

__all__ = ["client_key"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _is_proxy(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(proxies))


def client_key(host: str | None, forwarded: str | None, settings: Settings) -> str:
    """``ip:<address>`` of a request from ``host`` whose ``client_address_header`` is
    ``forwarded`` (``None``: absent)."""
    host = host or "unknown"
    proxies = tuple(settings.trusted_proxies)
    if proxies and forwarded and _is_proxy(host, proxies):
        for candidate in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _is_proxy(candidate, proxies):
                try:
                    return f"ip:{ipaddress.ip_address(candidate)}"
                except ValueError:
                    break  # not an address: counted as the proxy itself
    return f"ip:{host}"
