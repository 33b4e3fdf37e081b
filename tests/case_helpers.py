"""Notices for the case tests: a valid one, and the required fields of the three laws."""

from __future__ import annotations

from typing import Any

#: Every field a notice from a person must have (the law behind each is in docs/cases.md).
REQUIRED = [
    "reporter_name",
    "reporter_email",
    "signature",
    "explanation",
    "urls",
    "declares_good_faith_non_consent",
    "declares_accurate_and_complete",
    "declares_intimate_image",
    "declares_depicted_or_acting_for_them",
    "declares_good_faith_and_true",
]

REPORTER = {
    "reporter_name": "Alex Reporter-Uniquename",
    "reporter_email": "alex.uniquename@example.org",
    "signature": "Alex R. Uniquesig",
}


def valid_notice(**overrides: Any) -> dict[str, Any]:
    """A notice that satisfies TAKE IT DOWN, DSA Art. 16 and the UK declarations."""
    notice: dict[str, Any] = {
        **REPORTER,
        "explanation": "This is an intimate photo of me shared without my consent.",
        "urls": ["https://platform.example/p/123"],
        "content_ids": ["content-123"],
        "content_kind": "real",
        "declares_good_faith_non_consent": True,
        "declares_accurate_and_complete": True,
        "declares_intimate_image": True,
        "declares_depicted_or_acting_for_them": True,
        "declares_good_faith_and_true": True,
    }
    notice.update(overrides)
    return notice
