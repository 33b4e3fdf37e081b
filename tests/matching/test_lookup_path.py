"""The upload lookup does each thing once: one sniff (or none when the caller knows), one
read, one decode, one PDQ; the rotations and flips come from the same DCT."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shieldwall.banks import add_entry
from shieldwall.config import Settings
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher
from shieldwall.media import Media, content, synthetic
from shieldwall.signals import ContentType, VariantOptions
from shieldwall.signals import pdq as pdq_module
from shieldwall.store import Database


def _counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "upload-1"  # as the service saves an upload: no extension
    path.write_bytes(synthetic.encode(synthetic.scene(77, 640, 480)))
    return path


def test_variants_come_with_the_hash_from_one_decode(
    photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = hash_file(photo, content_type=ContentType.PHOTO)
    decodes = _counting(monkeypatch, content, "decode_image")
    hashes = _counting(monkeypatch, pdq_module, "pdq_from_image")
    dihedral = VariantOptions(dihedral=True, normalise=False)
    both = hash_file(photo, content_type=ContentType.PHOTO, variants=dihedral)
    assert (len(decodes), len(hashes)) == (1, 1)
    assert both.signals == plain.signals  # the variants change nothing else
    expected = pdq_module.PdqSignal().compute_dihedral(Media.from_path(photo))
    assert both.variants == {
        name: s for name, s in expected.items() if s.value != plain.signals["pdq"].value
    }
    assert len(both.variants) == 7


def test_match_file_with_rotations_decodes_once_and_finds_a_turned_copy(
    banks: Database, tmp_path: Path, photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signals = hash_file(photo).signals
    add_entry(banks, "ncii", [signals["pdq"]])
    turned = tmp_path / "turned.jpg"
    rgb = synthetic.scene(77, 640, 480)
    turned.write_bytes(synthetic.encode(rgb[:, ::-1].copy()))  # mirrored: other bytes
    matcher = Matcher(banks, settings=Settings(data_dir=tmp_path))
    decodes = _counting(monkeypatch, content, "decode_image")
    hashes = _counting(monkeypatch, pdq_module, "pdq_from_image")
    outcome = matcher.match_file(turned, "u-1", dihedral=True, content_type=ContentType.PHOTO)
    assert (len(decodes), len(hashes)) == (1, 1)  # the variants came from the same decode
    assert [(m.signal_type, m.variant) for m in outcome.matches] == [("pdq", "flipy")]
    assert not matcher.match_file(turned, "u-2", dihedral=False, normalise=False).matched
