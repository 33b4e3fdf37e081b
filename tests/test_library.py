"""The library face: ``import shieldwall`` gives the functions the README shows."""

from __future__ import annotations

from pathlib import Path

import shieldwall
from shieldwall.media import synthetic


def test_top_level_hashing_api(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    data = synthetic.encode(synthetic.scene(1, 320, 240))
    path.write_bytes(data)
    result = shieldwall.hash_file(path)
    assert result.ok
    assert set(result.signals) == {"pdq", "md5", "sha256"}
    assert shieldwall.hash_bytes(data).signals == result.signals
    [again] = list(shieldwall.hash_many([path], workers=1))
    assert again.signals == result.signals
    assert isinstance(again, shieldwall.HashResult)


def test_hash_bytes_of_a_video_gives_the_video_signals(tmp_path: Path) -> None:
    clip = synthetic.video(tmp_path / "clip.mp4", synthetic.panorama(8, 2, 10, 160, 120))
    from_file = shieldwall.hash_file(clip)
    assert set(from_file.signals) == {"vpdq", "md5", "sha256"}
    assert shieldwall.hash_bytes(clip.read_bytes()).signals == from_file.signals
