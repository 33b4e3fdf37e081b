"""Build hook: compile the Hamming index's C kernels (src/shieldwall/index/_hamming.c) into
``_hamming.so`` next to the source, for wheels and editable installs alike.

Without a C compiler the build goes on and the index runs its numba kernels instead (same
results, about 190 MB more per process); ``SHIELDWALL_INDEX_KERNELS=c`` then refuses to start.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/shieldwall/index/_hamming.c")
LIBRARY = SOURCE.with_suffix(".so")


def compile_kernels(root: Path) -> Path | None:
    """Compile the kernels; the library's path, or ``None`` (and why, on stderr)."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        print("shieldwall: no C compiler: the index uses its numba kernels", file=sys.stderr)
        return None
    flags = ["-O3", "-std=c11", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror"]
    if platform.machine() in ("x86_64", "AMD64"):
        flags.append("-mpopcnt")  # every x86-64 CPU of the last 15 years has it
    out = root / LIBRARY
    try:
        command = [compiler, *flags, "-o", str(out), str(root / SOURCE)]
        subprocess.run(command, check=True)  # noqa: S603 (our compiler, our source)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"shieldwall: compiling the index kernels failed ({exc})", file=sys.stderr)
        return None
    return out


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Compiles the kernels; a wheel that holds them is platform-specific."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        built = compile_kernels(Path(self.root))
        if built is None:
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(built)] = "shieldwall/index/_hamming.so"
