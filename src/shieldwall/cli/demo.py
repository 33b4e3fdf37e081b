"""``shieldwall demo``: what hashing does, on generated images, in a few seconds."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import typer

from shieldwall.cli._app import EXIT_OK, app


def _variants(folder: Path) -> list[tuple[str, Path]]:
    import numpy as np  # noqa: PLC0415 (lazy: cli/__init__.py)
    from PIL import Image  # noqa: PLC0415

    from shieldwall.media import synthetic  # noqa: PLC0415

    original = synthetic.scene(seed=7)
    img = Image.fromarray(original)
    files: dict[str, bytes] = {
        "original.jpg": synthetic.encode(original),
        "recompressed-q40.jpg": synthetic.encode(original, quality=40),
        "half-size.png": synthetic.encode(
            np.asarray(img.resize((img.width // 2, img.height // 2))), "PNG"
        ),
        "greyscale.jpg": synthetic.encode(np.asarray(img.convert("L").convert("RGB"))),
        "mirrored.jpg": synthetic.encode(
            np.asarray(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
        ),
        "unrelated.jpg": synthetic.encode(synthetic.scene(seed=8)),
        "flat-grey.png": synthetic.encode(np.full((256, 256, 3), 128, np.uint8), "PNG"),
        "not-an-image.jpg": b"this is text, not a JPEG",
    }
    out = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        out.append((name, path))
    return out


@app.command("demo")
def demo_command() -> None:
    """Hash a generated photo and altered copies of it, and show which still match.

    Shows PDQ's tolerance (recompression, resizing, greyscale survive), the quality floor (a flat
    image is never matchable), exact hashes (MD5 changes with every byte), and a clear error for
    a file that is not an image. Nothing leaves this machine.
    """
    from rich.console import Console  # noqa: PLC0415 (lazy: cli/__init__.py)
    from rich.table import Table  # noqa: PLC0415

    from shieldwall.hashing import hash_many  # noqa: PLC0415
    from shieldwall.media import Media  # noqa: PLC0415
    from shieldwall.signals.pdq import PdqSignal  # noqa: PLC0415
    from shieldwall.signals.registry import get_signal_type  # noqa: PLC0415

    console = Console(width=None if sys.stdout.isatty() else 160)
    pdq = get_signal_type("pdq")
    with tempfile.TemporaryDirectory(prefix="shieldwall-demo-") as tmp:
        files = _variants(Path(tmp))
        results = list(hash_many([str(p) for _, p in files], workers=1))
        variants = PdqSignal().compute_dihedral(Media.from_path(files[0][1]))
    reference = results[0].signals["pdq"]
    table = Table(title="Shieldwall demo: PDQ hashes of a generated photo and altered copies")
    table.add_column("file", no_wrap=True)
    for column in ("pdq (first 16 hex)", "quality", "distance", "verdict", "md5 (first 8)"):
        table.add_column(column)
    for (name, _), result in zip(files, results, strict=True):
        if not result.ok:
            table.add_row(name, "", "", "", f"[red]error:[/] {result.error_message}", "")
            continue
        signal = result.signals["pdq"]
        distance = pdq.distance(reference.value, signal.value)
        if not pdq.is_usable(signal):
            verdict = "[yellow]quality too low: never matched[/]"
        elif distance <= pdq.default_threshold:
            verdict = "[green]match[/]"
        else:
            name_d, variant_distance = min(
                ((n, pdq.distance(v.value, signal.value)) for n, v in variants.items()),
                key=lambda item: item[1],
            )
            if variant_distance <= pdq.default_threshold:
                verdict = f"[green]match[/] via the {name_d} variant (distance {variant_distance})"
            else:
                verdict = "no match"
        table.add_row(
            name,
            signal.value[:16],
            str(signal.quality),
            str(distance),
            verdict,
            result.signals["md5"].value[:8],
        )
    console.print(table)
    console.print(
        f"PDQ matches at distance <= {pdq.default_threshold} of 256 bits. Rotated and mirrored "
        "copies are found through the 8 dihedral variants of the original's hash.\n"
        "Try it on your own files:  [bold].venv/bin/shieldwall hash PATH...[/]"
    )
    raise typer.Exit(EXIT_OK)
