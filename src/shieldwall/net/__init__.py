"""Outbound HTTP under an SSRF policy: fetch by URL (:func:`fetch_to_file`), webhook
deliveries (:func:`post`) and hash exchanges (:func:`request`) reach public addresses only,
vetted after DNS resolution."""

from shieldwall.net.fetch import (
    FetchResult,
    Response,
    fetch_to_file,
    host_allowed,
    post,
    request,
)
from shieldwall.net.policy import AddressPolicy, Resolver, address_problem, system_resolver

__all__ = [
    "AddressPolicy",
    "FetchResult",
    "Resolver",
    "Response",
    "address_problem",
    "fetch_to_file",
    "host_allowed",
    "post",
    "request",
    "system_resolver",
]
