"""What a removal banks, and where its hashes came from (docs/cases.md, "What a removal
banks").

A ``remove`` decision banks the content's signals so that copies are swept for and re-uploads
blocked. For each content id of the case, in this order:

1. the **ledger** (the platform recorded the content with ``POST /v1/ledger``): its signals;
2. else the reviewer's **upload** of the content (the console's decision form), hashed;
3. else the platform's **preview** (``preview_url_template``), fetched at decision time under
   the outbound address policy and hashed, then dropped.

A photo hashed here is banked with its bank-side variants (``bank_variants``), as any photo a
person banks. When none of this gives a hash, the decision is still recorded (a removal must
not wait), and :class:`Banking` says plainly why nothing could be banked: the case page, the
decision's answer and the statement of reasons say only what is true.

Gathering runs before the decision's transaction (a fetch is slow and SQLite has one writer);
:class:`Banking` is stored on the case (``case_item.banking``, migration
``0019_removal_banking``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shieldwall.cases.platform import fetch_preview
from shieldwall.config import Settings
from shieldwall.errors import FetchError, ShieldwallError
from shieldwall.hashing import hash_media, limits_from, sniff_content_type, video_limits_from
from shieldwall.media import Media
from shieldwall.media.image import check_size
from shieldwall.signals import ContentType, Signal, get_signal_type

__all__ = ["SOURCES", "Banking", "Gathered", "gather_signals", "hash_content"]

#: Where a content's banked hashes came from, and how a person reads it.
SOURCES = {
    "ledger": "the ledger of hosted content",
    "upload": "the reviewer's upload",
    "preview": "the platform's preview, fetched at decision time",
}


@dataclass(frozen=True, slots=True)
class Banking:
    """What a removal banked: the block bank's entry and the sweep it queued, the signal types
    banked (values are never shown: hashes are sensitive) and, per content id, where they came
    from; or, in ``missing``, why a content's hashes could not be banked.

    ``banked`` is false when nothing was: then ``entry_id`` and ``sweep_job_id`` are ``None``
    and copies are neither swept for nor blocked."""

    bank: str | None = None
    entry_id: int | None = None
    sweep_job_id: int | None = None
    #: content id -> ``ledger``, ``upload`` or ``preview`` (see :data:`SOURCES`).
    sources: dict[str, str] = field(default_factory=dict)
    #: The signal types banked, sorted (``md5``, ``pdq``, ``sha256``, ...).
    signal_types: list[str] = field(default_factory=list)
    #: How many bank-side variants (crops) were banked beside the signals.
    variants: int = 0
    #: content id -> why nothing of it could be banked.
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def banked(self) -> bool:
        """Whether a bank entry holds the removed content's hashes."""
        return self.entry_id is not None

    def summary(self) -> str:
        """The outcome in one or two sentences, for a person (the case page, the API)."""
        if self.banked:
            where = "; ".join(
                f"{cid} from {SOURCES.get(src, src)}" for cid, src in self.sources.items()
            )
            extra = f" and {self.variants} bank-side variants" if self.variants else ""
            text = (
                f"Banked {', '.join(self.signal_types)} hashes{extra} in block bank "
                f"{self.bank!r} (entry #{self.entry_id}): {where}. "
                f"Sweep job #{self.sweep_job_id} searches the ledger for copies."
            )
        else:
            text = "Nothing was banked, so copies are neither swept for nor blocked."
        for cid, why in self.missing.items():
            text += f" Not banked: {cid}: {why}." if cid else f" Not banked: {why}."
        return text

    def to_json(self) -> dict[str, Any]:
        """The stored form (``case_item.banking``): what the case row does not hold already."""
        return {
            "sources": dict(self.sources),
            "signal_types": list(self.signal_types),
            "variants": self.variants,
            "missing": dict(self.missing),
        }

    @classmethod
    def from_row(
        cls,
        stored: dict[str, Any] | None,
        *,
        bank: str | None,
        entry_id: int | None,
        sweep_job_id: int | None,
        content_ids: Iterable[str],
        signal_types: Iterable[str] = (),
    ) -> Banking:
        """The banking of a decided removal from its row. A removal decided before
        ``case_item.banking`` existed banked from the ledger or not at all;
        ``signal_types`` (read from its entry) then stand in."""
        if stored is None:
            ids = list(content_ids)
            if entry_id is not None:
                return cls(
                    bank,
                    entry_id,
                    sweep_job_id,
                    dict.fromkeys(ids, "ledger"),
                    sorted(set(signal_types)),
                )
            why = "the ledger held no hashes of it (decided before Shieldwall hashed previews)"
            return cls(missing=dict.fromkeys(ids, why))
        return cls(
            bank if entry_id is not None else None,
            entry_id,
            sweep_job_id,
            dict(stored.get("sources", {})),
            list(stored.get("signal_types", [])),
            int(stored.get("variants", 0)),
            dict(stored.get("missing", {})),
        )


@dataclass(frozen=True, slots=True)
class Gathered:
    """The signals a removal will bank (variants included) and where they came from."""

    signals: list[Signal]
    sources: dict[str, str]
    missing: dict[str, str]

    def banking(self, bank: str | None, entry_id: int | None, sweep_job_id: int | None) -> Banking:
        """The :class:`Banking` once the entry (or none) is made."""
        plain = sorted({s.type for s in self.signals if s.variant is None})
        variants = sum(1 for s in self.signals if s.variant is not None)
        return Banking(
            bank if entry_id is not None else None,
            entry_id,
            sweep_job_id,
            self.sources,
            plain,
            variants,
            self.missing,
        )


def hash_content(
    data: bytes, source: str, settings: Settings, extra_signals: Sequence[str] = ()
) -> list[Signal]:
    """The bankable, usable signals of a photo or video given as bytes, with a photo's
    bank-side variants when ``bank_variants`` is on (a video's frames densely, as banked
    uploads are) and the ``extra_signals`` the bank asks for (its local features). Raises the
    :class:`~shieldwall.errors.MediaError` family when it cannot be hashed; an unusable
    signal is left out (an empty list means nothing could be banked)."""
    content_type = sniff_content_type(data)
    video = content_type is ContentType.VIDEO
    check_size(source, len(data), settings.max_video_bytes if video else settings.max_media_bytes)
    media = Media(
        data, source, limits=limits_from(settings), video_limits=video_limits_from(settings)
    )
    result = hash_media(
        media,
        None,
        content_type,
        seconds_per_hash=settings.video_bank_seconds_per_hash if video else None,
        bank_variants=settings.bank_variants,
        extra_signals=extra_signals,
    )
    if result.error is not None:
        raise result.error
    out: list[Signal] = []
    for signal in [*result.signals.values(), *result.bank_variants]:
        kind = get_signal_type(signal.type)
        if kind.bankable and kind.is_usable(signal):
            out.append(signal)
    return out


def gather_signals(
    settings: Settings,
    content_ids: list[str],
    from_ledger: dict[str, list[Signal]],
    *,
    upload: bytes | None = None,
    upload_name: str = "upload",
    extra_signals: Sequence[str] = (),
) -> Gathered:
    """What a removal of ``content_ids`` banks (see the module): ``from_ledger`` holds the
    ledger's signals of each content id; ``upload`` (the reviewer's copy of the content)
    stands for every content id the ledger has none of, else each is fetched from the
    platform. A preview that cannot be fetched or hashed is no error (the reason is kept in
    ``missing``); an upload that cannot be hashed raises its
    :class:`~shieldwall.errors.MediaError` (the reviewer's input: nothing is decided)."""
    signals: dict[tuple[str, str, str | None], Signal] = {}
    sources: dict[str, str] = {}
    missing: dict[str, str] = {}
    uploaded: list[Signal] | None = None
    for cid in content_ids:
        found = from_ledger.get(cid, [])
        if found:
            sources[cid] = "ledger"
        elif upload is not None:
            if uploaded is None:  # the reviewer's own input: an error is theirs to see
                uploaded = hash_content(upload, upload_name, settings, extra_signals)
            found = uploaded
            if found:
                sources[cid] = "upload"
            else:
                missing[cid] = _flat("the upload")
        elif not settings.preview_url_template:
            missing[cid] = (
                "the ledger holds no hashes of it, no preview source is configured "
                "(SHIELDWALL_PREVIEW_URL_TEMPLATE) and no copy was uploaded"
            )
        else:
            try:
                data = fetch_preview(settings, cid)
                found = hash_content(data, f"preview of {cid}", settings, extra_signals)
            except FetchError as exc:
                missing[cid] = (
                    "the ledger holds no hashes of it and the platform's preview could not "
                    f"be fetched ({exc.message})"
                )
            except ShieldwallError as exc:
                missing[cid] = (
                    "the ledger holds no hashes of it and the platform's preview could not "
                    f"be hashed ({exc.message})"
                )
            else:
                if found:
                    sources[cid] = "preview"
                else:
                    missing[cid] = _flat("the platform's preview")
        for signal in found:
            signals.setdefault((signal.type, signal.value, signal.variant), signal)
    return Gathered(list(signals.values()), sources, missing)


def _flat(what: str) -> str:
    return f"{what} has too little detail for a usable hash (a flat or blank image)"
