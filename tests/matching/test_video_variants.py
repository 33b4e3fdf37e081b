"""Cropped and letterboxed re-encodes of a banked video: found through the frame variants
(query side: each frame's borders trimmed; bank side: crops of each banked frame), named in
the answer; unrelated videos altered the same way are not; a frame variant that cannot be
made is skipped with a reason, never an error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageFilter

from shieldwall.banks import add_entry, create_bank
from shieldwall.cli import run
from shieldwall.config import Settings
from shieldwall.hashing import hash_file
from shieldwall.matching import Matcher
from shieldwall.media import synthetic
from shieldwall.signals.vpdq_variants import BANK_VARIANTS, FrameVariants
from shieldwall.store import Database

FPS = 10
Frame = npt.NDArray[np.uint8]


def letterbox(f: Frame) -> Frame:
    """Black bars above and below (a 4:3 frame in a square one)."""
    h, w = f.shape[:2]
    out = np.zeros((h + h // 3 // 2 * 2, w, 3), np.uint8)
    top = (out.shape[0] - h) // 2
    out[top : top + h] = f
    return out


def blurred_border(f: Frame) -> Frame:
    """Posted "fit": the frame centred on a blurred, enlarged copy of itself, a third wider."""
    h, w = f.shape[:2]
    size = (w + w // 3 // 2 * 2, h)
    cover = Image.fromarray(f).resize((size[0], round(h * size[0] / w)))
    canvas = cover.crop((0, 0, *size)).filter(ImageFilter.GaussianBlur(12))
    canvas.paste(Image.fromarray(f), ((size[0] - w) // 2, 0))
    return np.asarray(canvas)


def crop_top(f: Frame) -> Frame:
    return np.ascontiguousarray(f[f.shape[0] // 10 // 2 * 2 :])


def edited(frames: list[Frame], edit: Callable[[Frame], Frame]) -> list[Frame]:
    return [np.ascontiguousarray(edit(f)) for f in frames]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("altered-videos")
    banked = list(synthetic.panorama(31, 20, FPS, 320, 240))
    other = list(synthetic.panorama(32, 12, FPS, 320, 240))
    grey = [np.full((240, 320, 3), 128, np.uint8)] * 30
    return {
        "banked": synthetic.video(folder / "banked.mp4", banked),
        "letterbox": synthetic.video(folder / "letterbox.mp4", edited(banked, letterbox)),
        "blurred": synthetic.video(folder / "blurred.mp4", edited(banked, blurred_border)),
        "crop-top": synthetic.video(folder / "crop-top.mp4", edited(banked, crop_top)),
        "other-letterbox": synthetic.video(folder / "other.mp4", edited(other, letterbox)),
        "other-crop": synthetic.video(folder / "other-crop.mp4", edited(other, crop_top)),
        "flat": synthetic.video(folder / "flat.mp4", grey),
        "tiny": synthetic.video(folder / "tiny.mp4", [f[:12, :12] for f in banked[:20]]),
    }


@pytest.fixture
def banked(banks: Database, videos: dict[str, Path]) -> int:
    """The video banked as ``bank add`` banks it: every frame, with its bank-side variants."""
    result = hash_file(videos["banked"], seconds_per_hash=0, bank_variants=True)
    assert result.ok, result.error
    entry = add_entry(banks, "ncii", [*result.signals.values(), *result.bank_variants])
    return entry.id


def test_bank_add_of_a_video_holds_a_frame_set_per_crop(
    banks: Database, videos: dict[str, Path], banked: int
) -> None:
    result = hash_file(videos["banked"], seconds_per_hash=0, bank_variants=True)
    crops = {s.variant: s for s in result.bank_variants}
    assert set(crops) == {"centre-95", "centre-90", "centre-85"} | {
        f"crop-{side}-10" for side in ("top", "bottom", "left", "right")
    }  # no borders to trim in the banked video
    own = result.signals["vpdq"].value.splitlines()
    for signal in crops.values():
        assert signal.type == "vpdq" and signal.variant in BANK_VARIANTS
        lines = signal.value.splitlines()
        assert len(lines) == len(own)  # one variant frame per frame, same numbers and times
        assert [line.split(",")[0] for line in lines] == [line.split(",")[0] for line in own]
    assert "trim" in result.skipped


@pytest.mark.parametrize(
    ("query", "variant", "bank_variant"),
    [
        ("letterbox", "trim", None),
        ("blurred", "trim-blur", None),
        ("crop-top", "original", "crop-top-10"),
    ],
)
def test_an_altered_re_encode_matches_through_the_variant_it_names(
    banks: Database,
    settings: Settings,
    videos: dict[str, Path],
    banked: int,
    query: str,
    variant: str,
    bank_variant: str | None,
) -> None:
    matcher = Matcher(banks, settings=settings)
    outcome = matcher.match_file(videos[query], content_id=f"upload-{query}")
    assert outcome.error is None
    [m] = outcome.matches
    assert (m.entry_id, m.signal_type, m.variant, m.bank_variant) == (
        banked,
        "vpdq",
        variant,
        bank_variant,
    )
    assert m.through_variant and m.video is not None and m.video.query_share >= 0.8
    shown = m.public()
    assert shown.get("variant", "original") == variant
    assert shown.get("bank_variant") == bank_variant
    # Without the query-side variants a letterbox is not found; a crop still is (bank side).
    plain = matcher.match_file(videos[query], normalise=False, record=False)
    assert bool(plain.matches) == (variant == "original")


def test_a_bank_without_variants_counts_only_frames_as_given(
    db: Database, settings: Settings, videos: dict[str, Path]
) -> None:
    create_bank(db, "strict", "block", match_variants=False)
    result = hash_file(videos["banked"], seconds_per_hash=0, bank_variants=True)
    add_entry(db, "strict", [*result.signals.values(), *result.bank_variants])
    matcher = Matcher(db, settings=settings)
    assert matcher.match_file(videos["letterbox"], record=False).matches == []
    assert matcher.match_file(videos["crop-top"], record=False).matches == []
    found = matcher.match_file(videos["banked"], record=False).matches
    [m] = [m for m in found if m.signal_type == "vpdq"]  # beside md5 and sha256
    assert (m.variant, m.bank_variant) == ("original", None)


def test_unrelated_videos_altered_alike_do_not_match(
    banks: Database, settings: Settings, videos: dict[str, Path], banked: int
) -> None:
    matcher = Matcher(banks, settings=settings)
    for name in ("other-letterbox", "other-crop"):
        outcome = matcher.match_file(videos[name], record=False)
        assert outcome.error is None and outcome.matches == []


@pytest.mark.parametrize(
    ("name", "reason"), [("flat", "no flat border"), ("tiny", "too small (12x12)")]
)
def test_a_frame_variant_that_cannot_be_made_is_skipped_with_a_reason(
    banks: Database,
    settings: Settings,
    videos: dict[str, Path],
    banked: int,
    name: str,
    reason: str,
) -> None:
    outcome = Matcher(banks, settings=settings).match_file(videos[name], record=False)
    assert outcome.error is None and outcome.matches == []
    assert reason in outcome.skipped_variants["trim"]
    assert "trim-blur" in outcome.skipped_variants


def test_frame_variants_of_a_flat_frame_are_below_the_quality_floor() -> None:
    collect = FrameVariants(query=True, bank=True)
    for n in range(3):
        collect.add(n, n / 10, np.full((240, 320), 90.0, np.float32))
    found = collect.result()
    assert found.frames == {}
    assert "below the floor of 50" in found.skipped["centre-95"]
    assert "no flat border" in found.skipped["trim"]


def test_shieldwall_match_names_the_variant(
    cli_env: str, videos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run(["bank", "create", "ncii", "--kind", "block"])
    assert run(["bank", "add", "ncii", str(videos["banked"]), "-f", "json"]) == 0
    capsys.readouterr()
    code = run(["match", str(videos["letterbox"]), str(videos["other-letterbox"]), "-f", "jsonl"])
    assert code == 1
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    [m] = first["matches"]
    assert (m["signal_type"], m["variant"]) == ("vpdq", "trim")
    assert m["query_share"] >= 0.8 and "distance" not in json.dumps(first)
    assert second["matches"] == []
    assert run(["match", str(videos["crop-top"])]) == 1
    assert "banked crop-top-10" in capsys.readouterr().out
    assert run(["match", str(videos["letterbox"]), "--no-normalise"]) == 0
