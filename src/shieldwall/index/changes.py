"""Changes from the signal log, as the index consumes them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Change", "ChangeOp"]


class ChangeOp(StrEnum):
    """What a log entry does to the index."""

    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the signal log: at ``seq``, ``op`` the signal ``id`` of ``signal_type``.

    ``value`` is the hash as stored in the log: hex digits (or raw bytes). A remove carries the
    value that was added, so the index needs no id-to-entry map.

    Example::

        Change(seq=42, op=ChangeOp.ADD, id=7, signal_type="pdq", value="f8f8...")
    """

    seq: int
    op: ChangeOp
    id: int
    signal_type: str
    value: str | bytes
