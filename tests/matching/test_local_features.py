"""Local features (ORB, issue 13): a bank that opts in catches copies no hash reaches (a photo
under big meme text pasted into a collage), through the Hamming index and a geometric check;
unrelated photos and flat ones do not match; a lookup can do without; the signal follows the
log and never counts as exact evidence."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shieldwall.banks import add_entry, create_bank, get_bank, signals_to_bank
from shieldwall.config import Settings
from shieldwall.errors import MalformedSignal
from shieldwall.hashing import hash_file
from shieldwall.index.local_features import FeatureIndex
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.signals import get_signal_type, is_exact_evidence
from shieldwall.signals.local_features import (
    MIN_COVERAGE,
    MIN_DENSITY,
    MIN_INLIERS,
    decode_features,
    encode_features,
    extract_features,
    is_match,
    match_pair,
)
from shieldwall.store import Database


def _jpeg(image: Image.Image, path: Path) -> Path:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=88)
    path.write_bytes(out.getvalue())
    return path


def _textured(seed: int, width: int = 480, height: int = 360) -> Image.Image:
    """A generated photo with detail to describe: a scene under many random shapes."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray(synthetic.scene(seed, width, height))
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(6, 40))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + size, y + size // 2), fill=colour)
        else:
            draw.polygon([(x, y), (x + size, y + size // 3), (x + size // 2, y + size)], colour)
    return image


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return _textured(7)


def _collage(im: Image.Image) -> Image.Image:
    """The photo, cropped by 15 % on the left, rotated 10 degrees and pasted beside two
    unrelated photos, with a big outlined caption across it (PDQ is ~116 bits away)."""
    w, h = im.size
    crop = im.crop((int(w * 0.15), 0, w, h)).rotate(10, expand=True, fillcolor=(255, 255, 255))
    out = Image.new("RGB", (crop.width + 260, crop.height + 40), "white")
    out.paste(_textured(101, 240, crop.height // 2), (crop.width + 10, 10))
    out.paste(_textured(102, 240, crop.height // 2), (crop.width + 10, crop.height // 2 + 20))
    out.paste(crop, (5, 20))
    draw = ImageDraw.Draw(out)
    draw.text((30, 30), "NOBODY:", fill="white", font_size=60, stroke_width=4, stroke_fill="black")
    return out


@pytest.fixture
def bank_with_features(db: Database, original: Image.Image, tmp_path: Path) -> int:
    create_bank(db, "ncii", "review", local_features=True)
    extra = signals_to_bank(get_bank(db, "ncii"))
    assert extra == ("orb",)
    result = hash_file(_jpeg(original, tmp_path / "banked.jpg"), extra_signals=extra)
    assert result.ok and "orb" in result.signals
    return add_entry(db, "ncii", list(result.signals.values()), external_ids=["case-1"]).id


def test_a_collage_no_hash_reaches_is_found_by_local_features(
    db: Database, bank_with_features: int, original: Image.Image, tmp_path: Path
) -> None:
    settings = Settings.load()
    query = _jpeg(_collage(original), tmp_path / "collage.jpg")
    matcher = Matcher(db, settings=settings)
    outcome = matcher.match_file(query, "upload-1", record=True)
    assert outcome.error is None
    found = [m for m in outcome.matches if m.entry_id == bank_with_features]
    assert [m.signal_type for m in found] == ["orb"]  # no hash reaches it, only the keypoints
    match = found[0]
    assert match.features is not None and match.features.inliers >= 20
    assert match.distance == max(0, 100 - match.features.inliers)
    assert 0.9 < match.features.scale < 1.1 and 5 < match.features.rotation < 15
    assert "distance" not in match.public() and "inliers" not in str(match.public())
    assert not is_exact_evidence("orb")  # a person decides: never an automated removal

    # The lookup can do without, and then nothing is found.
    assert not matcher.match_file(query, "upload-2", record=False, local_features=False).matched


def test_unrelated_photos_do_not_match(
    db: Database, bank_with_features: int, tmp_path: Path
) -> None:
    matcher = Matcher(db, settings=Settings.load())
    for seed in range(200, 212):
        other = _jpeg(_textured(seed), tmp_path / f"{seed}.jpg")
        outcome = matcher.match_file(other, f"other-{seed}", record=False)
        assert not outcome.matched, seed


def test_a_bank_without_local_features_banks_none_and_lookups_skip_them(
    db: Database, original: Image.Image, tmp_path: Path
) -> None:
    create_bank(db, "plain", "block")
    assert signals_to_bank(get_bank(db, "plain")) == ()
    result = hash_file(_jpeg(original, tmp_path / "a.jpg"))
    assert "orb" not in result.signals  # not computed by default
    add_entry(db, "plain", list(result.signals.values()))
    matcher = Matcher(db, settings=Settings.load())
    assert matcher.extra_signals() == ()  # no bank holds local features: none computed


def test_the_matcher_follows_adds_and_withdrawals(
    db: Database, original: Image.Image, tmp_path: Path
) -> None:
    from shieldwall.banks import withdraw

    create_bank(db, "ncii", "review", local_features=True)
    matcher = Matcher(db, settings=Settings.load())
    query = _jpeg(_collage(original), tmp_path / "collage.jpg")
    assert not matcher.match_file(query, "q", record=False).matched
    result = hash_file(_jpeg(original, tmp_path / "b.jpg"), extra_signals=("orb",))
    add_entry(db, "ncii", list(result.signals.values()), external_ids=["case-9"])
    assert matcher.match_file(query, "q", record=False).matched  # the next lookup sees it
    withdraw(db, "case-9")
    assert not matcher.match_file(query, "q", record=False).matched


def test_a_flat_photo_is_banked_without_local_features(db: Database, tmp_path: Path) -> None:
    flat = np.full((300, 400, 3), 128, dtype=np.uint8)
    flat[100:200, 100:300] = 140  # a soft block: PDQ may be poor, ORB finds almost nothing
    result = hash_file(_jpeg(Image.fromarray(flat), tmp_path / "flat.jpg"), extra_signals=("orb",))
    assert "orb" not in result.signals
    assert "too little detail" in result.skipped["orb"]


def test_string_form_round_trips_and_rejects_damage(original: Image.Image) -> None:
    gray = np.asarray(original.convert("L"))
    features = extract_features(gray)
    assert 200 <= len(features) <= 800
    text = encode_features(features)
    back = decode_features(text)
    assert back.descriptors.tobytes() == features.descriptors.tobytes()
    assert np.abs(back.points - features.points).max() < 0.05
    orb = get_signal_type("orb")
    assert orb.validate(text) == text
    for bad in ("", "orb1.", "orb2." + text[5:], text[:-8], text + "AAAA", "orb1.***"):
        with pytest.raises(MalformedSignal):
            orb.validate(bad)


def test_index_agrees_with_brute_force_and_removes(original: Image.Image) -> None:
    banked = extract_features(np.asarray(original.convert("L")))
    query = extract_features(np.asarray(_collage(original).convert("L")))
    index = FeatureIndex()
    index.add(1, banked)
    for seed in (300, 301, 302):
        index.add(
            seed,
            extract_features(
                np.asarray(Image.fromarray(synthetic.scene(seed, 480, 360)).convert("L"))
            ),
        )
    hits = index.search(query)
    assert [h[0] for h in hits] == [1]
    brute = match_pair(query, banked)
    assert brute is not None and abs(brute.inliers - hits[0][1].inliers) <= 3
    index.remove(1)
    assert index.search(query) == [] and len(index) == 3


def test_two_garments_on_one_floor_line_up_but_do_not_match(
    shared_data: Path, tmp_path: Path
) -> None:
    """The data's hard negatives: different garments photographed on the same floorboards.
    The boards give dozens of keypoints that agree on one similarity over a third of the
    picture, which inliers and coverage alone would call a match; the garments' keypoints find
    no partner, so the share of agreeing keypoints in the overlap (density) turns it down."""
    folder = shared_data / "photos" / "clothing"
    pairs = [
        ("3efe0827-6f77-4fa1-9acf-8c7c830bbaa0", "b7cefd6f-18ea-4135-b6a0-aaf493fbbe94"),
        ("4309e451-06b8-4920-86d1-63c6cb86eed5", "1490d841-c8de-433d-8a58-7c840c2f24a0"),
    ]
    orb = get_signal_type("orb")
    for query_name, banked_name in pairs:
        query, banked = (
            decode_features(hash_file(folder / f"{n}.jpg", ["orb"]).signals["orb"].value)
            for n in (query_name, banked_name)
        )
        fit = match_pair(query, banked)
        assert fit is not None
        assert fit.inliers >= MIN_INLIERS and fit.coverage >= MIN_COVERAGE  # the boards agree
        assert fit.density < MIN_DENSITY
        assert not is_match(fit)
        index = FeatureIndex()
        index.add(1, banked)
        assert index.search(query) == []
        assert orb.distance(encode_features(query), encode_features(banked)) == 100
    # The same photo re-encoded smaller still matches, densely.
    photo = folder / f"{pairs[0][1]}.jpg"
    with Image.open(photo) as opened:
        small = opened.convert("RGB").resize((opened.width // 2, opened.height // 2))
    small.save(tmp_path / "copy.jpg", "JPEG", quality=60)
    copy = decode_features(hash_file(tmp_path / "copy.jpg", ["orb"]).signals["orb"].value)
    banked = decode_features(hash_file(photo, ["orb"]).signals["orb"].value)
    fit = match_pair(copy, banked)
    assert is_match(fit) and fit is not None and fit.density >= MIN_DENSITY
