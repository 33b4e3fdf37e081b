"""Reading inputs: directories, files and zip archives, each file dispatched by kind to the
reader that turns it into :class:`~shieldwall.codescan.model.Facts`.

Every limit comes from :class:`~shieldwall.config.Settings` (``codescan_*``): files visited,
bytes parsed as text, archive members, uncompressed archive bytes, compression ratio, archive
nesting, model bytes. Past a limit the input gets an :class:`~shieldwall.model.InputError`
and the scan goes on with the rest: a zip bomb, a 2 GB file or a corrupt notebook costs a
bounded amount of work and never hides the other inputs' findings.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shieldwall.codescan.model import Facts, Fragment, InputError, Location
from shieldwall.codescan.models import onnx_summary, pickle_strings, sha256_stream
from shieldwall.codescan.notebook import notebook_facts
from shieldwall.codescan.pyfacts import DecodeBudget, python_facts
from shieldwall.codescan.textfacts import (
    dockerfile_facts,
    pyproject_facts,
    requirements_facts,
    shell_facts,
)
from shieldwall.config import Settings
from shieldwall.errors import CorruptInput, InputTooLarge, ScanInputError, UnsupportedInput

__all__ = ["InputReader", "Unit", "classify"]

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox"})
_MODEL_EXTS = (
    ".onnx",
    ".pth",
    ".pt",
    ".ckpt",
    ".dfm",
    ".npy",
    ".dat",
    ".pkl",
    ".pickle",
    ".bin",
    ".safetensors",
    ".h5",
    ".tar",
)
_TEXT_EXTS = (
    ".txt",
    ".md",
    ".json",
    ".yaml",
    ".yml",
    ".cfg",
    ".ini",
    ".toml",
    ".js",
    ".html",
    ".rst",
    ".csv",
    ".conf",
    ".lua",
)
_SHELL_EXTS = (".sh", ".bash", ".zsh", ".command", ".bat", ".cmd", ".ps1")


def classify(name: str, head: bytes) -> str:
    """The reader for a file, from its name and first bytes."""
    base = name.rsplit("/", 1)[-1]
    lower = base.lower()
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if lower.endswith(".ipynb"):
        return "notebook"
    if lower.endswith((".py", ".pyw")):
        return "python"
    if lower.endswith(_SHELL_EXTS):
        return "shell"
    if lower == "pyproject.toml":
        return "pyproject"
    if re.match(r"^(requirements|constraints)[\w.-]*\.(txt|in)$", lower):
        return "requirements"
    if lower.startswith(("dockerfile", "containerfile")) or lower.endswith(".dockerfile"):
        return "dockerfile"
    if lower.endswith(".onnx"):
        return "onnx"
    if head[:1] == b"\x80" and lower.endswith((".dat", ".pkl", ".pickle", ".pt", ".pth")):
        return "pickle"
    if lower.endswith(_MODEL_EXTS):
        return "model"
    if b"\x00" in head[:8192]:
        return "binary"
    if lower.endswith(_TEXT_EXTS) or "." not in base:
        return "text"
    return "text" if _looks_text(head) else "binary"


def _looks_text(head: bytes) -> bool:
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 4000  # cut in the middle of a character
    return True


@dataclass
class Unit:
    """What one scanned input (a file, an archive member, a command line) yielded."""

    name: str
    facts: Facts = field(default_factory=Facts)


@dataclass
class _Blob:
    name: str  # display path: "dir/x.py" or "a.zip!x.py"
    size: int
    open: Callable[[], IO[bytes]]
    depth: int = 0


class InputReader:
    """Turns paths into units of facts, within the configured limits.

    ``known_sizes`` are the byte sizes of the fingerprints in the rules: only files of those
    sizes are hashed (plus model files when some fingerprint has no size), so a scan never
    hashes gigabytes for nothing.
    """

    def __init__(
        self, settings: Settings, known_sizes: frozenset[int], hash_all_models: bool
    ) -> None:
        self.settings = settings
        self.known_sizes = known_sizes
        self.hash_all_models = hash_all_models
        self.budget = DecodeBudget(settings.codescan_max_decode_depth)
        self.units: list[Unit] = []
        self.errors: list[InputError] = []
        self.tree = Unit("(tree)")
        self._files_seen = 0

    def add_path(self, path: Path) -> None:
        """Read a file or a directory tree."""
        if path.is_dir():
            self._walk(path)
        elif path.is_file():
            self._visit_file(path, path.name)
        else:
            self.errors.append(InputError(str(path), "not_found", f"{path}: no such file"))

    def add_text(self, text: str, name: str, kind: str | None = None) -> None:
        """Read text given directly (an upload, a cell), as ``kind`` or by ``name``."""
        data = text.encode("utf-8")
        blob = _Blob(name, len(data), lambda: io.BytesIO(data))
        self._guarded(blob, kind or classify(name, data[:8192]))

    def _walk(self, root: Path) -> None:
        top = root.resolve().name or str(root)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            prefix = top if rel_dir == "." else f"{top}/{rel_dir}"
            self.tree.facts.dirs.add(prefix)
            for d in dirnames:
                self.tree.facts.dirs.add(f"{prefix}/{d}")
            for fname in sorted(filenames):
                full = Path(dirpath) / fname
                if full.is_symlink() or not full.is_file():
                    continue
                if self._files_seen >= self.settings.codescan_max_files:
                    self.errors.append(
                        InputError(
                            str(root),
                            InputTooLarge.code,
                            f"{root}: more than {self.settings.codescan_max_files} files; "
                            "the rest were not scanned",
                        )
                    )
                    return
                self._visit_file(full, f"{prefix}/{fname}")

    def _visit_file(self, path: Path, rel: str) -> None:
        self._files_seen += 1
        size = path.stat().st_size
        blob = _Blob(str(path) if rel == path.name else rel, size, lambda: path.open("rb"))
        self.tree.facts.files.append((rel, Location(blob.name)))
        with blob.open() as fh:
            head = fh.read(8192)
        self._guarded(blob, classify(path.name, head))

    def _guarded(self, blob: _Blob, kind: str) -> None:
        try:
            self._read(blob, kind)
        except ScanInputError as exc:
            self.errors.append(InputError(blob.name, exc.code, exc.message))
        except OSError as exc:
            self.errors.append(InputError(blob.name, "unreadable", f"{blob.name}: {exc}"))

    def _read_bytes(self, blob: _Blob, limit: int, what: str) -> bytes:
        if blob.size > limit:
            raise InputTooLarge(
                f"{blob.name}: {blob.size} bytes is over the {limit}-byte limit for {what}; "
                "only its name and fingerprint were checked"
            )
        with blob.open() as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:  # archives can lie about sizes
            raise InputTooLarge(f"{blob.name}: over the {limit}-byte limit for {what}")
        return data

    def _text(self, blob: _Blob) -> str:
        data = self._read_bytes(blob, self.settings.codescan_max_file_bytes, "text files")
        if b"\x00" in data[:65536]:
            raise UnsupportedInput(f"{blob.name}: binary content in a file read as text")
        return data.decode("utf-8", errors="replace")

    def _maybe_hash(self, blob: _Blob, unit: Unit, kind: str) -> None:
        is_model = kind in ("onnx", "pickle", "model", "binary") and blob.name.lower().endswith(
            _MODEL_EXTS
        )
        if blob.size in self.known_sizes or (
            is_model
            and self.hash_all_models
            and blob.size <= self.settings.codescan_max_model_bytes
        ):
            with blob.open() as fh:
                digest, size = sha256_stream(fh)
            unit.facts.hashes.append((digest, size, Location(blob.name)))

    def _read(self, blob: _Blob, kind: str) -> None:
        unit = Unit(blob.name)
        self.units.append(unit)
        loc = Location(blob.name, 1)
        facts = unit.facts
        self._maybe_hash(blob, unit, kind)
        if kind == "notebook":
            facts.extend(notebook_facts(self._text(blob), blob.name, self.budget))
        elif kind == "python":
            facts.extend(python_facts(self._text(blob), loc, budget=self.budget))
        elif kind == "shell":
            facts.extend(shell_facts(self._text(blob), loc, budget=self.budget))
        elif kind == "requirements":
            facts.extend(requirements_facts(self._text(blob), loc))
        elif kind == "pyproject":
            facts.extend(pyproject_facts(self._text(blob), loc))
        elif kind == "dockerfile":
            facts.extend(dockerfile_facts(self._text(blob), loc, self.budget))
        elif kind == "text":
            facts.fragments.append(Fragment(self._text(blob), loc, "text"))
        elif kind == "onnx":
            data = self._read_bytes(blob, self.settings.codescan_max_model_bytes, "ONNX models")
            facts.onnx_graphs.append((onnx_summary(data, blob.name), Location(blob.name)))
        elif kind == "pickle":
            data = self._read_bytes(blob, self.settings.codescan_max_model_bytes, "pickles")
            strings, complete = pickle_strings(data, blob.name)
            facts.fragments.append(Fragment("\n".join(strings), Location(blob.name), "pickle"))
            if not complete:
                facts.notes.append(f"{blob.name}: pickle truncated or damaged; read in part")
        elif kind == "zip":
            self._zip(blob)

    def _zip(self, blob: _Blob) -> None:
        s = self.settings
        if blob.depth >= s.codescan_max_archive_depth:
            raise InputTooLarge(f"{blob.name}: archive nested deeper than {blob.depth} levels")
        with blob.open() as raw:
            # Seeking inside a compressed member is slow: read nested archives into memory
            # (their size is already bounded by the archive limits).
            stream = raw if blob.depth == 0 else io.BytesIO(raw.read(blob.size + 1))
            try:
                archive = zipfile.ZipFile(stream)
            except (zipfile.BadZipFile, ValueError) as exc:
                raise CorruptInput(f"{blob.name}: not a readable zip archive: {exc}") from exc
            with archive:
                for blob_m in self._members(blob, archive):
                    with blob_m.open() as fh:
                        head = fh.read(8192)
                    self._guarded(blob_m, classify(blob_m.name, head))

    def _members(self, blob: _Blob, archive: zipfile.ZipFile) -> Iterator[_Blob]:
        s = self.settings
        total = 0
        infos = archive.infolist()
        if len(infos) > s.codescan_max_archive_members:
            self.errors.append(
                InputError(
                    blob.name,
                    InputTooLarge.code,
                    f"{blob.name}: {len(infos)} members, over the limit of "
                    f"{s.codescan_max_archive_members}; only the first ones were scanned",
                )
            )
            infos = infos[: s.codescan_max_archive_members]
        for info in infos:
            name = f"{blob.name}!{info.filename}"
            parts = info.filename.rstrip("/").split("/")
            for i in range(1, len(parts) + (0 if not info.is_dir() else 1)):
                self.tree.facts.dirs.add(f"{blob.name}!" + "/".join(parts[:i]))
            if info.is_dir():
                continue
            self.tree.facts.files.append((info.filename, Location(name)))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > s.codescan_max_compression_ratio:
                self.errors.append(
                    InputError(
                        name,
                        InputTooLarge.code,
                        f"{name}: compression ratio {ratio:.0f}:1 is over the limit of "
                        f"{s.codescan_max_compression_ratio}:1 (zip bomb?); not extracted",
                    )
                )
                continue
            total += info.file_size
            if total > s.codescan_max_archive_bytes:
                self.errors.append(
                    InputError(
                        blob.name,
                        InputTooLarge.code,
                        f"{blob.name}: over {s.codescan_max_archive_bytes} uncompressed bytes; "
                        "the remaining members were not scanned",
                    )
                )
                return
            yield _Blob(name, info.file_size, _member_opener(archive, info), blob.depth + 1)


def _member_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        return archive.open(info)

    return opener
