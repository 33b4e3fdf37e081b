"""The decode memory budget: a decode over the per-request limit is refused from the header with
an error naming our setting (never Pillow's limit), and concurrent decodes share the process's
budget (waiting, then refused as busy)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shieldwall.config import Settings
from shieldwall.errors import ConfigError, MediaBusy, MediaTooLarge
from shieldwall.hashing import hash_file, limits_from
from shieldwall.media import ImageLimits, decode_image, synthetic
from shieldwall.media.budget import DecodeBudget, image_decode_cost, video_decode_cost
from shieldwall.media.video import VideoLimits, probe_video

MiB = 1024 * 1024


def test_a_flat_png_just_under_the_pixel_limit_is_refused_by_our_decode_limit() -> None:
    data = synthetic.flat_png(4000, 4000, "RGBA")  # 16 M pixels in a few KB
    assert len(data) < 100_000
    limits = ImageLimits(max_pixels=16_000_001, max_decode_bytes=64 * MiB)
    with pytest.raises(MediaTooLarge) as caught:
        decode_image(data, "bomb.png", limits=limits, min_side=64)
    message = caught.value.message
    assert message.startswith("bomb.png: decoding 4000x4000 (RGBA) would take about 122 MiB")
    assert "over the limit of 64 MiB a decode" in message
    assert "SHIELDWALL_MAX_DECODE_BYTES" in message
    assert limits.budget.held == 0


def test_pillows_own_limit_is_never_what_refuses(tmp_path: Path) -> None:
    # 200 M pixels: over twice Pillow's default MAX_IMAGE_PIXELS, which used to raise Pillow's
    # DecompressionBombError ("exceeds limit of 178956970 pixels") before our check ran.
    path = tmp_path / "huge.png"
    path.write_bytes(synthetic.flat_png(20_000, 10_000, "L"))
    result = hash_file(path, settings=Settings(max_image_pixels=100_000_000))
    assert isinstance(result.error, MediaTooLarge)
    assert "is over the limit of 100,000,000" in result.error.message
    assert "SHIELDWALL_MAX_IMAGE_PIXELS" in result.error.message
    assert "178956970" not in result.error.message


def test_the_setting_of_the_service_is_what_refuses(tmp_path: Path) -> None:
    path = tmp_path / "flat.png"
    path.write_bytes(synthetic.flat_png(3000, 3000, "RGB"))
    settings = Settings(max_decode_bytes=16 * MiB, decode_memory_budget=32 * MiB)
    result = hash_file(path, settings=settings)
    assert isinstance(result.error, MediaTooLarge)
    assert result.error.http_status == 413
    assert "(max_decode_bytes, SHIELDWALL_MAX_DECODE_BYTES)" in result.error.message
    assert hash_file(path).ok  # within the default limit


def test_a_budget_smaller_than_one_decode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"SHIELDWALL_DECODE_MEMORY_BUDGET: .*max_decode_bytes"):
        Settings.load(max_decode_bytes=64 * MiB, decode_memory_budget=32 * MiB)


def test_a_flat_greyscale_png_is_reduced_before_it_is_converted() -> None:
    # The 95 KB PNG: greyscale, flat, near the pixel limit. Reduced first, its RGB copy
    # is small, so it costs 1 byte a pixel instead of 5.
    assert image_decode_cost(8900, 8900, "L", reduced=True) == 8900 * 8900
    assert image_decode_cost(8900, 8900, "L", reduced=False) == 8900 * 8900 * 8
    assert image_decode_cost(100, 100, "RGBA", reduced=True, image_format="PNG") == 80_000
    assert image_decode_cost(100, 100, "RGBA", reduced=True, image_format="WEBP") == 160_000
    assert video_decode_cost(100, 100) == 100 * 100 * 3 // 2 * (16 + 3)
    assert video_decode_cost(8192, 4320) == 8192 * 4320 * 3 // 2 * (5 + 3)  # level 6.2's DPB


def test_reducing_greyscale_first_gives_the_same_pixels() -> None:
    rng = np.random.default_rng(5)
    grey = rng.integers(0, 256, size=(1031, 797), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "PNG")
    got = decode_image(buffer.getvalue(), "grey.png", min_side=128)
    expected = np.asarray(Image.fromarray(grey).convert("RGB").reduce(6))
    assert (got.factor_x, got.factor_y) == (6, 6)
    assert np.array_equal(got.rgb, expected)


def test_reducing_bilevel_through_greyscale_gives_the_same_pixels() -> None:
    rng = np.random.default_rng(6)
    bits = Image.fromarray(rng.integers(0, 2, size=(900, 700), dtype=np.uint8) * 255).convert("1")
    buffer = io.BytesIO()
    bits.save(buffer, "PNG")
    got = decode_image(buffer.getvalue(), "bits.png", min_side=128)
    expected = np.asarray(bits.convert("RGB").reduce(5))
    assert (got.factor_x, got.factor_y) == (5, 5)
    assert np.array_equal(got.rgb, expected)
    assert image_decode_cost(700, 900, "1", reduced=True) == 700 * 900 * 2


def test_concurrent_decodes_wait_for_the_budget() -> None:
    budget = DecodeBudget(total_bytes=100, wait_seconds=120)
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with budget.hold(80, "a"):
            order.append("a in")
            inside.set()
            release.wait(120)
        order.append("a out")

    def second() -> None:
        inside.wait(120)
        with budget.hold(80, "b"):
            order.append("b in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    inside.wait(120)
    release.set()
    for t in threads:
        t.join(120)
    assert order == ["a in", "a out", "b in"]
    assert budget.peak == 80 and budget.held == 0


def test_a_full_budget_refuses_as_busy_after_the_wait() -> None:
    budget = DecodeBudget(total_bytes=100, wait_seconds=0)
    limits = ImageLimits(budget=budget)
    data = synthetic.encode(synthetic.scene(1, 320, 240), "PNG")
    with budget.hold(100, "other"), pytest.raises(MediaBusy) as caught:
        decode_image(data, "up.png", limits=limits)
    assert caught.value.http_status == 503
    assert "SHIELDWALL_DECODE_MEMORY_BUDGET" in caught.value.message
    assert caught.value.message.startswith("up.png: decoding it needs")
    assert decode_image(data, "up.png", limits=limits).rgb.shape == (240, 320, 3)
    assert budget.held == 0


def test_a_decode_larger_than_the_budget_runs_alone() -> None:
    budget = DecodeBudget(total_bytes=10, wait_seconds=0)
    with budget.hold(50, "big"):
        assert budget.held == 50
    assert budget.held == 0


def test_a_video_over_the_decode_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    synthetic.video(path, [synthetic.scene(2, 320, 240)] * 3)
    limit = video_decode_cost(320, 240) - 1
    with pytest.raises(MediaTooLarge, match=r"clip\.mp4: decoding 320x240 frames .*"):
        probe_video(path, "clip.mp4", VideoLimits(max_decode_bytes=limit))
    with pytest.raises(MediaTooLarge, match="SHIELDWALL_MAX_DECODE_BYTES"):
        probe_video(path, "clip.mp4", VideoLimits(max_decode_bytes=limit))


def test_the_limits_of_the_settings_share_one_budget() -> None:
    settings = Settings(decode_memory_budget=3 * 1024**3)
    assert limits_from(settings).budget is limits_from(settings).budget
    assert limits_from(settings).budget.total_bytes == 3 * 1024**3


def test_wide_greyscale_is_scaled_a_band_at_a_time_to_the_same_pixels() -> None:
    rng = np.random.default_rng(7)
    wide = rng.integers(0, 65536, size=(700, 530), dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(wide).save(buffer, "PNG")
    got = decode_image(buffer.getvalue(), "wide.png", min_side=64)
    grey = np.clip(np.rint(wide.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    expected = np.asarray(Image.fromarray(grey).convert("RGB").reduce(8))
    assert (got.factor_x, got.factor_y) == (8, 8)
    assert np.array_equal(got.rgb, expected)
    full = decode_image(buffer.getvalue(), "wide.png")
    assert np.array_equal(full.rgb, np.asarray(Image.fromarray(grey).convert("RGB")))
