"""Conformance of our PDQ with Meta's C++ reference (the ``pdqhash`` package).

The reference's own rule: identical hashes when fed the same 64 x 64 buffer, and within 10 bits
on images of quality >= 80. We hold the fast pipeline to >= 99 % within 10 bits.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from shieldwall.media import Media, synthetic
from shieldwall.signals import pdq_algorithm as algo
from shieldwall.signals.pdq import PdqSignal, pdq_from_rgb

pdqhash = pytest.importorskip("pdqhash")
PDQ = PdqSignal()
VECTORS = Path(__file__).resolve().parents[1] / "data" / "pdq_vectors.json"


def reference(rgb: np.ndarray) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}", int(quality)


def reference_file(data: bytes) -> tuple[str, int]:
    return reference(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, (64, 64, 3)))
def test_identical_to_reference_on_64x64_buffers(rgb: np.ndarray) -> None:
    ours = pdq_from_rgb(rgb)
    assert (ours.hex, ours.quality) == reference(rgb)


@pytest.mark.parametrize("level", [0, 1, 77, 128, 255])
def test_identical_to_reference_on_flat_buffers(level: int) -> None:
    # A flat image's coefficients are rounding noise around the median: the bits match only
    # when the DCT rounds exactly as the reference's float32 arithmetic does.
    rgb = np.full((64, 64, 3), level, dtype=np.uint8)
    rgb[0, :3] = (level + 1) % 256  # and near-flat
    for img in (np.full((64, 64, 3), level, dtype=np.uint8), rgb):
        ours = pdq_from_rgb(img)
        assert (ours.hex, ours.quality) == reference(img)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(64, 700), st.integers(64, 700))
def test_identical_to_reference_at_full_resolution(seed: int, width: int, height: int) -> None:
    # Under 64 pixels the reference's window-1 running sums accumulate float32 error that
    # we do not reproduce; such images are upscaled by replication and rarely worth hashing.
    rgb = synthetic.scene(seed, width, height)
    ours = pdq_from_rgb(rgb)
    assert (ours.hex, ours.quality) == reference(rgb)


def test_dihedral_variants_identical_to_reference() -> None:
    rgb = synthetic.scene(4, 300, 200)
    hashes, _ = pdqhash.compute_dihedral(rgb)
    expected = [f"{int(''.join(str(int(b)) for b in h), 2):064x}" for h in hashes]
    assert list(pdq_from_rgb(rgb).dihedral().values()) == expected


def test_dihedral_variant_finds_a_really_mirrored_image() -> None:
    rgb = synthetic.scene(9, 512, 384)
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    variants = pdq_from_rgb(rgb).dihedral()
    # Sampling offsets are not symmetric, so a real mirror lands some bits from the derived
    # variant (10-16 measured), well inside the match threshold.
    assert PDQ.matches(variants["flipy"], pdq_from_rgb(mirrored).hex)
    assert PDQ.distance(variants["original"], pdq_from_rgb(mirrored).hex) > 64


def _within_ten_share(datas: list[bytes]) -> tuple[float, float, int]:
    distances = []
    for data in datas:
        ref_hash, ref_quality = reference_file(data)
        if ref_quality < 80:
            continue
        distances.append(PDQ.distance(ref_hash, PDQ.compute(Media(data, "t")).value))
    arr = np.array(distances)
    return float((arr <= 10).mean()), float(arr.mean()), len(arr)


def test_fast_pipeline_on_generated_1024x768_photos() -> None:
    datas = [synthetic.encode(synthetic.scene(seed)) for seed in range(100, 130)]
    share, mean, count = _within_ten_share(datas)
    assert count >= 25
    assert share >= 0.99, f"only {share:.1%} within 10 bits (mean {mean:.2f})"


def test_fast_pipeline_on_real_photos(shared_data: Path) -> None:
    photos = sorted((shared_data / "photos" / "clothing").glob("*.jpg"))[::29]
    assert len(photos) >= 150
    share, mean, _ = _within_ten_share([p.read_bytes() for p in photos])
    assert share >= 0.99, f"only {share:.1%} within 10 bits (mean {mean:.2f})"


def test_reference_images_reproduce_expected_hashes(shared_data: Path) -> None:
    root = shared_data / "pdq-reference"
    lines = (root / "expected-pdqhash.tsv").read_text().splitlines()
    rows = list(csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t"))
    checked = 0
    for rel, expected, quality in rows:
        if int(quality) < 80:
            continue
        # The file was computed without applying EXIF orientation: compare like with like.
        media = Media((root / rel).read_bytes(), rel, apply_orientation=False)
        assert PDQ.distance(expected, PDQ.compute(media).value) <= 10, rel
        checked += 1
    assert checked >= 40


def test_committed_vectors_still_reproduce() -> None:
    """Vectors for other implementations (browser, GPU): a 64 x 64 luma buffer -> hash."""
    vectors = json.loads(VECTORS.read_text())
    assert vectors["format"] == 1
    for vector in vectors["vectors"]:
        luma = np.array(vector["luma64"], dtype=np.float32).reshape(64, 64)
        bits, quality, _ = algo.hash_buffer(luma)
        assert algo.bits_to_hex(bits) == vector["pdq"]
        assert quality == vector["quality"]
