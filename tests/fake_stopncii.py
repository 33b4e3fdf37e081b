"""A fake StopNCII hash API on loopback: a real HTTP server implementing the documented protocol
(``FetchHashes`` paged by ``nextPageToken`` within a fetch and ``nextSetTimestamp`` between
fetches, ``hashStatus`` Withdrawn/Deleted, ``SubmitFeedback``, ``SubmitHashes``), its keys
checked, and errors to order (401, 429 with ``Retry-After``, 5xx, a slow answer, a body that is
not JSON).

It keeps the latest state of each hash, stamped with a growing ``lastModtimestamp``; a fetch
from ``startTimestamp`` returns every hash changed at or after it, oldest first.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fake_server import FakeServer, Reply, Request
from shieldwall.exchange import Feedback, RemoteSignal

FETCH_KEY = "fetch-key-1"
FEEDBACK_KEY = "feedback-key-1"
SUBMIT_KEY = "submit-key-1"
SUBSCRIPTION_KEY = "subscription-1"

FEEDBACK_OF = {"PendingReview": Feedback.MATCHED, "Blocked": Feedback.CONFIRMED}
FEEDBACK_OF["NotBlocked"] = Feedback.REJECTED
#: The CSP feedback value a platform sends for a hash it submitted and the person withdrew.
WITHDRAWN = "Withdrawn"


@dataclass
class _Hash:
    record: dict[str, Any]
    stamp: int


@dataclass
class FakeStopNCII:
    """The fake's state and controls; :attr:`server` serves it."""

    records: dict[tuple[str, str], _Hash] = field(default_factory=dict)
    #: Malformed records served among the others (raw objects), with their stamp.
    raw: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    clock: int = 1000
    failures: list[Reply] = field(default_factory=list)
    #: Answers to the next SubmitFeedback calls (the fetches still answered).
    feedback_failures: list[Reply] = field(default_factory=list)
    feedbacks: list[dict[str, Any]] = field(default_factory=list)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    #: The raw bodies of SubmitHashes, as they came (what a platform sent, byte for byte).
    submitted_bodies: list[bytes] = field(default_factory=list)
    #: Answers to the next SubmitHashes calls.
    submit_failures: list[Reply] = field(default_factory=list)
    fetches: list[dict[str, list[str]]] = field(default_factory=list)
    #: Seconds to wait before each FetchHashes answer (a kill test needs a slow feed).
    delay: float = 0.0
    #: Records made on demand for big feeds: ``stamp -> record`` for stamps 1..generated.
    generated: int = 0
    generator: Callable[[int], dict[str, Any]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: FakeServer | None = None

    # -- controls (the contract's FakeExchange protocol) ------------------------------------

    pdq_type = "ImagePDQ"
    exact_type = "VideoMD5"
    unsupported_type = "VideoTMK"

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def put(self, signal: RemoteSignal, refs: Sequence[str] = ("case-1",)) -> None:
        """Add or update a hash, Active, held by the cases ``refs``."""
        self.put_record(signal, dict.fromkeys(refs, "Active"), "Active")

    def put_record(self, signal: RemoteSignal, cases: dict[str, str], status: str) -> None:
        with self.lock:
            stamp = self._tick()
            self.records[(signal.type, signal.value)] = _Hash(
                {
                    "lastModtimestamp": stamp,
                    "signalType": signal.type,
                    "hashValue": signal.value,
                    "hashStatus": status,
                    "caseNumbers": cases,
                    "CSPFeedbacks": [],
                },
                stamp,
            )

    def withdraw(self, signal: RemoteSignal, status: str = "Withdrawn") -> None:
        """Withdraw a hash: every case withdrawn, ``hashStatus`` Withdrawn (or Deleted)."""
        with self.lock:
            old = self.records[(signal.type, signal.value)].record
        self.put_record(signal, dict.fromkeys(old["caseNumbers"], "Withdrawn"), status)

    def put_malformed(self) -> None:
        """A record without a hashValue."""
        with self.lock:
            self.raw.append(({"signalType": "ImagePDQ", "hashStatus": "Active"}, self._tick()))

    def fail_next(self, status: int, retry_after: float | None = None, body: bytes = b"") -> None:
        """Answer the next request with ``status`` (``0``: a slow answer, past any timeout)."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        if status == 0:
            self.failures.append(Reply(200, b"{}", delay=2.0))
            return
        self.failures.append(Reply(status, body or b'{"message": "failure"}', headers))

    def feedback(self) -> list[tuple[str, Feedback]]:
        """Every feedback received, as ``(hash value, feedback)``."""
        return [
            (f["hashValue"], FEEDBACK_OF[f["feedbackValue"]])
            for batch in self.feedbacks
            for f in batch["hashFeedbacks"]
            if f["feedbackValue"] in FEEDBACK_OF
        ]

    def withdrawals(self) -> list[str]:
        """The hash values a platform said were withdrawn (feedback ``Withdrawn``)."""
        return [
            f["hashValue"]
            for batch in self.feedbacks
            for f in batch["hashFeedbacks"]
            if f["feedbackValue"] == WITHDRAWN
        ]

    def settings(self) -> dict[str, Any]:
        """What ``add_exchange`` takes to reach this fake."""
        assert self.server is not None
        return {
            "base_url": self.server.url("/v1"),
            "subscription_key": SUBSCRIPTION_KEY,
            "fetch_key": FETCH_KEY,
            "feedback_key": FEEDBACK_KEY,
            "submit_key": SUBMIT_KEY,
            "page_size": 2,
        }

    # -- the protocol ---------------------------------------------------------------------

    def _changed(self, start: int) -> list[dict[str, Any]]:
        with self.lock:
            found = [(h.stamp, h.record) for h in self.records.values() if h.stamp >= start]
            found += [(stamp, r) for r, stamp in self.raw if stamp >= start]
        found.sort(key=lambda p: p[0])
        return [r for _, r in found]

    def _page(self, start: int, offset: int, size: int) -> tuple[list[Any], bool, int]:
        if self.generator is not None:
            first = max(start, 1) + offset
            last = min(self.generated, first + size - 1)
            page = [self.generator(i) for i in range(first, last + 1)]
            return page, last < self.generated, self.generated + 1
        changed = self._changed(start)
        page = changed[offset : offset + size]
        following = max([int(r.get("lastModtimestamp", 0)) for r in changed] + [start - 1]) + 1
        with self.lock:
            following = max([following] + [s + 1 for _, s in self.raw if s >= start])
        return page, offset + size < len(changed), following

    def respond(self, request: Request) -> Reply:
        if self.failures:
            return self.failures.pop(0)
        url = urlsplit(request.path)
        keys = {
            "/v1/FetchHashes": FETCH_KEY,
            "/v1/SubmitFeedback": FEEDBACK_KEY,
            "/v1/SubmitHashes": SUBMIT_KEY,
        }
        expected = keys.get(url.path)
        if expected is None:
            return Reply(404, b'{"message": "no such function"}')
        if (
            request.headers.get("x-functions-key") != expected
            or request.headers.get("ocp-apim-subscription-key") != SUBSCRIPTION_KEY
        ):
            return Reply(401, b'{"message": "Access denied due to invalid subscription key."}')
        if url.path == "/v1/FetchHashes" and request.method == "GET":
            query = parse_qs(url.query)
            self.fetches.append(query)
            if self.delay:
                time.sleep(self.delay)
            start = int(query.get("startTimestamp", ["10"])[0])
            size = int(query.get("pageSize", ["800"])[0])
            token = query.get("nextPageToken", [""])[0]
            offset = int(token.split(":")[1]) if token else 0
            page, more, following = self._page(start, offset, size)
            body = {
                "count": len(page),
                "hashRecords": page,
                "hasMoreRecords": more,
                "nextPageToken": f"t:{offset + size}" if more else None,
                "nextSetTimestamp": following,
            }
            return Reply(200, json.dumps(body).encode())
        if request.method != "POST":
            return Reply(405, b"")
        if url.path == "/v1/SubmitFeedback" and self.feedback_failures:
            return self.feedback_failures.pop(0)
        if url.path == "/v1/SubmitHashes" and self.submit_failures:
            return self.submit_failures.pop(0)
        data = json.loads(request.body)
        if url.path == "/v1/SubmitFeedback":
            self.feedbacks.append(data)
        else:
            self.submitted_bodies.append(request.body)
            self.submitted.append(data)
            for r in data["hashRecords"]:
                self.put(RemoteSignal(r["signalType"], r["hashValue"]), ("submitted",))
        return Reply(200, b'{"count": %d}' % data["count"])


def serve(records: Iterable[tuple[RemoteSignal, Sequence[str]]] = ()) -> FakeStopNCII:
    """A fake with ``records`` in it, its server not yet started (``with fake.server:``)."""
    fake = FakeStopNCII()
    for signal, refs in records:
        fake.put(signal, refs)
    fake.server = FakeServer(fake.respond)
    return fake
