"""Outbound HTTP under an SSRF policy: fetch by URL (:func:`fetch_to_file`) and webhook
deliveries (:func:`post`) reach public addresses only, vetted after DNS resolution."""

from shieldwall.net.fetch import FetchResult, fetch_to_file, host_allowed, post
from shieldwall.net.policy import AddressPolicy, Resolver, address_problem, system_resolver

__all__ = [
    "AddressPolicy",
    "FetchResult",
    "Resolver",
    "address_problem",
    "fetch_to_file",
    "host_allowed",
    "post",
    "system_resolver",
]
