"""A fake NCMEC hash-sharing API v2 on loopback: a real HTTP server implementing the documented
protocol (basic authentication, ``GET /v2/entries?from=&to=`` in XML with ``<paging><next>``,
``<deletedImage>``/``<deletedVideo>`` tombstones, ``GET /v2/feedback`` reasons, ``PUT
/v2/entries/{member}/{id}/{fingerprint}/feedback``), and errors to order.

Entries are stamped by the fake's own clock, a second apart, well in the past, so a window
ending now holds them all. Each entry holds one item: its fingerprints by type.
"""

from __future__ import annotations

import base64
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.sax.saxutils import escape

from fake_server import FakeServer, Reply, Request
from shieldwall.exchange import Feedback, RemoteSignal

USER, PASSWORD = "esp-user", "esp-password"
MEMBER = 42
REASON = "01234567-abcd-0123-4567-012345678900"
_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Entry:
    member: int
    id: str
    kind: str  # image | video
    fingerprints: dict[str, str]
    stamp: int
    deleted: bool = False


def _parse_time(text: str) -> int:
    text = text.replace(".000Z", "Z")
    return int(datetime.strptime(text, _TIME).replace(tzinfo=UTC).timestamp())


@dataclass
class FakeNCMEC:
    """The fake's state and controls (the contract's ``FakeExchange``)."""

    entries: dict[str, Entry] = field(default_factory=dict)
    malformed: list[tuple[str, int]] = field(default_factory=list)
    clock: int = field(default_factory=lambda: int(time.time()) - 86400)
    page_size: int = 2
    failures: list[Reply] = field(default_factory=list)
    #: ``(member/id, fingerprint type, affirmative | negative, reason guid or None)``.
    feedbacks: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    queries: list[dict[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: FakeServer | None = None

    pdq_type = "pdq"
    exact_type = "md5"
    unsupported_type = "sha1"

    def now(self) -> float:
        """The fake's time: just after its latest change (the client's windows end here)."""
        return float(self.clock + 1)

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def put_entry(self, entry_id: str, fingerprints: dict[str, str], kind: str = "image") -> None:
        with self.lock:
            self.entries[entry_id] = Entry(MEMBER, entry_id, kind, fingerprints, self._tick())

    def put(self, signal: RemoteSignal, refs: Sequence[str] = ()) -> None:
        """An entry holding ``signal`` (its id made from the value, or the first of ``refs``)."""
        entry_id = refs[0] if refs else f"e-{signal.value[:12]}"
        self.put_entry(entry_id, {signal.type: signal.value})

    def withdraw(self, signal: RemoteSignal) -> None:
        with self.lock:
            for entry in self.entries.values():
                if entry.fingerprints.get(signal.type) == signal.value:
                    entry.deleted, entry.stamp = True, self._tick()

    def delete(self, entry_id: str) -> None:
        with self.lock:
            entry = self.entries[entry_id]
            entry.deleted, entry.stamp = True, self._tick()

    def put_malformed(self) -> None:
        with self.lock:
            self.malformed.append(("<image><timestamp>x</timestamp></image>", self._tick()))

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        if status == 0:
            self.failures.append(Reply(200, b"<queryResult/>", delay=2.0))
            return
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self.failures.append(Reply(status, b"<error>failure</error>", headers))

    def feedback(self) -> list[tuple[str, Feedback]]:
        out = []
        for ref, fingerprint, kind, _reason in self.feedbacks:
            entry = self.entries[ref.partition("/")[2]]
            value = entry.fingerprints[fingerprint.lower()]
            out.append((value, Feedback.CONFIRMED if kind == "affirmative" else Feedback.REJECTED))
        return out

    def settings(self) -> dict[str, Any]:
        assert self.server is not None
        return {"base_url": self.server.url(""), "username": USER, "password": PASSWORD}

    # -- the protocol ---------------------------------------------------------------------

    def _entry_xml(self, e: Entry) -> str:
        head = f'<member id="{e.member}">Example Member</member><id>{escape(e.id)}</id>'
        stamp = datetime.fromtimestamp(e.stamp, UTC).strftime(_TIME)
        if e.deleted:
            tag = "deletedImage" if e.kind == "image" else "deletedVideo"
            return f"<{tag}>{head}<timestamp>{stamp}</timestamp></{tag}>"
        prints = "".join(f"<{t}>{escape(v)}</{t}>" for t, v in e.fingerprints.items())
        return (
            f"<{e.kind}>{head}<timestamp>{stamp}</timestamp><classification>A1</classification>"
            f"<fingerprints>{prints}</fingerprints><feedback/></{e.kind}>"
        )

    def _entries(self, query: dict[str, list[str]]) -> Reply:
        start, end = _parse_time(query["from"][0]), _parse_time(query["to"][0])
        offset = int(query.get("start", ["1"])[0]) - 1
        with self.lock:
            found = [(e.stamp, e.kind, self._entry_xml(e)) for e in self.entries.values()]
            found += [(stamp, "image", xml) for xml, stamp in self.malformed]
        # NCMEC does not answer in time order: newest first here
        window = sorted((f for f in found if start <= f[0] < end), key=lambda f: -f[0])
        page = window[offset : offset + self.page_size]
        groups = ""
        for kind in ("image", "video"):
            items = "".join(x for _, k, x in page if k == kind)
            if items:
                groups += f'<{kind}s count="{len(items)}" maxTimestamp="x">{items}</{kind}s>'
        paging = ""
        if offset + self.page_size < len(window):
            following = urlencode(
                {
                    "from": query["from"][0],
                    "to": query["to"][0],
                    "start": offset + self.page_size + 1,
                    "size": self.page_size,
                    "max": len(window),
                }
            )
            paging = f"<paging><next>{escape('/v2/entries?' + following)}</next></paging>"
        body = f'<?xml version="1.0"?><queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">{groups}{paging}</queryResult>'
        return Reply(200, body.encode(), {"Content-Type": "application/xml"})

    def respond(self, request: Request) -> Reply:
        if self.failures:
            return self.failures.pop(0)
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, b"<error>unauthorized</error>")
        url = urlsplit(request.path)
        parts = url.path.strip("/").split("/")
        if request.method == "GET" and url.path == "/v2/entries":
            query = parse_qs(url.query)
            self.queries.append(query)
            return self._entries(query)
        if request.method == "GET" and url.path == "/v2/feedback":
            body = (
                '<availableFeedbackReasons xmlns="https://hashsharing.ncmec.org/hashsharing/v2">'
                f'<reason guid="{REASON}" name="Not CSAM" type="Md5"/></availableFeedbackReasons>'
            )
            return Reply(200, body.encode())
        if request.method == "PUT" and len(parts) == 6 and parts[-1] == "feedback":
            _, _, member, entry_id, fingerprint, _ = parts
            if entry_id not in self.entries:
                return Reply(404, b"<error>no such entry</error>")
            root = ET.fromstring(request.body)
            kinds = [c.tag.rpartition("}")[2] for c in root]
            guid = next((g.text for g in root.iter() if g.tag.endswith("guid")), None)
            if kinds not in (["affirmative"], ["negative"]):
                return Reply(400, b"<error>bad feedback</error>")
            self.feedbacks.append((f"{member}/{entry_id}", fingerprint, kinds[0], guid))
            return Reply(200, b"<submissionResult/>")
        return Reply(404, b"<error>not found</error>")


def serve() -> FakeNCMEC:
    """A fake, its server not yet started (``with fake.server:``)."""
    fake = FakeNCMEC()
    fake.server = FakeServer(fake.respond)
    return fake
