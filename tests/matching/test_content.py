"""Matching files: hashing, a re-encoded copy matches, dihedral variants find mirror images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from bank_helpers import photo
from shieldwall.banks import add_entry
from shieldwall.config import Settings
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.store import Database


def test_recompressed_copy_matches_and_unrelated_does_not(
    banks: Database, settings: Settings, tmp_path: Path
) -> None:
    original = photo(tmp_path, "original.jpg", seed=3)
    add_entry(banks, "ncii", list(hash_file(original).signals.values()))
    copy = photo(tmp_path, "copy.jpg", seed=3, quality=40)
    matcher = Matcher(banks, settings=settings)
    outcome = matcher.match_file(copy, "upload-77")
    assert outcome.content_id == "upload-77"
    assert [m.signal_type for m in outcome.matches] == ["pdq"]  # md5 differs, PDQ is close
    assert matcher.match_file(original).matched  # identical: pdq, md5 and sha256
    assert {m.signal_type for m in matcher.match_file(original).matches} == {
        "pdq",
        "md5",
        "sha256",
    }
    assert not matcher.match_file(photo(tmp_path, "other.jpg", seed=4)).matched


def test_a_file_that_cannot_be_hashed_gives_an_error(
    banks: Database, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    outcome = Matcher(banks, settings=settings).match_file(bad)
    assert not outcome.matched and outcome.error is not None


def test_dihedral_matching_finds_a_mirror_image(
    banks: Database, settings: Settings, tmp_path: Path
) -> None:
    original = photo(tmp_path, "original.jpg", seed=5)
    add_entry(banks, "ncii", [hash_file(original, ["pdq"]).signals["pdq"]])
    mirrored = tmp_path / "mirrored.jpg"
    img = Image.fromarray(synthetic.scene(5, 320, 240)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mirrored.write_bytes(synthetic.encode(np.asarray(img)))
    matcher = Matcher(banks, settings=settings)
    assert not matcher.match_file(mirrored, dihedral=False).matched
    outcome = matcher.match_file(mirrored, dihedral=True)
    assert outcome.matched and outcome.matches[0].variant != "original"


def test_match_file_tells_a_photo_by_its_bytes_whatever_its_name(
    banks: Database, settings: Settings, tmp_path: Path
) -> None:
    original = photo(tmp_path, "original.jpg", seed=6)
    add_entry(banks, "ncii", list(hash_file(original).signals.values()))
    upload = tmp_path / "upload.mp4"  # a photo saved under a video's name
    upload.write_bytes(original.read_bytes())
    outcome = Matcher(banks, settings=settings).match_file(upload, content_id="u-1")
    assert outcome.error is None
    assert {m.signal_type for m in outcome.matches} == {"pdq", "md5", "sha256"}
