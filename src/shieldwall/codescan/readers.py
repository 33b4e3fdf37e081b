"""File readers: the plug-in interface that turns one file's bytes into facts.

A reader says which files it takes (:meth:`FileReader.claims`, from the name and the first
bytes) and reads one (:meth:`FileReader.read`). The built-in readers are registered in
:data:`READERS` exactly as a third party's would be (:func:`register_reader`); the first reader
that claims a file reads it. Archives are not readers: they contain files, and
:mod:`shieldwall.codescan.inputs` opens them and hands each member back to the readers.

Contract (``tests/codescan/test_readers_contract.py`` runs it on every registered reader): on
any bytes, ``read`` returns facts whose locations name the source, or raises a
:class:`~shieldwall.errors.ScanInputError` subclass, and nothing else; it reads at most the
configured number of bytes; it never executes or deserialises what it reads.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, ClassVar

from shieldwall.codescan.model import Facts, Fragment, Location
from shieldwall.codescan.models import onnx_summary, pickle_strings
from shieldwall.codescan.notebook import notebook_facts
from shieldwall.codescan.pyfacts import DecodeBudget, python_facts, shell_facts
from shieldwall.codescan.textfacts import dockerfile_facts, pyproject_facts, requirements_facts
from shieldwall.config import Settings
from shieldwall.errors import InputTooLarge, UnsupportedInput

__all__ = ["READERS", "FileReader", "Source", "reader_for", "register_reader"]

MODEL_EXTS = (".onnx", ".pth", ".pt", ".ckpt", ".dfm", ".npy", ".dat", ".pkl", ".pickle",
              ".bin", ".safetensors", ".h5", ".tar")  # fmt: skip
_TEXT_EXTS = (".txt", ".md", ".json", ".yaml", ".yml", ".cfg", ".ini", ".toml", ".js", ".html",
              ".rst", ".csv", ".conf", ".lua")  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One file to read: its display name (``dir/x.py``, ``a.zip!x.py``), its size, and how
    to open it (a fresh binary stream each call)."""

    name: str
    size: int
    open: Callable[[], IO[bytes]]
    depth: int = 0  # archive nesting

    def base(self) -> str:
        """The lower-case file name without folders."""
        return self.name.rsplit("!", 1)[-1].rsplit("/", 1)[-1].lower()

    def read_bytes(self, limit: int, what: str) -> bytes:
        """All bytes, or :class:`InputTooLarge` past ``limit`` (checked on the declared size and
        again on what is read: archives can lie about sizes)."""
        if self.size > limit:
            raise InputTooLarge(
                f"{self.name}: {self.size} bytes is over the {limit}-byte limit for {what}; "
                "only its name and fingerprint were checked"
            )
        with self.open() as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise InputTooLarge(f"{self.name}: over the {limit}-byte limit for {what}")
        return data

    def read_text(self, settings: Settings) -> str:
        """The file as text, within ``codescan_max_file_bytes``; binary content raises
        :class:`UnsupportedInput`."""
        data = self.read_bytes(settings.codescan_max_file_bytes, "text files")
        if b"\x00" in data[:65536]:
            raise UnsupportedInput(f"{self.name}: binary content in a file read as text")
        return data.decode("utf-8", errors="replace")


class FileReader(ABC):
    """Reads one kind of file into facts.

    To add a kind: subclass, set ``kind`` (a short name shown nowhere but in debugging), decide
    in ``claims`` from the name and the first 8 KiB, produce facts in ``read`` with locations
    whose ``path`` is ``source.name``, raise only :class:`~shieldwall.errors.ScanInputError`
    subclasses, and call :func:`register_reader`.
    """

    kind: ClassVar[str]

    @abstractmethod
    def claims(self, source: Source, head: bytes) -> bool:
        """Whether this reader takes the file."""

    @abstractmethod
    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        """The facts in the file."""


class NotebookReader(FileReader):
    """Jupyter notebooks (:mod:`shieldwall.codescan.notebook`)."""

    kind = "notebook"

    def claims(self, source: Source, head: bytes) -> bool:
        return source.base().endswith(".ipynb")

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        return notebook_facts(source.read_text(settings), source.name, budget)


class PythonReader(FileReader):
    """Python source (:mod:`shieldwall.codescan.pyfacts`)."""

    kind = "python"

    def claims(self, source: Source, head: bytes) -> bool:
        return source.base().endswith((".py", ".pyw")) or head.startswith(b"#!/usr/bin/env python")

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        return python_facts(source.read_text(settings), Location(source.name, 1), budget=budget)


class ShellReader(FileReader):
    """Shell scripts and Windows batch files."""

    kind = "shell"

    def claims(self, source: Source, head: bytes) -> bool:
        base = source.base()
        return base.endswith((".sh", ".bash", ".zsh", ".command", ".bat", ".cmd", ".ps1")) or (
            head.startswith(b"#!") and b"sh" in head.split(b"\n", 1)[0]
        )

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        return shell_facts(source.read_text(settings), Location(source.name, 1), budget=budget)


class RequirementsReader(FileReader):
    """``requirements*.txt`` / ``constraints*.txt`` / ``*.in``."""

    kind = "requirements"

    def claims(self, source: Source, head: bytes) -> bool:
        return re.match(r"^(requirements|constraints)[\w.-]*\.(txt|in)$", source.base()) is not None

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        return requirements_facts(source.read_text(settings), Location(source.name, 1))


class PyprojectReader(FileReader):
    """``pyproject.toml``."""

    kind = "pyproject"

    def claims(self, source: Source, head: bytes) -> bool:
        return source.base() == "pyproject.toml"

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        return pyproject_facts(source.read_text(settings), Location(source.name, 1))


class DockerfileReader(FileReader):
    """Dockerfiles and Containerfiles."""

    kind = "dockerfile"

    def claims(self, source: Source, head: bytes) -> bool:
        base = source.base()
        return base.startswith(("dockerfile", "containerfile")) or base.endswith(".dockerfile")

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        text = source.read_text(settings)
        return dockerfile_facts(text, Location(source.name, 1), budget)


class OnnxReader(FileReader):
    """ONNX models: graph structure, never run."""

    kind = "onnx"

    def claims(self, source: Source, head: bytes) -> bool:
        return source.base().endswith(".onnx")

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        data = source.read_bytes(settings.codescan_max_model_bytes, "ONNX models")
        return Facts(onnx_graphs=[(onnx_summary(data, source.name), Location(source.name))])


class PickleReader(FileReader):
    """Pickles (protocol 2+ header), read by opcode, never loaded."""

    kind = "pickle"

    def claims(self, source: Source, head: bytes) -> bool:
        exts = (".dat", ".pkl", ".pickle", ".pt", ".pth")
        return head[:1] == b"\x80" and source.base().endswith(exts)

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        data = source.read_bytes(settings.codescan_max_model_bytes, "pickles")
        strings, complete = pickle_strings(data, source.name)
        facts = Facts(fragments=[Fragment("\n".join(strings), Location(source.name), "pickle")])
        if not complete:
            facts.notes.append(f"{source.name}: pickle truncated or damaged; read in part")
        return facts


class OpaqueReader(FileReader):
    """Model weights and other binaries: nothing to read inside; their name and fingerprint
    are checked by the caller."""

    kind = "opaque"

    def claims(self, source: Source, head: bytes) -> bool:
        return source.base().endswith(MODEL_EXTS) or b"\x00" in head[:8192] or not _is_text(head)

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        return Facts()


class TextReader(FileReader):
    """Any other text (JSON workflows, YAML, Markdown, JavaScript), matched as text."""

    kind = "text"

    def claims(self, source: Source, head: bytes) -> bool:
        return True

    def read(self, source: Source, settings: Settings, budget: DecodeBudget) -> Facts:
        text = source.read_text(settings)
        # Documentation (a README citing the tools a detection project studies) is prose, read
        # only by rules that name the markdown scope, like a notebook's markdown cells.
        kind = "markdown" if source.base().endswith((".md", ".rst", ".markdown")) else "text"
        return Facts(fragments=[Fragment(text, Location(source.name, 1), kind)])


def _is_text(head: bytes) -> bool:
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 4000  # cut in the middle of a character
    return True


READERS: list[FileReader] = [
    NotebookReader(),
    PythonReader(),
    RequirementsReader(),
    PyprojectReader(),
    DockerfileReader(),
    OnnxReader(),
    PickleReader(),
    ShellReader(),
    OpaqueReader(),
    TextReader(),
]


def register_reader(reader: FileReader, *, first: bool = True) -> None:
    """Add a reader; ``first`` puts it before the built-in ones (so it can take their files)."""
    if first:
        READERS.insert(0, reader)
    else:
        READERS.insert(len(READERS) - 1, reader)  # the text reader takes everything: stay last


def reader_for(source: Source, head: bytes) -> FileReader:
    """The first registered reader that claims the file."""
    return next(r for r in READERS if r.claims(source, head))
