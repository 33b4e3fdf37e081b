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
