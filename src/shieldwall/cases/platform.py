"""The platform's copy of a content: fetched through the configured URL template
(``preview_url_template``) under the outbound address policy, held in memory for one use and
never stored. The review console shows it (blurred until revealed, ``shieldwall.web.preview``)
and a removal hashes it when the ledger has no hashes of the content
(:mod:`shieldwall.cases.removal`).
"""

from __future__ import annotations

from urllib.parse import quote

from shieldwall.config import Settings
from shieldwall.errors import ConfigError, FetchRefused, UsageError
from shieldwall.net.fetch import get_bytes
from shieldwall.net.policy import AddressPolicy, Resolver, check_saved_url

__all__ = ["check_preview_source", "fetch_preview", "preview_url"]


def preview_url(settings: Settings, content_id: str) -> str:
    """The platform's preview URL of ``content_id`` (quoted into the template)."""
    template = settings.preview_url_template
    if not template:
        raise FetchRefused("no preview source is configured (SHIELDWALL_PREVIEW_URL_TEMPLATE)")
    return template.replace("{content_id}", quote(content_id, safe=""))


def check_preview_source(settings: Settings, *, resolver: Resolver | None = None) -> None:
    """Refuse (:class:`~shieldwall.errors.ConfigError`) a preview source that the outbound
    policy would refuse at every fetch: its host is, or resolves to, a loopback, link-local,
    private or otherwise internal address outside ``outbound_allowed_networks``. Called when the
    service starts (the setting's "save"), so that the operator hears of it then, not from a
    placeholder on every case page. Nothing to check when no source is configured; a name that
    does not resolve now is let through (each fetch checks again)."""
    if not settings.preview_url_template:
        return
    try:
        check_saved_url(
            preview_url(settings, "content-id"),
            settings.outbound_allowed_networks,
            "the preview source (SHIELDWALL_PREVIEW_URL_TEMPLATE)",
            resolver,
        )
    except UsageError as exc:
        raise ConfigError(
            f"{exc.message}; allow its network in SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS if the "
            "platform serves previews from there"
        ) from exc


def fetch_preview(
    settings: Settings, content_id: str, *, resolver: Resolver | None = None
) -> bytes:
    """The preview's bytes, fetched under the outbound address policy (no redirects).
    Raises the :class:`~shieldwall.errors.FetchError` family."""
    headers = {}
    if settings.preview_authorization:
        headers["Authorization"] = settings.preview_authorization
    body, _content_type = get_bytes(
        preview_url(settings, content_id),
        headers=headers,
        policy=AddressPolicy.from_networks(settings.outbound_allowed_networks, resolver),
        timeout_seconds=settings.preview_timeout_seconds,
        max_bytes=settings.preview_max_bytes,
    )
    return body
