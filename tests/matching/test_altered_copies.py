"""Altered re-uploads of a banked photo are caught: with borders, a caption bar, rotated a
little, cropped, inside a phone screenshot; hash-only banks through the query side; a bank can
refuse variants; a variant that cannot be made is skipped with a reason, never an error."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shieldwall.banks import add_entry, create_bank
from shieldwall.config import Settings
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.signals import ContentType
from shieldwall.store import Database


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return Image.fromarray(synthetic.scene(41, 480, 360))


def _bordered(im: Image.Image) -> Image.Image:
    w, h = im.size
    out = Image.new("RGB", (int(w * 1.4), int(h * 1.4)), "black")
    out.paste(im, (int(w * 0.2), int(h * 0.2)))
    return out


def _captioned(im: Image.Image) -> Image.Image:
    w, h = im.size
    band = int(h * 0.2)
    out = Image.new("RGB", (w, h + band), "white")
    out.paste(im, (0, band))
    ImageDraw.Draw(out).text((12, band // 3), "WHEN YOU SEE IT", fill="black", font_size=band // 3)
    return out


def _phone(im: Image.Image) -> Image.Image:
    out = Image.new("RGB", (585, 1266), "white")
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, 585, 40), fill=(240, 240, 240))
    draw.text((20, 12), "9:41", fill="black")
    draw.ellipse((15, 60, 65, 110), fill=(200, 120, 80))
    draw.text((80, 75), "someone", fill="black", font_size=20)
    shown = im.resize((585, int(im.size[1] * 585 / im.size[0])))
    out.paste(shown, (0, 130))
    draw.text((20, 150 + shown.size[1]), "liked by 1,234 others", fill="black", font_size=18)
    return out


ALTERED: dict[str, Callable[[Image.Image], Image.Image]] = {
    "border": _bordered,
    "caption": _captioned,
    "rotated": lambda im: im.rotate(4, resample=Image.Resampling.BICUBIC),
    "cropped": lambda im: im.crop((0, int(im.size[1] * 0.1), im.size[0], im.size[1])),
    "phone screenshot": _phone,
    "mirrored": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
}


@pytest.fixture
def files(tmp_path: Path, original: Image.Image) -> dict[str, Path]:
    out = {"original": tmp_path / "original.jpg"}
    out["original"].write_bytes(_jpeg(original))
    for name, change in ALTERED.items():
        out[name] = tmp_path / f"{name}.jpg"
        out[name].write_bytes(_jpeg(change(original)))
    out["other"] = tmp_path / "other.jpg"
    out["other"].write_bytes(_jpeg(Image.fromarray(synthetic.scene(42, 480, 360))))
    return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", match_dihedral=True)


def _bank_from_image(db: Database, bank: str, path: Path) -> None:
    result = hash_file(path, bank_variants=True)
    assert result.ok and result.bank_variants
    add_entry(db, bank, [*result.signals.values(), *result.bank_variants])


def test_every_altered_copy_is_caught_and_says_how(
    db: Database, files: dict[str, Path], settings: Settings
) -> None:
    create_bank(db, "ncii", "block")
    _bank_from_image(db, "ncii", files["original"])
    matcher = Matcher(db, settings=settings)
    for name in ALTERED:
        outcome = matcher.match_file(files[name], name)
        assert outcome.error is None, name
        assert [m.signal_type for m in outcome.matches] == ["pdq"], name
        hit = outcome.matches[0]
        assert hit.through_variant, name  # not the content as given: a person decides
    assert not matcher.match_file(files["other"], "other").matched
    # Plain PDQ (no query-side variants) misses the edited ones: the mechanism is what works.
    for name in ("border", "caption", "phone screenshot", "mirrored"):
        plain = matcher.match_file(files[name], f"plain-{name}", dihedral=False, normalise=False)
        assert not plain.matched, name


def test_the_answer_names_the_variant(
    db: Database, files: dict[str, Path], settings: Settings
) -> None:
    create_bank(db, "ncii", "block")
    _bank_from_image(db, "ncii", files["original"])
    matcher = Matcher(db, settings=settings)
    border = matcher.match_file(files["border"], "b").matches[0]
    assert border.variant in {"trim", "trim-blur", "screenshot"}
    caption = matcher.match_file(files["caption"], "c").matches[0]
    assert caption.variant.startswith("caption")
    cropped = matcher.match_file(files["cropped"], "k").matches[0]
    assert cropped.bank_variant is not None and cropped.bank_variant.startswith("crop")
    assert "variant" in border.public() and "distance" not in border.public()


def test_a_hash_only_bank_is_reached_through_the_query_side(
    db: Database, files: dict[str, Path], settings: Settings
) -> None:
    """A partner's or a person's own hash, no image: only the query side can help (a rotated
    copy needs the banked photo's inner crops, which a hash-only bank lacks)."""
    create_bank(db, "partner", "block")
    add_entry(db, "partner", [hash_file(files["original"]).signals["pdq"]])
    matcher = Matcher(db, settings=settings)
    for name in ("border", "caption", "mirrored", "phone screenshot"):
        assert matcher.match_file(files[name], name).matched, name


def test_a_bank_can_count_signals_as_given_only(
    db: Database, files: dict[str, Path], settings: Settings
) -> None:
    create_bank(db, "strict", "block", match_variants=False)
    _bank_from_image(db, "strict", files["original"])
    matcher = Matcher(db, settings=settings)
    assert matcher.match_file(files["original"], "same").matched
    for name in ("border", "caption", "cropped"):
        assert not matcher.match_file(files[name], name).matched, name


def test_variants_that_cannot_be_made_are_skipped_with_a_reason(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    create_bank(db, "ncii", "block")
    matcher = Matcher(db, settings=settings)
    flat = tmp_path / "flat.png"
    Image.new("RGB", (300, 200), (120, 130, 140)).save(flat)
    outcome = matcher.match_file(flat, "flat", content_type=ContentType.PHOTO)
    assert outcome.error is None and not outcome.matched
    assert outcome.skipped_variants["trim"] == "no flat border to trim"
    assert "screenshot" in outcome.skipped_variants
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(tiny)
    small = matcher.match_file(tiny, "tiny")
    assert small.error is None and "too small" in small.skipped_variants["all"]


def test_stored_matches_keep_the_variants(
    db: Database, files: dict[str, Path], settings: Settings
) -> None:
    from sqlalchemy import select

    from shieldwall.store import MatchRecord

    create_bank(db, "ncii", "block")
    _bank_from_image(db, "ncii", files["original"])
    Matcher(db, settings=settings).match_file(files["cropped"], "post-9")
    with db.session() as session:
        row = session.scalars(select(MatchRecord).where(MatchRecord.content_id == "post-9")).one()
    assert row.bank_variant is not None and row.bank_variant.startswith("crop")
