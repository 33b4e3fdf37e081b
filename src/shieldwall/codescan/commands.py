"""Command lines: splitting shell text into commands, normalising what is run, and reading
the packages a ``pip install`` brings in.

Normalising peels off what does not change what runs (``sudo``, ``env X=1``, ``nohup``,
``python -u``) so that rules see the program actually started: ``python3 -u run.py -s a.jpg``
has program ``run.py``. ``python -c CODE`` and ``bash -c CMD`` hand their payload back for
analysis as Python or shell.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

__all__ = [
    "NormalisedCommand",
    "normalise",
    "normalise_package",
    "packages_installed",
    "requirement_names",
    "split_shell",
]

_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")", "|&"})
_WRAPPERS = frozenset({"sudo", "nohup", "time", "exec", "env", "nice", "stdbuf", "xargs", "!"})
# Also an interpreter held in a shell variable: DeepFaceLab's scripts run "$DFL_PYTHON" main.py.
_PYTHON_RE = re.compile(
    r"^(python|python3|python3\.\d+|py|pypy3?|ipython|\$\{?[A-Za-z_]*PYTHON[A-Za-z0-9_]*\}?)$",
    re.IGNORECASE,
)
_SHELL_RE = re.compile(r"^(bash|sh|zsh|dash)$")
_ASSIGN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def split_shell(text: str, first_line: int = 1) -> list[tuple[tuple[str, ...], int]]:
    """Split shell text into commands (argv, 1-based line), joining ``\\`` continuations and
    splitting on ``&&``, ``||``, ``;`` and pipes. Unbalanced quotes fall back to whitespace
    splitting rather than failing: obfuscated scripts must still be read."""
    out: list[tuple[tuple[str, ...], int]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        # "\\" continues a POSIX shell line, " ^" a Windows batch line (DeepFaceLab's .bat files).
        while line.rstrip().endswith(("\\", " ^")) and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            lexer = shlex.shlex(stripped, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            tokens = stripped.split()
        current: list[str] = []
        for tok in tokens:
            if tok in _SEPARATORS or set(tok) <= set("&|;()<>"):
                if current:
                    out.append((tuple(current), first_line + start))
                current = []
            else:
                current.append(tok)
        if current:
            out.append((tuple(current), first_line + start))
    return out


@dataclass(frozen=True)
class NormalisedCommand:
    """What a command line runs: the program's base name, its arguments split into tokens
    (``--a=b`` becomes ``--a``, ``b``), and any inline payload (``python -c``, ``bash -c``)."""

    program: str
    tokens: tuple[str, ...]
    python_code: str | None = None
    shell_code: str | None = None

    @property
    def subcommand(self) -> str | None:
        """The first positional argument after the program."""
        for tok in self.tokens:
            if not tok.startswith("-"):
                return tok
        return None


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def normalise(argv: tuple[str, ...] | list[str]) -> NormalisedCommand | None:
    """Peel wrappers and interpreters off ``argv``; ``None`` for an empty command."""
    args = [a for a in argv if a]
    while args and (args[0] in _WRAPPERS or _ASSIGN_RE.match(args[0]) or args[0].startswith("!")):
        if args[0].startswith("!") and len(args[0]) > 1:
            args[0] = args[0][1:]
            continue
        args = args[1:]
        while args and args[0].startswith("-") and len(args) > 1:  # sudo -E, env -i
            args = args[1:]
    if not args:
        return None
    prog = _base(args[0])
    rest = args[1:]
    if _PYTHON_RE.match(prog):
        while rest and rest[0].startswith("-"):
            flag = rest[0]
            if flag == "-c" and len(rest) > 1:
                return NormalisedCommand("python", tuple(_split_eq(rest[2:])), python_code=rest[1])
            if flag == "-m" and len(rest) > 1:
                return NormalisedCommand(rest[1], tuple(_split_eq(rest[2:])))
            rest = rest[1:]
        if rest:
            return NormalisedCommand(_base(rest[0]), tuple(_split_eq(rest[1:])))
        return NormalisedCommand("python", ())
    if _SHELL_RE.match(prog):
        if len(rest) >= 2 and rest[0] == "-c":
            return NormalisedCommand(prog, (), shell_code=rest[1])
        rest = [r for r in rest if not r.startswith("-")]
        if rest:
            return NormalisedCommand(_base(rest[0]), tuple(_split_eq(rest[1:])))
    return NormalisedCommand(prog, tuple(_split_eq(rest)))


def _split_eq(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if tok.startswith("-") and "=" in tok:
            flag, _, value = tok.partition("=")
            out += [flag, value]
        else:
            out.append(tok)
    return out


_REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise_package(name: str) -> str:
    """PEP 503 normalised package name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def packages_installed(cmd: NormalisedCommand) -> list[str]:
    """Package names a ``pip install`` / ``uv pip install`` / ``conda install`` brings in."""
    tokens = list(cmd.tokens)
    if cmd.program in ("uv", "pip", "pip3", "conda", "mamba") and tokens[:1] == ["pip"]:
        tokens = tokens[1:]
    if cmd.program not in ("pip", "pip3", "uv", "conda", "mamba") or tokens[:1] != ["install"]:
        return []
    names: list[str] = []
    skip_next = False
    for tok in tokens[1:]:
        if skip_next:
            skip_next = False
            continue
        if tok in (
            "-r",
            "-c",
            "-e",
            "--requirement",
            "--constraint",
            "-i",
            "--index-url",
            "--extra-index-url",
            "-f",
            "--find-links",
            "-t",
            "--target",
            "-c",
        ):
            skip_next = tok not in ("-e",)
            continue
        if tok.startswith("-"):
            continue
        if "://" in tok or tok.startswith("git+"):
            egg = re.search(r"#egg=([A-Za-z0-9._-]+)", tok)
            if egg:
                names.append(normalise_package(egg.group(1)))
            continue
        m = _REQ_NAME_RE.match(tok)
        if m:
            names.append(normalise_package(m.group(1)))
    return names


def requirement_names(text: str) -> list[tuple[str, int]]:
    """Package names in a requirements file, with their 1-based line."""
    out: list[tuple[str, int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        egg = re.search(r"#egg=([A-Za-z0-9._-]+)", line)
        spec = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if egg:
            out.append((normalise_package(egg.group(1)), lineno))
            continue
        if not spec or spec.startswith("-") or "://" in spec:
            continue
        m = _REQ_NAME_RE.match(spec)
        if m:
            out.append((normalise_package(m.group(1)), lineno))
    return out
