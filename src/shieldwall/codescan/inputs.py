"""Reading inputs: directories, files and zip archives, each file dispatched by kind to the
reader that turns it into :class:`~shieldwall.codescan.model.Facts`.

Every limit comes from :class:`~shieldwall.config.Settings` (``codescan_*``): files visited,
bytes parsed as text, archive members, uncompressed archive bytes, compression ratio, archive
nesting, model bytes. Past a limit the input gets an
:class:`~shieldwall.codescan.model.InputError` and the scan goes on with the rest: a zip bomb, a
2 GB file or a corrupt notebook costs a bounded amount of work and never hides the other inputs'
findings. Every scan also has a budget, of time (``codescan_max_scan_seconds``) and of bytes
read (``codescan_max_scan_bytes``): once it is spent, each input not read yet is named with a
``scan_budget_exceeded`` error (a directory's remaining files in one error) and the scan ends
with what it has.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shieldwall.codescan.model import Facts, InputError, Location
from shieldwall.codescan.models import sha256_stream
from shieldwall.codescan.pyfacts import DecodeBudget
from shieldwall.codescan.readers import MODEL_EXTS, OpaqueReader, Source, reader_for
from shieldwall.config import Settings
from shieldwall.errors import CorruptInput, InputTooLarge, ScanBudgetExceeded, ScanInputError

__all__ = ["InputReader", "Unit"]

# Version control, caches and installed third-party packages: installed libraries are not the
# user's code (insightface itself contains a swapper class), and what a job installs is seen in
# its requirements and pip commands, and by the runtime guard when it is imported.
_SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox", "site-packages",
     "dist-packages"}
)  # fmt: skip
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class Unit:
    """What one scanned input (a file, an archive member, a command line) yielded."""

    name: str
    facts: Facts = field(default_factory=Facts)


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
        self._started = time.monotonic()
        self._bytes_read = 0
        self.budget_spent: str | None = None  # why, once the scan's budget is spent

    def _over_budget(self, size: int) -> str | None:
        """Why ``size`` more bytes may not be read now (``None`` when they may)."""
        if self.budget_spent is not None:
            return self.budget_spent
        s = self.settings
        elapsed = time.monotonic() - self._started
        if elapsed >= s.codescan_max_scan_seconds:
            self.budget_spent = (
                f"the scan's time budget of {s.codescan_max_scan_seconds:g} s is spent"
            )
        elif self._bytes_read + size > s.codescan_max_scan_bytes:
            self.budget_spent = (
                f"the scan's budget of {s.codescan_max_scan_bytes} bytes read is spent"
            )
        return self.budget_spent

    def add_path(self, path: Path) -> None:
        """Read a file or a directory tree."""
        if path.is_dir():
            self._walk(path)
        elif path.is_file():
            self._visit_file(path, path.name)
        else:
            self.errors.append(InputError(str(path), "not_found", f"{path}: no such file"))

    def add_text(self, text: str, name: str) -> None:
        """Read text given directly (an upload, a cell), as its ``name`` says."""
        self.add_bytes(text.encode("utf-8"), name)

    def add_bytes(self, data: bytes, name: str) -> None:
        """Read bytes given directly (an uploaded notebook, zip or model), as ``name`` says."""
        self.tree.facts.files.append((name, Location(name)))
        self._guarded(Source(name, len(data), lambda: io.BytesIO(data)))

    def _walk(self, root: Path) -> None:
        top = root.resolve().name or str(root)
        skipped = 0
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
                if self.budget_spent is not None:
                    skipped += 1
                    self._files_seen += 1
                    self.tree.facts.files.append((f"{prefix}/{fname}", Location(str(full))))
                    continue
                self._visit_file(full, f"{prefix}/{fname}")
        if skipped:
            self.errors.append(
                InputError(
                    str(root),
                    ScanBudgetExceeded.code,
                    f"{root}: {skipped} more file(s) not scanned: {self.budget_spent}",
                )
            )

    def _visit_file(self, path: Path, rel: str) -> None:
        self._files_seen += 1
        size = path.stat().st_size
        source = Source(str(path) if rel == path.name else rel, size, lambda: path.open("rb"))
        self.tree.facts.files.append((rel, Location(source.name)))
        self._guarded(source)

    def _guarded(self, source: Source) -> None:
        # What reading it costs: files over every parse limit are only sniffed (8 KiB).
        s = self.settings
        parse_limit = max(s.codescan_max_file_bytes, s.codescan_max_model_bytes)
        cost = source.size if source.size <= parse_limit else 8192
        spent = self._over_budget(cost)
        if spent is not None:
            self.errors.append(
                InputError(
                    source.name, ScanBudgetExceeded.code, f"{source.name}: not scanned: {spent}"
                )
            )
            return
        self._bytes_read += cost
        try:
            self._read(source)
        except ScanInputError as exc:
            self.errors.append(InputError(source.name, exc.code, exc.message))
        except OSError as exc:
            self.errors.append(InputError(source.name, "unreadable", f"{source.name}: {exc}"))

    def _maybe_hash(self, source: Source, unit: Unit, is_model: bool) -> None:
        if source.size in self.known_sizes or (
            is_model
            and self.hash_all_models
            and source.size <= self.settings.codescan_max_model_bytes
        ):
            with source.open() as fh:
                digest, size = sha256_stream(fh)
            unit.facts.hashes.append((digest, size, Location(source.name)))

    def _read(self, source: Source) -> None:
        with source.open() as fh:
            head = fh.read(8192)
        unit = Unit(source.name)
        self.units.append(unit)
        if head.startswith(_ZIP_MAGIC):  # also PyTorch checkpoints: fingerprint, then open
            self._maybe_hash(source, unit, source.base().endswith(MODEL_EXTS))
            self._zip(source)
            return
        reader = reader_for(source, head)
        is_model = source.base().endswith(MODEL_EXTS) or isinstance(reader, OpaqueReader)
        self._maybe_hash(source, unit, is_model)
        unit.facts.extend(reader.read(source, self.settings, self.budget))

    def _zip(self, blob: Source) -> None:
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
                for member in self._members(blob, archive):
                    self._guarded(member)

    def _members(self, blob: Source, archive: zipfile.ZipFile) -> Iterator[Source]:
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
            yield Source(name, info.file_size, _member_opener(archive, info), blob.depth + 1)


def _member_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        return archive.open(info)

    return opener
