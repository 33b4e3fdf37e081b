"""NCMEC hash sharing (XML API v2): entries by time window with paging, tombstones, feedback.

The protocol (as python-threatexchange's client and NCMEC's v2 documentation describe it;
``docs/exchanges.md``):

- HTTP basic authentication; ``GET {base}/v2/entries?from=&to=`` (UTC,
  ``%Y-%m-%dT%H:%M:%SZ``) answers ``<queryResult>`` with ``<images>``/``<videos>`` holding
  ``<image>``/``<video>`` entries (``<member id>``, ``<id>``, ``<timestamp>``,
  ``<classification>``, ``<fingerprints>`` with ``<md5>``, ``<sha1>``, ``<pdna>``, ``<pdq>``,
  ...) and tombstones ``<deletedImage>``/``<deletedVideo>`` (member and id only), and
  ``<paging><next>`` naming the next page of the same window (a path under the base, valid
  for about 12 hours). Entries do not come in time order, so a window counts as read only
  once its last page is applied: the checkpoint keeps the window and the next page until then.
- Each entry is one item held by ``<member>/<id>``; MD5 and PDQ fingerprints are banked
  through the signal-type capabilities, the others (SHA1, PhotoDNA, TMK+PDQF, ...) are counted
  as skipped types and kept in the entry's note. A tombstone withdraws that ``member/id`` only.
- Feedback: ``PUT {base}/v2/entries/{member}/{id}/{FINGERPRINT}/feedback`` with
  ``<feedbackSubmission><affirmative/></feedbackSubmission>`` (confirmed) or
  ``<negative><reasonIds><guid>...</guid></reasonIds></negative>`` (rejected; the reason's
  guid from the settings, else the first of ``GET {base}/v2/feedback``'s
  ``availableFeedbackReasons`` for that fingerprint type). NCMEC takes no "matched, pending
  review" feedback.

Matches on NCMEC hashes concern children: the plug-in declares :attr:`restricted`.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shieldwall.errors import ExchangeError, ExchangeRefused
from shieldwall.exchange.base import (
    BadRecord,
    Checkpoint,
    Feedback,
    FeedbackItem,
    FetchPage,
    HashRecord,
    RemoteSignal,
    SignalExchange,
    protocol_error,
    read_secret,
)
from shieldwall.signals import Exchange

__all__ = ["NCMECExchange", "NCMECSettings", "ncmec_time"]

BASE_URL = "https://report.cybertip.org/hashsharing"
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_NS = "https://hashsharing.ncmec.org/hashsharing/v2"
#: How long a ``<paging><next>`` link lasts (NCMEC: about 12 hours); older ones start the
#: window again (applying its entries again changes nothing).
NEXT_LIFETIME = 11 * 3600


def ncmec_time(timestamp: int) -> str:
    """A Unix time as NCMEC writes it, in UTC (python-threatexchange formats local time)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime(_TIME)


class NCMECSettings(BaseModel):
    """The settings of an NCMEC hash-sharing exchange."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(default=BASE_URL, pattern=r"^https?://\S+$")
    username: str | None = None
    username_file: Path | None = None
    password: str | None = None
    password_file: Path | None = None
    #: Where the first fetch starts (Unix time).
    start_timestamp: int = Field(default=0, ge=0)
    #: Each window reaches back this far over the previous one's end (clock skew, entries
    #: stamped as the window closed); the overlap is applied again harmlessly.
    overlap_seconds: int = Field(default=0, ge=0, le=86400)
    #: Only entries of these members (ESP ids); empty: every member's.
    only_members: list[int] = Field(default_factory=list)
    #: The guid of the reason sent with negative feedback (else the first NCMEC offers).
    negative_reason: str | None = None

    @model_validator(mode="after")
    def _has_credentials(self) -> NCMECSettings:
        if not (self.username or self.username_file):
            raise ValueError("give username or username_file")
        if not (self.password or self.password_file):
            raise ValueError("give password or password_file")
        return self


def _strip_namespaces(root: ET.Element) -> ET.Element:
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
    return root


class NCMECExchange(SignalExchange):
    """NCMEC's hash-sharing API v2."""

    kind = "ncmec"
    signal_format = Exchange.NCMEC
    settings_model = NCMECSettings
    secret_settings = frozenset({"password"})
    can_feedback = True
    feedback_kinds = frozenset({Feedback.CONFIRMED, Feedback.REJECTED})
    restricted = True

    MAX_PAGE: ClassVar[int] = 100_000

    @property
    def _settings(self) -> NCMECSettings:
        assert isinstance(self.settings, NCMECSettings)
        return self.settings

    def _headers(self) -> dict[str, str]:
        s = self._settings
        user = read_secret(s.username, s.username_file, f"{self.name} username")
        password = read_secret(s.password, s.password_file, f"{self.name} password")
        if not user or not password:
            raise ExchangeRefused(f"{self.name}: no NCMEC username and password configured")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/xml"}

    def _xml(self, body: bytes, what: str) -> ET.Element:
        try:
            return _strip_namespaces(ET.fromstring(body))  # noqa: S314 - expat, no DTDs fetched
        except ET.ParseError as exc:
            raise protocol_error(what, f"the answer is not XML ({exc})") from None

    def _base(self) -> str:
        return self._settings.base_url.rstrip("/")

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[FetchPage]:
        s = self._settings
        state = checkpoint or {}
        start = int(state.get("from", s.start_timestamp))
        now = int(self.context.clock())
        end = int(state.get("to", now))
        next_path = state.get("next")
        if next_path and now - int(state.get("next_at", 0)) > NEXT_LIFETIME:
            next_path = None  # expired: read the window again from its start
        page_number = 0
        what = f"{self.name} entries"
        while True:
            page_number += 1
            if next_path:
                if not str(next_path).startswith("/") or str(next_path).startswith("//"):
                    raise protocol_error(what, f"a paging link outside the API: {next_path!r}")
                url = self._base() + str(next_path)
            else:
                query = {"from": ncmec_time(start), "to": ncmec_time(end)}
                url = f"{self._base()}/v2/entries?{urlencode(query)}"
            answer = self.context.http(url, headers=self._headers(), what=what)
            root = self._xml(answer.body, what)
            if root.tag != "queryResult":
                raise protocol_error(what, f"expected <queryResult>, got <{root.tag}>")
            records: list[HashRecord | BadRecord] = []
            for group in ("images", "videos"):
                container = root.find(group)
                for element in [] if container is None else list(container):
                    source = f"{self.name} page {page_number} record {len(records) + 1}"
                    record = self._record(element, source)
                    if record is not None:
                        records.append(record)
            if len(records) > self.MAX_PAGE:
                raise protocol_error(what, "too many entries in one page")
            following = (root.findtext("paging/next") or "").strip()
            if following:
                reached: Checkpoint = {
                    "from": start,
                    "to": end,
                    "next": following,
                    "next_at": now,
                }
            else:
                reached = {"from": max(start, end - s.overlap_seconds)}
            yield FetchPage(records, reached, more=bool(following))
            if not following:
                return
            next_path = following

    def _record(self, element: ET.Element, source: str) -> HashRecord | BadRecord | None:
        tag = element.tag.lower()
        deleted = tag.startswith("deleted")
        if tag.removeprefix("deleted") not in ("image", "video"):
            return BadRecord(source, f"unexpected <{element.tag}>")
        member = element.find("member")
        entry_id = (element.findtext("id") or "").strip()
        member_id = member.get("id", "").strip() if member is not None else ""
        if not entry_id or not (member_id.isascii() and member_id.isdigit()):  # not "²"
            return BadRecord(source, f"<{element.tag}> needs an <id> and a <member id>")
        only = self._settings.only_members
        if only and int(member_id) not in only:
            return None
        ref = f"{member_id}/{entry_id}"
        if deleted:
            return HashRecord((), refs=(ref,), withdrawn=True, complete=False, source=source)
        signals: list[RemoteSignal] = []
        kept: list[str] = []
        fingerprints = element.find("fingerprints")
        for fingerprint in [] if fingerprints is None else list(fingerprints):
            value = (fingerprint.text or "").strip()
            if not value:
                continue  # a large fingerprint given by link (TMK+PDQF, Videntifier)
            if self.signal_type(fingerprint.tag) is None:
                kept.append(f"{fingerprint.tag.upper()} {value}")
            signals.append(RemoteSignal(fingerprint.tag, value))
        classification = (element.findtext("classification") or "").strip()
        note = f"NCMEC entry {ref}" + (
            f", classification {classification}" if classification else ""
        )
        if kept:
            note += "; fingerprints not matched here: " + "; ".join(kept)
        if not signals:
            return BadRecord(source, f"NCMEC entry {ref} has no fingerprint")
        return HashRecord(tuple(signals), refs=(ref,), complete=False, note=note, source=source)

    def _negative_reason(self, fingerprint: str) -> str:
        if self._settings.negative_reason:
            return self._settings.negative_reason
        what = f"{self.name} feedback reasons"
        answer = self.context.http(
            f"{self._base()}/v2/feedback", headers=self._headers(), what=what
        )
        root = self._xml(answer.body, what)
        reasons = [r for r in root.iter("reason") if r.get("guid")]
        for reason in reasons:
            if (reason.get("type") or "").lower() == fingerprint.lower():
                return str(reason.get("guid"))
        if reasons:
            return str(reasons[0].get("guid"))
        raise ExchangeError(f"{what}: NCMEC offers no reason for negative feedback")

    def send_feedback(self, items: Sequence[FeedbackItem]) -> None:
        for item in items:
            if item.feedback not in self.feedback_kinds:
                continue
            fingerprint = item.signal.type.upper()
            if item.feedback is Feedback.CONFIRMED:
                inner = "<affirmative/>"
            else:
                guid = escape(self._negative_reason(fingerprint))
                inner = f"<negative><reasonIds><guid>{guid}</guid></reasonIds></negative>"
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f'<feedbackSubmission xmlns="{_NS}">{inner}</feedbackSubmission>'
            ).encode()
            for ref in item.refs:
                member, _, entry = ref.partition("/")
                self.context.http(
                    f"{self._base()}/v2/entries/{member}/{entry}/{fingerprint}/feedback",
                    method="PUT",
                    body=body,
                    headers={**self._headers(), "Content-Type": "application/xml"},
                    what=f"{self.name} feedback on {ref}",
                )
