"""Inputs the fuzzers found (``fuzz/media_image.py``, ``fuzz/media_video.py``) that escaped
as an unexpected exception; each is now a media error naming the upload. The inputs are the
fuzzers' crashes, minimised, in ``tests/data/fuzz/``."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shieldwall.errors import CorruptMedia, UnsupportedMedia
from shieldwall.hashing import HashResult, hash_bytes
from shieldwall.media.image import decode_image, probe_image
from shieldwall.media.video import probe_video
from shieldwall.signals import ContentType

DATA = Path(__file__).resolve().parents[1] / "data" / "fuzz"
#: A good VP9 WebM (the fuzzer's seed).
SEED_WEBM = Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "media_video" / "clip.webm"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_tiff_whose_second_frame_header_is_damaged_is_corrupt_media() -> None:
    # Pillow's n_frames walks the frame headers and raised TypeError("Missing dimensions").
    data = (DATA / "tiff-damaged-frame-header.tif").read_bytes()
    assert probe_image(data, "upload-1")[0] == "TIFF"  # the first header reads
    with pytest.raises(CorruptMedia, match="upload-1: a frame header is damaged"):
        decode_image(data, "upload-1")
    result = hash_bytes(data, "upload-1", content_type=ContentType.PHOTO)
    assert isinstance(result.error, CorruptMedia) and result.signals == {}


def test_a_video_stream_without_a_decoder_is_unsupported_media(tmp_path: Path) -> None:
    # The stream's codec_context was None and its .width an AttributeError.
    data = (DATA / "mp4-stream-without-decoder.mp4").read_bytes()
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with pytest.raises(UnsupportedMedia, match=r"clip\.mp4: no decoder for the video stream"):
        probe_video(path, "clip.mp4")
    result = hash_bytes(data, "clip.mp4", content_type=ContentType.VIDEO)
    assert isinstance(result.error, UnsupportedMedia) and result.signals == {}


def test_a_damaged_keyframe_index_does_not_send_the_decoder_back_forever() -> None:
    # The index sent each seek back to the same keyframe: one decoded frame, then a loop
    # (libFuzzer's -timeout). Each seek now goes past the last; the rest decodes straight on.
    data = (DATA / "webm-damaged-index-seek-loop.webm").read_bytes()
    results: list[HashResult] = []
    worker = threading.Thread(
        target=lambda: results.append(
            hash_bytes(data, "clip.webm", content_type=ContentType.VIDEO)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "hashing the video did not end"
    assert results[0].error is None and "vpdq" in results[0].signals


_PEAK = """
import resource, sys
from pathlib import Path
from shieldwall.hashing import hash_bytes
from shieldwall.signals import ContentType
data = Path(sys.argv[1]).read_bytes()
warm_up = Path(sys.argv[2]).read_bytes()  # a good WebM: PyAV, FFmpeg and VP9 loaded first
assert hash_bytes(warm_up, "warm-up", content_type=ContentType.VIDEO).error is None
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = hash_bytes(data, "clip.webm", content_type=ContentType.VIDEO)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(type(result.error).__name__, grown // 1024, str(result.error))
"""


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("webm-frames-larger-than-header.webm", "32x32"),
        ("webm-huge-frames-small-container.webm", "32x32"),
    ],
)
def test_frames_larger_than_the_header_are_refused_before_they_are_decoded(
    name: str, size: str
) -> None:
    # 2 KB WebMs whose container says 32x32 and whose VP9 frames are thousands of pixels a
    # side: FFmpeg allocated 200-430 MB for each, outside the decode budget, which is counted
    # from the header (found by fuzzing, the oom of docs/benchmarks.md). FFmpeg's max_pixels
    # now refuses such a frame while the header is read and while decoding.
    path = DATA / name
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path), str(SEED_WEBM)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    kind, grown_mib, message = done.stdout.strip().splitlines()[-1].split(" ", 2)
    assert int(grown_mib) < 64, f"decoding it grew the process by {grown_mib} MiB"
    assert kind == "CorruptMedia"
    assert message.startswith("clip.webm: video data is damaged")
    assert f"larger than the {size} of its header" in message
