"""vPDQ: the signal type's contract, Meta's text format, conformance, and clip matching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shieldwall.errors import MalformedSignal
from shieldwall.media import Media, synthetic
from shieldwall.signals.base import SignalType
from shieldwall.signals.contract import SignalTypeContract
from shieldwall.signals.pdq import hamming_distance
from shieldwall.signals.registry import get_signal_type
from shieldwall.signals.vpdq import (
    FrameHash,
    format_vpdq,
    hash_video,
    match_frames,
    parse_vpdq,
)

FPS = 10


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vpdq")
    banked = list(synthetic.panorama(1, 60, FPS, 320, 240))
    return {
        "banked": synthetic.video(folder / "banked.mp4", banked),
        # A 10 s excerpt from the middle, cut at an offset that is not a whole second.
        "excerpt": synthetic.video(folder / "excerpt.mp4", banked[253:353]),
        "unrelated": synthetic.video(
            folder / "other.mp4", synthetic.panorama(2, 20, FPS, 320, 240)
        ),
        "also_unrelated": synthetic.video(
            folder / "third.mp4", synthetic.panorama(9, 15, FPS, 320, 240)
        ),
    }


class TestVpdqContract(SignalTypeContract):
    @pytest.fixture
    def signal_type(self) -> SignalType:
        return get_signal_type("vpdq")

    @pytest.fixture
    def media_pair(self, videos: dict[str, Path]) -> tuple[Media, Media]:
        return (
            Media.from_path(videos["excerpt"], load=False),
            Media.from_path(videos["unrelated"], load=False),
        )

    def malformed_values(self, value: str) -> list[str]:
        first, _, rest = value.partition("\n")
        number, quality, pdq, timestamp = first.split(",")
        return [
            "",
            f"{number},{quality},{pdq[:-1]},{timestamp}\n{rest}",  # a short hash
            f"{number},{quality},{pdq[:-1]}g,{timestamp}\n{rest}",  # not hex
            f"{number},{quality},{pdq}\n{rest}",  # a missing field
            f"{number},101,{pdq},{timestamp}\n{rest}",  # quality over 100
            f"{value}\nnot a frame line",
        ]


class TestMd5OfVideosContract(SignalTypeContract):
    """md5 (alias video_md5) on videos: the MD5 of the file's bytes, streamed from disk."""

    @pytest.fixture
    def signal_type(self) -> SignalType:
        return get_signal_type("video_md5")

    @pytest.fixture
    def media_pair(self, videos: dict[str, Path]) -> tuple[Media, Media]:
        return (
            Media.from_path(videos["excerpt"], load=False),
            Media.from_path(videos["unrelated"], load=False),
        )


def test_text_form_round_trips_and_rejects_bad_lines() -> None:
    frames = [FrameHash(0, 100, "a" * 64, 0.0), FrameHash(30, 87, "0f" * 32, 1.0)]
    text = format_vpdq(frames)
    assert text == f"0,100,{'a' * 64},0.000\n30,87,{'0f' * 32},1.000"
    assert parse_vpdq(text) == frames
    with pytest.raises(MalformedSignal, match="vpdq line 3 must be"):
        parse_vpdq(text + "\n12,100,xyz,1.0")
    with pytest.raises(MalformedSignal, match="quality 101 is over 100"):
        parse_vpdq(f"0,101,{'a' * 64},0.000")
    with pytest.raises(MalformedSignal, match="no frames"):
        parse_vpdq("  \n")


def test_an_excerpt_of_a_banked_video_matches(videos: dict[str, Path]) -> None:
    bank = hash_video(videos["banked"], "banked", seconds_per_hash=0)  # bank densely
    query = hash_video(videos["excerpt"], "excerpt")  # query sparsely
    result = match_frames(query, bank)
    assert result.query_share == 1.0
    # A sparse query touches only the bank frames near its own: a few % of 600, never most.
    assert 0 < result.compared_share < 0.25
    assert result.is_match()  # default thresholds 80 % / 0 %
    [(q_start, q_end)] = result.query_ranges
    assert (q_start, q_end) == (0.0, 9.0)
    [(b_start, b_end)] = result.compared_ranges
    assert 25.0 <= b_start <= 25.5
    assert 34.0 <= b_end <= 35.5


def test_unrelated_videos_never_match(videos: dict[str, Path]) -> None:
    bank = hash_video(videos["banked"], "banked", seconds_per_hash=0)
    for name in ("unrelated", "also_unrelated"):
        result = match_frames(hash_video(videos[name], name), bank)
        assert not result.is_match(), name
        assert result.query_share == 0.0, name


def test_low_quality_frames_are_ignored() -> None:
    flat = [FrameHash(i, 10, "0" * 64, float(i)) for i in range(5)]
    assert match_frames(flat, flat).query_share == 0.0


def test_vpdq_agrees_with_metas_reference_hashes(shared_data: Path) -> None:
    """Frames within 10 bits of Meta's vpdq on >= 95 % of frames of quality >= 80."""
    root = shared_data / "videos" / "threatexchange"
    checked = 0
    for name in ("chair-22-with-small-logo-bar", "pattern-hd-no-bar", "doorknob-hd-no-bar"):
        video = root / "tmk" / "sample-videos" / f"{name}.mp4"
        reference = {
            f.number: f
            for f in parse_vpdq((root / "vpdq" / "sample-hashes" / f"{name}.txt").read_text())
        }
        ours = hash_video(video, name, seconds_per_hash=0)
        distances = np.array(
            [
                hamming_distance(f.pdq, reference[f.number].pdq)
                for f in ours
                if f.number in reference and reference[f.number].quality >= 80
            ]
        )
        assert distances.size > 20, name
        assert (distances <= 10).mean() >= 0.95, name
        checked += distances.size
    assert checked > 500
