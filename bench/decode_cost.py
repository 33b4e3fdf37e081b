"""The worst case of decoding per format: time and peak memory of hashing one crafted file that
the default limits let in (a huge, flat, highly compressible image; a video at the largest
frame size), before and after the decode budget of issue 19.

"Before" is the source tree at a git revision (``--before``, default the commit before the
budget), "after" is this tree; both are measured in the same run, each file in a fresh child
process (peak resident memory over the process at rest, from /proc; wall time), default
settings.

    .venv/bin/python bench/decode_cost.py
    .venv/bin/python bench/decode_cost.py --before e80090b --formats png-rgba,mp4
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, write_section
from shieldwall.media import synthetic
from shieldwall.media.budget import image_decode_cost, video_decode_cost

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    HAVE_HEIF = True
except ImportError:  # pragma: no cover - a declared dependency
    HAVE_HEIF = False

#: The commit before the decode budget.
BEFORE = "e80090b"
#: Just under the default max_image_pixels (80 M): 8944 x 8944 = 79,995,136.
SIDE = 8944

CHILD = r"""
import json, sys, time, pathlib
from shieldwall.hashing import hash_file
from shieldwall.media import synthetic
from shieldwall.config import Settings
def status():
    out = {}
    for line in open("/proc/self/status"):
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out
settings = Settings(data_dir=pathlib.Path(sys.argv[2]))
warm = pathlib.Path(sys.argv[2]) / "warm.png"
warm.write_bytes(synthetic.encode(synthetic.scene(1, 320, 240), "PNG"))
hash_file(warm, settings=settings)
open("/proc/self/clear_refs", "w").write("5")
rest = status()["VmRSS"]
start = time.perf_counter()
result = hash_file(sys.argv[1], settings=settings)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak": status()["VmHWM"] - rest,
                  "error": result.error_message}))
"""


def _image(fmt: str, mode: str, side: int, **params: object) -> bytes:
    img = Image.new(mode, (side, side))
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def _video(width: int, height: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        container = av.open(str(path), "w")
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        black = np.zeros((height, width, 3), dtype=np.uint8)
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(black, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()

    return write


def cases() -> dict[str, tuple[str, Callable[[Path], None]]]:
    """Each case: a description and a function writing the file."""

    def data(make: Callable[[], bytes]) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            path.write_bytes(make())

        return write

    found: dict[str, tuple[str, Callable[[Path], None]]] = {
        "png-grey": (
            f"PNG, {SIDE}x{SIDE} greyscale, flat (like the issue's 95 KB file)",
            data(lambda: synthetic.flat_png(SIDE, SIDE, "L")),
        ),
        "png-rgba": (
            f"PNG, {SIDE}x{SIDE} RGBA, flat",
            data(lambda: synthetic.flat_png(SIDE, SIDE, "RGBA")),
        ),
        "png-16": (
            f"PNG, {SIDE}x{SIDE} 16-bit greyscale, flat",
            data(lambda: _image("PNG", "I;16", SIDE)),
        ),
        "webp": (
            f"WebP lossless, {SIDE}x{SIDE} RGBA, flat",
            data(lambda: _image("WEBP", "RGBA", SIDE, lossless=True, method=0)),
        ),
        "gif": (f"GIF, {SIDE}x{SIDE}, flat", data(lambda: _image("GIF", "P", SIDE))),
        "tiff": (
            f"TIFF deflate, {SIDE}x{SIDE} RGB, flat",
            data(lambda: _image("TIFF", "RGB", SIDE, compression="tiff_adobe_deflate")),
        ),
        "mp4": ("MP4 H.264, 8192x4320 (the largest side allowed), 3 frames", _video(8192, 4320)),
        "mp4-4k": ("MP4 H.264, 3840x2160, 3 frames", _video(3840, 2160)),
    }
    if HAVE_HEIF:
        found["heic"] = (
            "HEIC, 8192x8192 RGB, flat",
            data(lambda: _image("HEIF", "RGB", 8192, quality=10)),
        )
    return found


def _tree_at(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _measure(src: Path, path: Path, work: Path) -> dict[str, object]:
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(work)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"seconds": 0.0, "peak": 0, "error": f"crashed: {done.stderr.strip()[-200:]}"}
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _estimate(path: Path) -> int:
    """Our header estimate of the decode's peak (as the PDQ hasher decodes: reduced)."""
    if path.suffix == ".mp4":
        with av.open(str(path)) as container:
            context = container.streams.video[0].codec_context
            return video_decode_cost(context.width, context.height)
    with Image.open(path) as img:
        return image_decode_cost(
            img.size[0], img.size[1], img.mode, reduced=True, image_format=str(img.format)
        )


def _outcome(row: dict[str, object]) -> str:
    error = row["error"]
    if error is None:
        return "hashed"
    text = str(error)
    if "SHIELDWALL_MAX_DECODE_BYTES" in text:
        return "refused: max_decode_bytes"
    return "error: " + text.split(": ", 1)[-1][:60]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision measured as before")
    parser.add_argument("--formats", default="", help="comma-separated case names (all)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs")
    args = parser.parse_args()
    chosen = cases()
    if args.formats:
        chosen = {k: v for k, v in chosen.items() if k in args.formats.split(",")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        before_src = _tree_at(args.before, work / "before")
        after_src = ROOT / "src"
        for name, (description, write) in chosen.items():
            path = work / f"{name}.{name.split('-')[0]}"
            write(path)
            size = path.stat().st_size
            before = _measure(before_src, path, work)
            after = _measure(after_src, path, work)
            before["estimate"] = _estimate(path)
            rows.append((name, description, size, before, after))
            print(name, size, before, after, flush=True)
    lines = [
        "## Decoding cost per format, worst case (issue 19)",
        "",
        "One crafted file per format that the default limits let in (80 M pixels, 30,000 px "
        "a side; video 8192 px a side): flat, so that it compresses to almost nothing and "
        "costs the most per byte. Hashed with default settings (pdq, md5, sha256; vpdq for "
        "videos) in a fresh process each; peak = the process's peak resident memory over its "
        f"size at rest. Before = `{args.before}` (no decode budget), after = this tree "
        "(`max_decode_bytes` 512 MiB a decode, `decode_memory_budget` 1 GiB a process; "
        "greyscale, bilevel and 16-bit greyscale reduced before their RGB conversion).",
        "",
        "| file | bytes | before: s | before: peak MiB | our estimate MiB | after: s "
        "| after: peak MiB | after | peak after/before |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, description, size, before, after in rows:
        b_peak = float(str(before["peak"])) / 2**20
        a_peak = float(str(after["peak"])) / 2**20
        ratio = f"{a_peak / b_peak:.2f}" if b_peak > 0 else "-"
        lines.append(
            f"| {description} (`{name}`) | {size:,} | {float(str(before['seconds'])):.2f} "
            f"| {b_peak:,.0f} | {float(str(before['estimate'])) / 2**20:,.0f} "
            f"| {float(str(after['seconds'])):.2f} | {a_peak:,.0f} "
            f"| {_outcome(after)} | {ratio} |"
        )
    lines += [
        "",
        "Our estimate is taken from the header alone, before decoding, and must not be below "
        "the real peak of the decode it describes (but for the few MiB the hashes' own arrays "
        "add): the after column where the file is hashed, the before column where it is "
        "refused (the same decode, except 16-bit greyscale, whose old decode took three times "
        "what ours would). It is what the per-decode "
        "limit and the process's budget count; for videos it assumes the largest "
        "reference-frame buffer the codecs' levels allow, which a 3-frame clip does not fill. "
        "Whatever is let in, concurrent decodes in one process never "
        "hold more than the budget together; tests/service/test_decode_memory.py measures "
        'that on a live service (docs/security.md, "Bounded cost per request").',
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("decode_cost", body, "python bench/decode_cost.py")


if __name__ == "__main__":
    main()
