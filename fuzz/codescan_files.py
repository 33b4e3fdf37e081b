"""Fuzz target: a script or file given to the code scanner. The first byte picks the file
name (so the reader: Python with its deobfuscation, shell, batch, requirements, pyproject,
Dockerfile, ONNX, pickle, opaque, text), the rest is its content; the shell helpers
(``split_shell``, ``normalise``, ``packages_installed``, ``requirement_names``) read it too.

A bug: an exception that is not a ScanInputError out of a reader (their contract), or any
exception out of the shell helpers (they take any text).
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["shieldwall"]):
    from codescan_notebook import read
    from shieldwall.codescan.commands import (
        normalise,
        packages_installed,
        requirement_names,
        split_shell,
    )

NAMES = (
    "fuzz/x.py",
    "fuzz/run.sh",
    "fuzz/run.bat",
    "fuzz/requirements.txt",
    "fuzz/pyproject.toml",
    "fuzz/Dockerfile",
    "fuzz/model.onnx",
    "fuzz/model.pkl",
    "fuzz/weights.bin",
    "fuzz/README.md",
    "fuzz/script",
)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    if not data:
        return
    name, body = NAMES[data[0] % len(NAMES)], data[1:]
    read(name, body)
    text = body.decode("utf-8", errors="replace")
    for argv, _line in split_shell(text):
        command = normalise(argv)
        if command is not None:
            packages_installed(command)
    requirement_names(text)


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
