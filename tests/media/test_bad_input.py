"""Bad input: each case gets a typed error whose message names the file and the problem."""

from __future__ import annotations

import struct
import zlib

import pytest

from shieldwall.errors import (
    CorruptMedia,
    EmptyMedia,
    MediaError,
    MediaTooLarge,
    UnsupportedMedia,
)
from shieldwall.media import ImageLimits, Media, decode_image, probe_image, synthetic


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` with no real pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return synthetic.encode(synthetic.scene(3, 640, 480))


def test_zero_byte_file_is_empty_media() -> None:
    with pytest.raises(EmptyMedia, match=r"^empty\.jpg: empty file \(0 bytes\)$"):
        decode_image(b"", "empty.jpg")


def test_text_named_jpg_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia, match=r"^notes\.jpg: not an image"):
        decode_image(b"Dear diary, this is plain text.\n" * 10, "notes.jpg")


def test_truncated_jpeg_is_corrupt(jpeg: bytes) -> None:
    with pytest.raises(CorruptMedia, match=r"^cut\.jpg: image data is damaged or truncated"):
        decode_image(jpeg[: len(jpeg) // 2], "cut.jpg")


def test_damaged_png_data_is_corrupt() -> None:
    # A PNG's EXIF may follow its pixels: reading the orientation first loaded them and hid
    # the error, and the damaged image was hashed as black.
    png = synthetic.encode(synthetic.scene(3, 320, 240), "PNG")
    start = png.index(b"IDAT") + 4
    damaged = png[:start] + b"\x00" * 20 + png[start + 20 :]
    with pytest.raises(CorruptMedia, match=r"^bad\.png: image data is damaged or truncated"):
        decode_image(damaged, "bad.png")


def test_truncated_header_is_reported(jpeg: bytes) -> None:
    with pytest.raises(MediaError, match=r"^head\.jpg: "):
        decode_image(jpeg[:40], "head.jpg")


def test_decompression_bomb_header_is_refused_before_decoding() -> None:
    bomb = _png_header_only(50_000, 50_000)
    assert len(bomb) < 200
    with pytest.raises(MediaTooLarge, match=r"^bomb\.png: .*too large|over the limit"):
        decode_image(bomb, "bomb.png")


def test_pixel_limit_below_pillows_own_is_ours() -> None:
    header = _png_header_only(5_000, 5_000)
    with pytest.raises(MediaTooLarge, match=r"25,000,000 pixels is over the limit of 1,000,000"):
        probe_image(header, "big.png", ImageLimits(max_pixels=1_000_000))


def test_dimension_limit() -> None:
    header = _png_header_only(20_000, 10)
    with pytest.raises(MediaTooLarge, match=r"20000x10 has a side over the limit of 10,000 px"):
        probe_image(header, "long.png", ImageLimits(max_dimension=10_000))


def test_byte_limit(jpeg: bytes) -> None:
    with pytest.raises(MediaTooLarge, match=r"bytes is over the limit of 1,000 bytes"):
        decode_image(jpeg, "big.jpg", limits=ImageLimits(max_bytes=1_000))


def test_byte_limit_is_checked_before_reading_a_file(tmp_path: object, jpeg: bytes) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "big.jpg"
    path.write_bytes(jpeg)
    with pytest.raises(MediaTooLarge, match=str(path)):
        Media.from_path(path, limits=ImageLimits(max_bytes=100))


def test_missing_file_and_directory(tmp_path: object) -> None:
    from pathlib import Path

    missing = Path(str(tmp_path)) / "nope.jpg"
    with pytest.raises(MediaError, match=r"nope\.jpg: no such file"):
        Media.from_path(missing)
    with pytest.raises(MediaError, match=r"is a directory"):
        Media.from_path(Path(str(tmp_path)))


def test_unsupported_but_decodable_format_is_refused() -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buf, "PPM")
    with pytest.raises(UnsupportedMedia, match=r"format PPM is not supported"):
        decode_image(buf.getvalue(), "x.ppm")
