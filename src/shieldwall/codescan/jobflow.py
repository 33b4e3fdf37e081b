"""The order of a job's commands: which scripts run inside a repository the job cloned.

A notebook or setup script that clones a face-swap tool and then runs a script inside the clone
(``git clone .../VisoMaster`` then ``cd VisoMaster`` and ``python main.py``, or
``python roop/run.py``) runs that tool, even when the script's own name (``main.py``,
``run.py``) says nothing. :func:`clone_runs` follows ``git clone`` and ``cd`` through the
commands in order (cells, then lines) and pairs each script run with the URL of the clone it
runs in; the matcher turns a known tool's repository finding into a *run* finding on that
command.
"""

from __future__ import annotations

from collections.abc import Iterable

from shieldwall.codescan.commands import normalise
from shieldwall.codescan.model import Command

__all__ = ["clone_runs", "same_repo"]

# Programs that set a job up rather than run the cloned code.
_SETUP = frozenset(
    {"git", "pip", "pip3", "uv", "conda", "mamba", "cd", "ls", "dir", "mkdir", "rm", "cp", "mv",
     "cat", "echo", "wget", "curl", "gdown", "unzip", "tar", "apt", "apt-get", "chmod", "ln",
     "nvidia-smi", "call", "set", "rem", "export", "source", "pwd", "touch", "sed",
     "huggingface-cli", "python", "python3"}
)  # fmt: skip
_SCRIPT_EXTS = (".py", ".sh", ".bat", ".cmd", ".ps1")
_CLONE_OPTS_WITH_VALUE = frozenset({"--depth", "-b", "--branch", "--origin", "-o", "--jobs", "-j"})


def same_repo(a: str, b: str) -> bool:
    """Whether two repository URLs name the same repository (``.git``, case, slashes aside)."""

    def key(url: str) -> str:
        return url.strip().rstrip("/").removesuffix(".git").lower().split("://", 1)[-1]

    return key(a) == key(b)


def _clone(tokens: tuple[str, ...]) -> tuple[str, str] | None:
    """(url, directory) of ``git clone [opts] URL [DIR]``."""
    positional: list[str] = []
    skip = False
    for tok in tokens[1:]:
        if skip:
            skip = False
        elif tok in _CLONE_OPTS_WITH_VALUE:
            skip = True
        elif not tok.startswith("-"):
            positional.append(tok)
    if not positional:
        return None
    url = positional[0]
    default = url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    folder = positional[1] if len(positional) > 1 else default
    return url, folder.replace("\\", "/").strip("/").lower()


def clone_runs(commands: Iterable[Command]) -> list[tuple[str, Command]]:
    """(clone URL, command) for every script run inside a directory the job cloned."""
    ordered = sorted(
        (c for c in commands if not c.declared),
        key=lambda c: (c.location.path, c.location.cell or 0, c.location.line or 0),
    )
    clones: dict[str, str] = {}  # clone directory (lower case) -> URL
    here: str | None = None  # the URL of the clone the job is in
    out: list[tuple[str, Command]] = []
    for cmd in ordered:
        norm = normalise(cmd.argv)
        if norm is None:
            continue
        if norm.program == "git" and norm.tokens[:1] == ("clone",):
            got = _clone(norm.tokens)
            if got is not None:
                clones[got[1]] = got[0]
            continue
        if norm.program == "cd":
            target = (norm.tokens[0] if norm.tokens else "").replace("\\", "/").strip("/").lower()
            parts = [p for p in target.split("/") if p]
            found = next((clones[p] for p in reversed(parts) if p in clones), None)
            if found is not None:
                here = found
            elif target.startswith("..") or target.startswith("/") or not target:
                here = None
            continue
        if norm.program in _SETUP or norm.python_code or norm.shell_code:
            continue
        url = here
        for tok in cmd.argv:
            first = tok.replace("\\", "/").removeprefix("./").split("/", 1)[0].lower()
            if (
                "/" in tok.replace("\\", "/")
                and first in clones
                and tok.lower().endswith(_SCRIPT_EXTS)
            ):
                url = clones[first]
                break
        if url is not None and (
            norm.program.lower().endswith(_SCRIPT_EXTS) or cmd.argv[0] != norm.program
        ):
            out.append((url, cmd))
    return out
