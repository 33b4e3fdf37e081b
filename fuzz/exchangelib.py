"""What the exchange fuzz targets share: a context that answers every request with the fuzzed
body (the network edge, replaced), and the reading of the answer as a sync reads it: the
plug-in's ``fetch`` (two pages at most) and each record's signals validated as
``shieldwall.exchange.apply`` validates them.

A bug: an exception that is not a ShieldwallError (an answer we cannot read is an
``ExchangeProtocolError``; a bad record is a ``BadRecord``; a bad hash a ``SignalError``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from shieldwall.banks import prepare_signal
from shieldwall.errors import ShieldwallError
from shieldwall.exchange.base import HashRecord, SignalExchange
from shieldwall.net.fetch import Response

NOW = 1_800_000_000.0


@dataclass(frozen=True)
class Answering:
    """An ``ExchangeContext`` whose every request gets ``body`` with status 200."""

    body: bytes
    timeout_seconds: float = 60.0
    max_bytes: int = 64 * 1024 * 1024

    def clock(self) -> float:
        return NOW

    def http(self, url: str, *, headers: Mapping[str, str], what: str, **_: Any) -> Response:
        return Response(200, {"content-type": "application/octet-stream"}, self.body)


def read_answer(plugin: type[SignalExchange], settings: Mapping[str, Any], body: bytes) -> None:
    """Fetch from ``plugin`` whose exchange answers ``body``; let only bugs escape."""
    exchange = plugin("fuzz", plugin.validate_settings(settings), Answering(body))  # type: ignore[arg-type]
    try:
        for page in islice(exchange.fetch(None), 2):
            for record in page.records:
                if not isinstance(record, HashRecord):
                    continue
                for remote in record.signals:
                    kind = exchange.signal_type(remote.type)
                    if kind is None:
                        continue
                    with contextlib.suppress(ShieldwallError):
                        prepare_signal(kind.name, remote.value)
    except ShieldwallError:
        return
