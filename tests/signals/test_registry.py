"""The signal-type registry: built-ins, plug-ins, and errors naming what is known."""

from __future__ import annotations

import pytest

from shieldwall.errors import UnknownSignalType
from shieldwall.media import Media
from shieldwall.signals.base import Comparison, ContentType, Signal, SignalType
from shieldwall.signals.registry import all_signal_types, get_signal_type, register


def test_built_ins_are_registered() -> None:
    assert [t.name for t in all_signal_types()][:3] == ["pdq", "md5", "sha256"]
    assert [t.name for t in all_signal_types(ContentType.VIDEO)] == ["md5", "sha256", "vpdq"]


def test_video_md5_is_an_alias_of_md5() -> None:
    # One rule: md5 is the MD5 of a file's bytes, photo or video (StopNCII's VideoMD5).
    assert get_signal_type("video_md5") is get_signal_type("md5")
    assert get_signal_type(" Video_MD5 ").name == "md5"


def test_unknown_type_lists_the_known_ones() -> None:
    known = r"unknown signal type 'phash' \(known: md5, orb, pdq"
    with pytest.raises(UnknownSignalType, match=known):
        get_signal_type("phash")


def test_a_name_cannot_be_taken_twice() -> None:
    class Impostor(SignalType):
        name = "pdq"
        content_types = frozenset({ContentType.PHOTO})
        comparison = Comparison.EXACT
        code_bytes = 16
        default_threshold = 0

        def compute(self, media: Media) -> Signal:
            raise NotImplementedError

        def validate(self, value: str) -> str:
            return value

        def distance(self, a: str, b: str) -> int:
            return 0

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
