"""The exchange plug-in interface.

An *exchange* is a source (and sometimes a sink) of hashes kept by someone else: StopNCII.org,
NCMEC's hash sharing, another platform. A plug-in is one :class:`SignalExchange` subclass that
knows that exchange's protocol; everything else (the bank it feeds, the checkpoint, counts,
errors, backoff, feedback bookkeeping, the schedule) is Shieldwall's and the same for every
exchange (:mod:`shieldwall.exchange.sync`).

To add one::

    class MyExchange(SignalExchange):
        kind = "myexchange"
        signal_format = Exchange.THREATEXCHANGE     # how its signal types are spelled
        settings_model = MySettings                 # a pydantic model of its settings

        def fetch(self, checkpoint): ...            # yield FetchPage after FetchPage
        def send_feedback(self, items): ...         # optional (can_feedback = True)
        def submit(self, submissions): ...          # optional (can_submit = True)

declare it under the ``shieldwall.exchanges`` entry-point group, or call
:func:`shieldwall.exchange.register`, and make its tests inherit
:class:`shieldwall.exchange.contract.ExchangeContract`.

The rules a plug-in keeps:

- :meth:`SignalExchange.fetch` yields pages in order; each page carries the checkpoint that
  is reached once it has been applied. The sync commits a page's records and its checkpoint in
  one transaction, so a plug-in never has to remember anything itself.
- A :class:`HashRecord` is the whole current state of what it describes: the sync replaces
  what the exchange said before (``complete``), or adds to it (an NCMEC entry among others).
- A record that cannot be read is yielded as a :class:`BadRecord` (counted as failed, the rest
  of the page applied); a request that fails raises an
  :class:`~shieldwall.errors.ExchangeError` (``ExchangeRefused`` for 401/403,
  ``ExchangeUnavailable`` for 429/5xx/timeouts, ``ExchangeProtocolError`` for an answer that
  cannot be read).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from shieldwall.errors import (
    ExchangeError,
    ExchangeProtocolError,
    ExchangeRefused,
    ExchangeUnavailable,
    FetchError,
    FetchTimeout,
    UnknownSignalType,
    UsageError,
)
from shieldwall.net import AddressPolicy, Response, request
from shieldwall.signals import Exchange, SignalType, from_exchange_name, get_signal_type

__all__ = [
    "BadRecord",
    "Checkpoint",
    "ExchangeContext",
    "Feedback",
    "FeedbackItem",
    "FetchPage",
    "HashRecord",
    "RemoteSignal",
    "SignalExchange",
    "Submission",
    "protocol_error",
    "read_secret",
]

#: A plug-in's checkpoint: a JSON object only it reads (``{"nextSetTimestamp": 1700000000}``).
Checkpoint = dict[str, Any]


class Feedback(StrEnum):
    """What a platform tells an exchange about one of its hashes."""

    #: Content matched the hash and waits for review (StopNCII ``PendingReview``).
    MATCHED = "matched"
    #: A reviewer confirmed it and the content was removed (StopNCII ``Blocked``; NCMEC
    #: affirmative feedback).
    CONFIRMED = "confirmed"
    #: A reviewer found the matched content is not what the hash stands for (StopNCII
    #: ``NotBlocked``; NCMEC negative feedback).
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RemoteSignal:
    """A hash as the exchange spells it: its own type name (``ImagePDQ``) and value."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One record of an exchange: the hashes of one item and who at the exchange holds it.

    ``refs`` are the exchange's ids holding the item now (StopNCII case numbers, an NCMEC
    ``member/entry`` id); none means the exchange itself holds it. ``withdrawn`` says the
    exchange wants it gone (StopNCII ``Withdrawn``/``Deleted``, an NCMEC tombstone, which may
    carry ``refs`` and no signals). ``complete`` says ``refs`` is every id of this exchange
    holding these signals (StopNCII's records are full snapshots), so ids held before and not
    named now are withdrawn; otherwise only the ids named are touched.
    """

    signals: tuple[RemoteSignal, ...]
    refs: tuple[str, ...] = ()
    withdrawn: bool = False
    complete: bool = True
    note: str = ""
    #: Where it came from, for messages (``page 3 record 17``).
    source: str = ""


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be read, and why: counted as failed, the rest goes on."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class FetchPage:
    """One page of a fetch: its records, and the checkpoint reached once they are applied.

    ``more`` says whether the exchange has more now (the sync fetches on) or is caught up."""

    records: Sequence[HashRecord | BadRecord]
    checkpoint: Checkpoint
    more: bool = False


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """Feedback on one of the exchange's hashes (``signal`` as the exchange spells it), with
    the exchange's ids that hold it (``refs``, as they came in its records)."""

    signal: RemoteSignal
    feedback: Feedback
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Submission:
    """A hash to share with the exchange (a person's own, given with consent)."""

    signal: RemoteSignal
    refs: tuple[str, ...] = ()


def read_secret(value: str | None, path: Path | None, what: str) -> str | None:
    """A secret given in the settings, or read from the file they name (trailing newline
    dropped); ``None`` when neither is set. An unreadable file is a :class:`UsageError`."""
    if value:
        return value
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class ExchangeContext:
    """What a plug-in gets from Shieldwall: the outbound address policy and limits, and the
    clock that ends a time window (the tests' fakes bring their own)."""

    policy: AddressPolicy = field(default_factory=AddressPolicy)
    timeout_seconds: float = 60.0
    max_bytes: int = 64 * 1024 * 1024
    clock: Callable[[], float] = time.time

    def http(
        self,
        url: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str],
        what: str,
        accept: Collection[int] = (),
    ) -> Response:
        """One request, its failures translated into the exchange errors once, here: 401 and
        403 are :class:`ExchangeRefused`; 429, 5xx, a timeout or no connection are
        :class:`ExchangeUnavailable` (with the ``Retry-After`` it sent); any other non-2xx is
        an :class:`ExchangeError`. ``what`` names the exchange and call in messages; a status in
        ``accept`` is returned as it came (a 422 the caller reads)."""
        try:
            answer = request(
                url,
                method=method,
                body=body,
                headers=headers,
                policy=self.policy,
                timeout_seconds=self.timeout_seconds,
                max_bytes=self.max_bytes,
            )
        except FetchTimeout as exc:
            raise ExchangeUnavailable(f"{what}: timed out: {exc.message}") from exc
        except FetchError as exc:
            raise ExchangeUnavailable(f"{what}: {exc.message}") from exc
        status = answer.status
        if 200 <= status < 300 or status in accept:
            return answer
        detail = answer.body[:200].decode("utf-8", "replace").strip()
        said = f": {detail}" if detail else ""
        if status in (401, 403):
            raise ExchangeRefused(f"{what}: the exchange refused our keys ({status}){said}")
        if status == 429 or status >= 500:
            raise ExchangeUnavailable(
                f"{what}: the exchange answered {status}{said}",
                retry_after=_retry_after(answer.headers.get("retry-after")),
            )
        raise ExchangeError(f"{what}: the exchange answered {status}{said}")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None  # an HTTP date: the backoff decides instead


class SignalExchange(ABC):
    """One exchange's protocol. Instances are made per configured exchange, with its name,
    its validated settings and the :class:`ExchangeContext`."""

    #: The plug-in's registry name (``stopncii``); what ``exchange add --kind`` takes.
    kind: ClassVar[str]
    #: How the exchange spells signal types (:attr:`shieldwall.signals.SignalType.exchange_names`).
    signal_format: ClassVar[Exchange]
    #: The plug-in's settings, validated when an exchange is added.
    settings_model: ClassVar[type[BaseModel]]
    #: Setting names whose values are secrets (never shown back).
    secret_settings: ClassVar[frozenset[str]] = frozenset()
    #: Whether :meth:`send_feedback` / :meth:`submit` are implemented.
    can_feedback: ClassVar[bool] = False
    can_submit: ClassVar[bool] = False
    #: Whether :meth:`withdraw` tells the exchange that submitted hashes are withdrawn.
    can_withdraw: ClassVar[bool] = False
    #: The kinds of feedback the exchange takes (only these are queued for it).
    feedback_kinds: ClassVar[frozenset[Feedback]] = frozenset(Feedback)
    #: Whether matches on this exchange's hashes belong in the restricted (child-safety) queue.
    restricted: ClassVar[bool] = False

    @property
    def auto_remove(self) -> bool:
        """Whether an exact (md5/sha256) match on this exchange's hashes in a ``block`` bank
        may be removed by the system without a person, as exact copies of the bank's own
        removals are (:mod:`shieldwall.exchange.match_cases`). No, unless the plug-in says so
        (a federation partner's ``auto_remove``)."""
        return False

    def __init__(self, name: str, settings: BaseModel, context: ExchangeContext) -> None:
        self.name = name
        self.settings = settings
        self.context = context
        self._types: dict[str, SignalType | None] = {}

    @classmethod
    def validate_settings(cls, raw: Mapping[str, Any]) -> BaseModel:
        """The settings as the plug-in's model reads them, or a :class:`UsageError` naming
        every field that is wrong."""
        try:
            return cls.settings_model.model_validate(dict(raw))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in exc.errors()
            )
            raise UsageError(f"{cls.kind} exchange settings: {problems}") from None

    def signal_type(self, remote_type: str) -> SignalType | None:
        """Our signal type for the exchange's ``remote_type``, or ``None`` when we have none
        that can be banked (the record is then counted as skipped)."""
        if remote_type in self._types:
            return self._types[remote_type]
        try:
            found: SignalType | None = from_exchange_name(self.signal_format, remote_type)
        except UnknownSignalType:
            found = None
        if found is not None and not found.bankable:
            found = None
        if len(self._types) < 64:  # the names an exchange uses, not every odd one it sends
            self._types[remote_type] = found
        return found

    def remote_name(self, signal_type: str) -> str | None:
        """How the exchange spells our ``signal_type``, or ``None``."""
        return get_signal_type(signal_type).exchange_names.get(self.signal_format)

    @abstractmethod
    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[FetchPage]:
        """Pages of records changed since ``checkpoint`` (``None``: from the beginning), in
        order, until the exchange has no more; raises an
        :class:`~shieldwall.errors.ExchangeError` when a request fails (the pages yielded
        before it stay applied)."""

    def send_feedback(self, items: Sequence[FeedbackItem]) -> None:
        """Tell the exchange what was decided about its hashes; raises an
        :class:`~shieldwall.errors.ExchangeError` when it fails (the items stay pending)."""
        raise ExchangeError(f"the {self.kind} exchange takes no feedback")

    def submit(self, submissions: Sequence[Submission]) -> None:
        """Share hashes with the exchange (given with consent); raises an
        :class:`~shieldwall.errors.ExchangeError` when it fails."""
        raise ExchangeError(f"the {self.kind} exchange takes no submissions")

    def withdraw(self, submissions: Sequence[Submission]) -> None:
        """Tell the exchange that hashes we submitted are withdrawn by the person who gave
        them; raises an :class:`~shieldwall.errors.ExchangeError` when it fails."""
        raise ExchangeError(f"the {self.kind} exchange takes no withdrawals")


def protocol_error(what: str, problem: str) -> ExchangeProtocolError:
    """An :class:`ExchangeProtocolError` worded the same way by every plug-in."""
    return ExchangeProtocolError(f"{what}: {problem}")
