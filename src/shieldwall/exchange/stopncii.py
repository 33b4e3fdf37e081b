"""StopNCII.org: hashes people made on their own devices, and feedback on them.

The protocol (the API python-threatexchange's client calls; ``docs/exchanges.md``):

- ``GET {base}/FetchHashes?startTimestamp=&pageSize=[&nextPageToken=]`` with headers
  ``x-functions-key`` (the fetch key) and ``Ocp-Apim-Subscription-Key``. The answer:
  ``count``, ``hashRecords``, ``hasMoreRecords``, ``nextPageToken`` (the next page of this
  fetch) and ``nextSetTimestamp`` (where the next fetch starts once this one is done).
- Each hash record (``signalType``, ``hashValue``, ``hashStatus``, ``caseNumbers`` {case:
  status}, ``lastModtimestamp``, ``CSPFeedbacks``) is the hash's whole current state.
  ``hashStatus`` ``Withdrawn`` or ``Deleted`` means the hash must be removed: read from
  ``hashStatus`` (python-threatexchange compares ``hashValue`` against those statuses, so
  HMA never removes a withdrawn hash).
- ``POST {base}/SubmitFeedback`` ``{count, hashFeedbacks: [{hashValue, tags, feedbackValue}]}``
  with the feedback key: ``PendingReview`` (there was a match), ``Blocked`` (determined to be
  NCII, removed), ``NotBlocked`` (a reviewer found it is not).
- ``POST {base}/SubmitHashes`` ``{count, hashRecords: [{lastModtimestamp, signalType,
  hashValue, CSPFeedbacks}]}`` with the submit key (the signal type as StopNCII spells it,
  ``ImagePDQ``, not the Python enum's repr python-threatexchange sends).
- Withdrawal of hashes we submitted: the API has no call to delete a submission (a person
  withdraws their own StopNCII case at stopncii.org with its case number and PIN). The closest
  documented call is ``SubmitFeedback`` with the CSP feedback value ``Withdrawn`` (one of
  ``Unknown, None, QualityUnknown, PendingReview, Blocked, NotBlocked, Withdrawn, Deleted``),
  which :meth:`StopNCIIExchange.withdraw` sends for each hash.

Signal types are mapped through the signal-type capabilities (``ImagePDQ`` -> ``pdq``,
``VideoMD5`` -> ``md5``); ``VideoTMK``, ``Text``, ``URL`` records are counted as skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

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
    Submission,
    protocol_error,
    read_secret,
)
from shieldwall.signals import Exchange

__all__ = ["StopNCIIExchange", "StopNCIISettings"]

BASE_URL = "https://api.stopncii.org/v1"
#: ``hashStatus`` (and case statuses) meaning the hash must be removed.
GONE = frozenset({"withdrawn", "deleted"})
FEEDBACK_VALUES = {
    Feedback.MATCHED: "PendingReview",
    Feedback.CONFIRMED: "Blocked",
    Feedback.REJECTED: "NotBlocked",
}


class StopNCIISettings(BaseModel):
    """The settings of a StopNCII exchange: keys given directly or (better) as files."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(default=BASE_URL, pattern=r"^https?://\S+$")
    subscription_key: str | None = None
    subscription_key_file: Path | None = None
    fetch_key: str | None = None
    fetch_key_file: Path | None = None
    feedback_key: str | None = None
    feedback_key_file: Path | None = None
    submit_key: str | None = None
    submit_key_file: Path | None = None
    page_size: int = Field(default=800, ge=1, le=10_000)
    #: Where the first fetch starts (StopNCII's own default is 10).
    start_timestamp: int = Field(default=10, ge=0)
    #: Tags sent with feedback.
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_keys(self) -> StopNCIISettings:
        if not (self.subscription_key or self.subscription_key_file):
            raise ValueError("give subscription_key or subscription_key_file")
        if not (self.fetch_key or self.fetch_key_file):
            raise ValueError("give fetch_key or fetch_key_file")
        return self


class StopNCIIExchange(SignalExchange):
    """StopNCII.org's hash API: fetch with withdrawals, feedback, submission."""

    kind = "stopncii"
    signal_format = Exchange.STOPNCII
    settings_model = StopNCIISettings
    secret_settings = frozenset({"subscription_key", "fetch_key", "feedback_key", "submit_key"})
    can_feedback = True
    can_submit = True
    can_withdraw = True

    #: Records of one page, at most (a guard against an answer that never ends).
    MAX_PAGE: ClassVar[int] = 100_000

    @property
    def _settings(self) -> StopNCIISettings:
        assert isinstance(self.settings, StopNCIISettings)
        return self.settings

    def _headers(self, key: str, which: str) -> dict[str, str]:
        s = self._settings
        function_key = read_secret(
            getattr(s, f"{key}_key"), getattr(s, f"{key}_key_file"), f"{self.name} {key} key"
        )
        if not function_key:
            raise ExchangeRefused(f"{self.name}: no {key}_key configured for {which}")
        subscription = read_secret(
            s.subscription_key, s.subscription_key_file, f"{self.name} subscription key"
        )
        return {
            "x-functions-key": function_key,
            "Ocp-Apim-Subscription-Key": subscription or "",
            "Accept": "application/json",
        }

    def _json(self, body: bytes, what: str) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON; 5000-digit numbers, [[[[... too
            raise protocol_error(what, "the answer is not JSON") from None
        if not isinstance(data, dict):
            raise protocol_error(what, "the answer is not a JSON object")
        return data

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[FetchPage]:
        s = self._settings
        start = int((checkpoint or {}).get("startTimestamp", s.start_timestamp))
        token = (checkpoint or {}).get("nextPageToken")
        page_number = 0
        while True:
            page_number += 1
            query: dict[str, Any] = {"startTimestamp": start, "pageSize": s.page_size}
            if token:
                query["nextPageToken"] = token
            what = f"{self.name} FetchHashes"
            answer = self.context.http(
                f"{s.base_url.rstrip('/')}/FetchHashes?{urlencode(query)}",
                headers=self._headers("fetch", "FetchHashes"),
                what=what,
            )
            data = self._json(answer.body, what)
            raw = data.get("hashRecords")
            if not isinstance(raw, list) or len(raw) > self.MAX_PAGE:
                raise protocol_error(what, "hashRecords is missing or not a list")
            more = data.get("hasMoreRecords") is True
            token = data.get("nextPageToken") if more else None
            if more and not isinstance(token, str):
                raise protocol_error(what, "hasMoreRecords without a nextPageToken")
            records = [
                self._record(r, f"{self.name} page {page_number} record {i + 1}")
                for i, r in enumerate(raw)
            ]
            if more:
                reached: Checkpoint = {"startTimestamp": start, "nextPageToken": token}
            else:
                following = data.get("nextSetTimestamp")
                if not isinstance(following, int) or isinstance(following, bool):
                    raise protocol_error(what, "nextSetTimestamp is missing or not a number")
                reached = {"startTimestamp": following}
            yield FetchPage(records, reached, more=more)
            if not more:
                return

    def _record(self, raw: Any, source: str) -> HashRecord | BadRecord:
        if not isinstance(raw, dict):
            return BadRecord(source, "a hash record must be a JSON object")
        kind, value = raw.get("signalType"), raw.get("hashValue")
        if not isinstance(kind, str) or not isinstance(value, str) or not value:
            return BadRecord(source, "a hash record needs string signalType and hashValue")
        status = raw.get("hashStatus", "Active")
        if not isinstance(status, str):
            return BadRecord(source, "hashStatus must be a string")
        cases = raw.get("caseNumbers") or {}
        if not isinstance(cases, dict) or not all(isinstance(c, str) for c in cases):
            return BadRecord(source, "caseNumbers must map case numbers to statuses")
        active = sorted(c for c, st in cases.items() if str(st).lower() not in GONE)
        return HashRecord(
            signals=(RemoteSignal(kind, value),),
            refs=tuple(active),
            withdrawn=status.lower() in GONE,
            complete=True,
            source=source,
        )

    def send_feedback(self, items: Sequence[FeedbackItem]) -> None:
        s = self._settings
        body = {
            "count": len(items),
            "hashFeedbacks": [
                {
                    "hashValue": item.signal.value,
                    "tags": list(s.tags),
                    "feedbackValue": FEEDBACK_VALUES[item.feedback],
                }
                for item in items
            ],
        }
        self.context.http(
            f"{s.base_url.rstrip('/')}/SubmitFeedback",
            method="POST",
            body=json.dumps(body).encode(),
            headers={
                **self._headers("feedback", "SubmitFeedback"),
                "Content-Type": "application/json",
            },
            what=f"{self.name} SubmitFeedback",
        )

    def submit(self, submissions: Sequence[Submission]) -> None:
        s = self._settings
        now = int(time.time())
        for sub in submissions:
            if self.signal_type(sub.signal.type) is None:
                raise ExchangeError(f"{self.name}: StopNCII takes no {sub.signal.type!r} hashes")
        body = {
            "count": len(submissions),
            "hashRecords": [
                {
                    "lastModtimestamp": now,
                    "signalType": sub.signal.type,
                    "hashValue": sub.signal.value,
                    "CSPFeedbacks": [],
                }
                for sub in submissions
            ],
        }
        self.context.http(
            f"{s.base_url.rstrip('/')}/SubmitHashes",
            method="POST",
            body=json.dumps(body).encode(),
            headers={**self._headers("submit", "SubmitHashes"), "Content-Type": "application/json"},
            what=f"{self.name} SubmitHashes",
        )

    def withdraw(self, submissions: Sequence[Submission]) -> None:
        s = self._settings
        body = {
            "count": len(submissions),
            "hashFeedbacks": [
                {"hashValue": sub.signal.value, "tags": list(s.tags), "feedbackValue": "Withdrawn"}
                for sub in submissions
            ],
        }
        self.context.http(
            f"{s.base_url.rstrip('/')}/SubmitFeedback",
            method="POST",
            body=json.dumps(body).encode(),
            headers={
                **self._headers("feedback", "SubmitFeedback"),
                "Content-Type": "application/json",
            },
            what=f"{self.name} SubmitFeedback (Withdrawn)",
        )
