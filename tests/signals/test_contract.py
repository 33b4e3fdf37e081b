"""Every built-in signal type runs the same contract suite third-party types inherit."""

from __future__ import annotations

import pytest

from shieldwall.media import Media, synthetic
from shieldwall.signals.base import SignalType
from shieldwall.signals.contract import SignalTypeContract
from shieldwall.signals.registry import get_signal_type


@pytest.fixture(scope="module")
def two_photos() -> tuple[Media, Media]:
    return (
        Media(synthetic.encode(synthetic.scene(1, 320, 240)), "a.jpg"),
        Media(synthetic.encode(synthetic.scene(2, 320, 240)), "b.jpg"),
    )


class _BuiltIn(SignalTypeContract):
    type_name = ""

    @pytest.fixture
    def signal_type(self) -> SignalType:
        return get_signal_type(self.type_name)

    @pytest.fixture
    def media_pair(self, two_photos: tuple[Media, Media]) -> tuple[Media, Media]:
        return two_photos


class TestPdqContract(_BuiltIn):
    type_name = "pdq"


class TestMd5Contract(_BuiltIn):
    type_name = "md5"


class TestSha256Contract(_BuiltIn):
    type_name = "sha256"
