"""Video decoding: sampling, rotation, limits, and each kind of bad input with a clear error."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from shieldwall.errors import CorruptMedia, EmptyMedia, MediaError, MediaTooLarge, UnsupportedMedia
from shieldwall.media import synthetic
from shieldwall.media.video import VideoLimits, looks_like_video, probe_video, sample_frames
from shieldwall.signals.pdq import hamming_distance
from shieldwall.signals.vpdq import hash_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("video")
    return synthetic.video(folder / "clip.mp4", synthetic.panorama(3, 6, 10, 320, 240))


def test_probe_describes_the_stream(clip: Path) -> None:
    info = probe_video(clip, "clip.mp4")
    assert (info.width, info.height, info.fps, info.codec) == (320, 240, 10.0, "h264")
    assert info.frames == 60
    assert 5.5 < info.duration_seconds <= 6.1


def test_one_frame_a_second_by_default_and_every_frame_with_zero(clip: Path) -> None:
    sparse = list(sample_frames(clip, "clip.mp4"))
    dense = list(sample_frames(clip, "clip.mp4", seconds_per_hash=0))
    assert [f.number for f in sparse] == [0, 10, 20, 30, 40, 50]
    assert [f.timestamp for f in sparse] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert [f.number for f in dense] == list(range(60))
    by_number = {f.number: f for f in dense}
    for f in sparse:  # sampled frames (after seeks and skipped frames) are the right frames
        assert np.array_equal(f.luma, by_number[f.number].luma)


def test_other_sampling_rates(clip: Path) -> None:
    assert [f.number for f in sample_frames(clip, "c", seconds_per_hash=2.5)] == [0, 25, 50]


def test_containers_and_codecs(tmp_path: Path) -> None:
    frames = list(synthetic.panorama(4, 2, 10, 160, 120))
    reference = hash_video(synthetic.video(tmp_path / "a.mp4", frames), "a")
    encodings = (
        ("b.webm", "libvpx-vp9"),
        ("c.mkv", "libx264"),
        ("d.avi", "mpeg4"),
        ("e.mov", "libx264"),
    )
    for name, codec in encodings:
        try:
            path = synthetic.video(tmp_path / name, frames, codec=codec)
        except av.error.FFmpegError as exc:  # pragma: no cover - depends on the FFmpeg build
            pytest.skip(f"this FFmpeg cannot encode {codec}: {exc}")
        hashes = hash_video(path, name)
        assert [h.number for h in hashes] == [h.number for h in reference], name
        # Each codec loses differently at its default quality (VP9 most): what must hold is
        # that the frames still match across containers and codecs.
        for ours, ref in zip(hashes, reference, strict=True):
            assert hamming_distance(ours.pdq, ref.pdq) <= 31, name


def test_rotation_metadata_is_applied(tmp_path: Path) -> None:
    upright = list(synthetic.panorama(5, 2, 10, 240, 160))
    stored = [np.ascontiguousarray(np.rot90(f, k=-1)) for f in upright]  # turned clockwise
    plain = hash_video(synthetic.video(tmp_path / "up.mp4", upright), "up")
    rotated_file = synthetic.video(tmp_path / "rot.mp4", stored, rotation=90)
    rotated = hash_video(rotated_file, "rot")
    frame = next(iter(sample_frames(rotated_file, "rot")))
    assert (frame.full_width, frame.full_height) == (240, 160)
    for a, b in zip(plain, rotated, strict=True):
        assert hamming_distance(a.pdq, b.pdq) <= 12


def test_looks_like_video() -> None:
    assert looks_like_video(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00")
    assert not looks_like_video(b"\x00\x00\x00\x20ftypheic\x00\x00\x02\x00")
    assert looks_like_video(b"\x1a\x45\xdf\xa3\x01\x00")
    assert not looks_like_video(b"\xff\xd8\xff\xe0")


# --- bad input -------------------------------------------------------------------------------


def test_truncated_mp4(clip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(CorruptMedia, match=r"cut\.mp4: cannot read the video container"):
        list(sample_frames(cut, str(cut)))


def test_damaged_stream_names_the_position(clip: Path, tmp_path: Path) -> None:
    data = bytearray(clip.read_bytes())
    # Overwrite the middle of the media data: the container opens, decoding breaks or the
    # frames come out damaged; either way it must end, never hang, and errors name a frame.
    for i in range(len(data) // 3, len(data) // 3 + 4000):
        data[i] = 0xFF
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    error = ""
    try:
        frames = list(sample_frames(bad, "bad.mp4"))
    except CorruptMedia as exc:
        error = exc.message
    if error:
        assert "bad.mp4: video data is damaged after frame" in error
    else:
        assert len(frames) <= 6


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(EmptyMedia, match=r"empty\.mp4: empty file \(0 bytes\)"):
        probe_video(empty, str(empty))


def test_text_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video at all\n" * 20)
    with pytest.raises(UnsupportedMedia, match=r"fake\.mp4: not a video in a supported format"):
        probe_video(fake, str(fake))


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "audio.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000)
        assert isinstance(stream, av.audio.stream.AudioStream)
        samples = (np.sin(np.linspace(0, 2000, 16000)) * 0.3).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(UnsupportedMedia, match=r"audio\.m4a: no video stream \(only audio"):
        probe_video(path, str(path))


def test_zero_length_video(tmp_path: Path) -> None:
    path = synthetic.video(tmp_path / "zero.mp4", [])
    with pytest.raises(MediaError, match=r"zero\.mp4: "):
        list(sample_frames(path, str(path)))


def test_ten_hour_header_is_refused_quickly(tmp_path: Path) -> None:
    frames = list(synthetic.panorama(6, 0.3, 10, 64, 48))
    # Three frames, timestamps 5 hours apart: the header claims a 10-hour video.
    path = synthetic.video(tmp_path / "long.mp4", frames, fps=10, pts_scale=10 * 3600 * 5)
    assert path.stat().st_size < 100_000
    with pytest.raises(MediaTooLarge, match=r"long\.mp4: 10\.0 hours is over the limit of 4\.0"):
        list(sample_frames(path, str(path)))


def test_frame_and_dimension_limits(clip: Path) -> None:
    with pytest.raises(MediaTooLarge, match="60 frames is over the limit of 10"):
        probe_video(clip, "clip.mp4", VideoLimits(max_frames=10))
    with pytest.raises(MediaTooLarge, match="320x240 frames are over the limit of 200 px"):
        probe_video(clip, "clip.mp4", VideoLimits(max_dimension=200))
    with pytest.raises(MediaTooLarge, match="over the video limit of 1,000 bytes"):
        probe_video(clip, "clip.mp4", VideoLimits(max_bytes=1000))
