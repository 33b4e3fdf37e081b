"""Fuzz target: a video as it arrives (``hash_bytes`` on arbitrary bytes: PyAV/FFmpeg's
demuxers and decoders, our duration/frame/dimension limits, frame sampling and vPDQ).

A bug: any exception out of ``hash_bytes`` (it reports undecodable content in
``HashResult.error``, never by raising), or an error there that is not a ShieldwallError.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["shieldwall"]):
    from shieldwall.config import Settings
    from shieldwall.errors import ShieldwallError
    from shieldwall.hashing import hash_bytes
    from shieldwall.media.budget import return_freed_buffers
    from shieldwall.signals import ContentType

# As in a service or worker process: freed pixels go back to the system, so that
# -rss_limit_mb measures what the decodes hold, not what glibc's arenas keep.
return_freed_buffers()

# Small limits keep one execution cheap (the fuzzer explores the demuxers, not long videos).
SETTINGS = Settings(
    max_video_bytes=256 * 1024,
    max_video_seconds=60.0,
    max_video_frames=600,
    max_video_dimension=512,
)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    result = hash_bytes(data, "fuzz", settings=SETTINGS, content_type=ContentType.VIDEO)
    if result.error is not None and not isinstance(result.error, ShieldwallError):
        raise AssertionError(f"not a project error: {result.error!r}")


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
