"""Snapshot files of a :class:`~shieldwall.index.signal_index.SignalIndex` (format version 3;
versions 1 and 2 still load).

The format is documented in ``docs/index.md``; in short::

    offset  size  content
    0       8     magic  b"\\x89SWIDX\\r\\n"
    8       4     format version, uint32 little-endian (3; 1 and 2 are read too)
    12      4     header length H, uint32 little-endian
    16      H     header: UTF-8 JSON (seq, the Hamming types with their segment parameters,
                  the exact types, section table, file size)
    16+H    4     CRC-32 (zlib) of bytes 0 .. 16+H, uint32 little-endian
    ...           sections: raw little-endian arrays, each at a 64-byte aligned offset given in
                  the header's section table with its dtype, shape, size and CRC-32

No pickle: every byte is either JSON or a plain array. Loading checks the magic, the version,
the header checksum, the file size and every section's checksum, and raises
:class:`~shieldwall.errors.SnapshotError` on any mismatch.

With at-rest keys (``keyring``), the whole file is sealed (:mod:`shieldwall.store.sealing`:
AES-256-GCM in chunks, the key id in its header); reading opens it in memory first, and reads
a plain snapshot as before (written before sealing was turned on).
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from shieldwall.errors import SealError, SnapshotError
from shieldwall.index import _kernels
from shieldwall.index.segment import (
    MAX_DIR_SHIFT,
    MIN_DIR_SHIFT,
    Segment,
    unpack_dirs,
)
from shieldwall.store.sealing import Keyring, SealedWriter, is_sealed_file, open_sealed

__all__ = ["FORMAT_VERSION", "MAGIC", "HammingPart", "SnapshotContent", "read", "write"]

MAGIC = b"\x89SWIDX\r\n"
FORMAT_VERSION = 3
#: Versions :func:`read` accepts. Version 1 segments (eight entry tables, rows in insertion
#: order) are rebuilt on load from their codes, ids and removal bitmaps. Versions 1 and 2
#: hold one Hamming type (``pdq``) and two exact ones (``md5``, ``sha256``); version 3 names
#: the types it holds.
READABLE_VERSIONS = (1, 2, 3)
_V2_EXACT = ("md5", "sha256")
_PREAMBLE = struct.Struct("<8sII")
_CRC = struct.Struct("<I")
_ALIGN = 64
_DTYPES = {"<u8", "<u4", "<u2", "<i8", "|u1"}


Array = npt.NDArray[Any]


#: A Hamming index's state as :meth:`HammingIndex.state` gives it: each segment with its
#: removal bitmap, then the delta's ids and codes.
HammingState = tuple[list[tuple[Segment, Any]], npt.NDArray[np.int64], npt.NDArray[np.uint64]]
ExactState = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]


@dataclass
class HammingPart:
    """One Hamming type's segments and delta, as a snapshot holds them."""

    segments: list[Segment]
    delta_ids: npt.NDArray[np.int64]
    delta_codes: npt.NDArray[np.uint64]


@dataclass
class SnapshotContent:
    """What a snapshot holds, ready to be put back into a
    :class:`~shieldwall.index.signal_index.SignalIndex`."""

    seq: int
    #: The format version the file was written in.
    version: int
    hamming: dict[str, HammingPart]
    exact: dict[str, ExactState]


def _bytes(array: Array) -> memoryview:
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8).data


def _crc(array: Array) -> int:
    return zlib.crc32(_bytes(array))


def _sections(
    seq: int, hamming: dict[str, HammingState], exact: dict[str, ExactState]
) -> tuple[dict[str, Any], dict[str, Array]]:
    arrays: dict[str, Array] = {}
    hamming_meta: dict[str, Any] = {}
    for name, (segs, delta_ids, delta_codes) in sorted(hamming.items()):
        segments = []
        for k, (seg, dead) in enumerate(segs):
            segments.append(
                {
                    "rows": len(seg),
                    "b": seg.b,
                    "rowbits": seg.rowbits,
                    "fbits": seg.fbits,
                    "id_base": seg.id_base,
                    "dir_shift": seg.dir_shift,
                }
            )
            arrays[f"{name}/{k}/codes"] = seg.codes
            arrays[f"{name}/{k}/ids"] = seg.id_data
            arrays[f"{name}/{k}/dirs"] = seg.dirs
            arrays[f"{name}/{k}/dir_base"] = seg.dir_base
            arrays[f"{name}/{k}/dir_over"] = seg.dir_over
            arrays[f"{name}/{k}/entries"] = seg.entries
            arrays[f"{name}/{k}/dead"] = dead
        arrays[f"{name}/delta/ids"] = delta_ids
        arrays[f"{name}/delta/codes"] = delta_codes
        hamming_meta[name] = {"segments": segments}
    for name, (ids, digests) in sorted(exact.items()):
        arrays[f"{name}/ids"] = ids
        arrays[f"{name}/digests"] = digests
    meta = {"seq": seq, "hamming": hamming_meta, "exact": sorted(exact)}
    return meta, arrays


def write(
    path: Path,
    *,
    seq: int,
    hamming: dict[str, HammingState],
    exact: dict[str, ExactState],
    keyring: Keyring | None = None,
) -> None:
    """Write an index's parts to ``path`` atomically (a temporary file, fsync, then rename):
    the log ``seq`` it reflects, each Hamming type's state and each exact type's entries;
    sealed with the current key of ``keyring`` when given."""
    meta, arrays = _sections(seq, hamming, exact)
    table: list[dict[str, Any]] = []
    for name, arr in arrays.items():
        le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        arrays[name] = np.ascontiguousarray(le)
        table.append(
            {
                "name": name,
                "dtype": le.dtype.str,
                "shape": list(le.shape),
                "nbytes": int(le.nbytes),
                "crc32": _crc(le),
            }
        )
    header: dict[str, Any] = {
        "format": "shieldwall-index",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "sections": table,
        "file_bytes": 0,
    }
    # Offsets depend on the header's length, which depends on the offsets: fix the point.
    for _ in range(4):
        raw = json.dumps(header, sort_keys=True).encode()
        offset = _align(_PREAMBLE.size + len(raw) + _CRC.size)
        for entry in table:
            entry["offset"] = offset
            offset = _align(offset + entry["nbytes"])
        header["file_bytes"] = offset
    raw = json.dumps(header, sort_keys=True).encode()
    if table and _align(_PREAMBLE.size + len(raw) + _CRC.size) != table[0]["offset"]:
        raise SnapshotError("internal error: snapshot header did not settle")  # pragma: no cover
    # A temporary file of this writer's own: several processes (``serve --workers N``) may
    # save the same snapshot at once, and two writers sharing one temporary name interleave
    # their bytes into a corrupt file that each then renames into place.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            f: BinaryIO | SealedWriter = out if keyring is None else SealedWriter(out, keyring)
            head = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(raw)) + raw
            f.write(head + _CRC.pack(zlib.crc32(head)))
            for entry in table:
                _pad_to(f, entry["offset"])
                f.write(_bytes(arrays[entry["name"]]))
            _pad_to(f, header["file_bytes"])
            if isinstance(f, SealedWriter):
                f.close()  # seals the last chunk; the file itself is closed by the block
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read(path: Path, keyring: Keyring | None = None) -> SnapshotContent:
    """Load a snapshot written by :func:`write` (any supported format version), sealed (with a
    key of ``keyring``) or not."""
    try:
        with path.open("rb") as raw:
            f: io.BufferedIOBase = raw
            size = os.fstat(raw.fileno()).st_size
            if is_sealed_file(raw.read(8)):
                raw.seek(0)
                try:
                    f = io.BytesIO(b"".join(open_sealed(raw, keyring, f"index snapshot {path}")))
                except SealError as exc:
                    raise SnapshotError(exc.message) from exc
                size = len(f.getbuffer())
            else:
                raw.seek(0)
            header = _read_header(f, path, size)
            arrays = {}
            for entry in header["sections"]:
                _expect_zero_padding(f, path, entry["offset"])
                arrays[entry["name"]] = _read_section(f, path, size, entry)
            _expect_zero_padding(f, path, size)
    except OSError as exc:
        raise SnapshotError(f"cannot read index snapshot {path}: {exc}") from exc
    try:
        version = int(header["version"])
        load = _segment_v1 if version == 1 else _segment
        if version < 3:  # one Hamming type and two exact ones, not named in the header
            hamming_meta, exact_names = {"pdq": header["pdq"]}, list(_V2_EXACT)
        else:
            hamming_meta, exact_names = header["hamming"], list(header["exact"])
        hamming = {}
        for name, part in hamming_meta.items():
            segments = [load(arrays, name, k, p) for k, p in enumerate(part["segments"])]
            delta_ids, delta_codes = arrays[f"{name}/delta/ids"], arrays[f"{name}/delta/codes"]
            if delta_codes.shape != (delta_ids.shape[0], 4):
                raise ValueError(f"{name} delta ids and codes disagree")
            hamming[str(name)] = HammingPart(segments, delta_ids, delta_codes)
        exact = {}
        for name in exact_names:
            ids, digests = arrays[f"{name}/ids"], arrays[f"{name}/digests"]
            if digests.ndim != 2 or digests.shape[0] != ids.shape[0]:
                raise ValueError(f"{name} ids and digests disagree")
            exact[str(name)] = (ids, digests)
        return SnapshotContent(int(header["seq"]), version, hamming, exact)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"index snapshot {path} is inconsistent: {exc!r}") from exc


def _read_header(f: io.BufferedIOBase, path: Path, size: int) -> dict[str, Any]:
    pre = f.read(_PREAMBLE.size)
    if len(pre) < _PREAMBLE.size:
        raise SnapshotError(f"{path} is truncated: no snapshot header")
    magic, version, length = _PREAMBLE.unpack(pre)
    if magic != MAGIC:
        raise SnapshotError(f"{path} is not a Shieldwall index snapshot")
    if version not in READABLE_VERSIONS:
        raise SnapshotError(
            f"{path} has snapshot format version {version}; this Shieldwall reads "
            f"versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    if _PREAMBLE.size + length + _CRC.size > size:
        raise SnapshotError(f"{path} is truncated inside its header")
    raw = f.read(length)
    (crc,) = _CRC.unpack(f.read(_CRC.size))
    if zlib.crc32(pre + raw) != crc:
        raise SnapshotError(f"{path} is corrupt: header checksum mismatch")
    try:
        header: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise SnapshotError(f"{path} is corrupt: header is not JSON") from exc
    if header.get("file_bytes") != size:
        raise SnapshotError(
            f"{path} is truncated or padded: {size} bytes, expected {header.get('file_bytes')}"
        )
    header["version"] = version
    return header


def _read_section(f: io.BufferedIOBase, path: Path, size: int, entry: dict[str, Any]) -> Array:
    name, dtype, shape = entry["name"], entry["dtype"], tuple(entry["shape"])
    if dtype not in _DTYPES:
        raise SnapshotError(f"{path}: section {name} has unsupported dtype {dtype}")
    arr = np.empty(shape, np.dtype(dtype))
    if arr.nbytes != entry["nbytes"] or entry["offset"] + arr.nbytes > size:
        raise SnapshotError(f"{path}: section {name} does not fit the file")
    f.seek(entry["offset"])
    if f.readinto(_bytes(arr)) != arr.nbytes:
        raise SnapshotError(f"{path} is truncated in section {name}")
    if _crc(arr) != entry["crc32"]:
        raise SnapshotError(f"{path} is corrupt: checksum mismatch in section {name}")
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _segment(arrays: dict[str, Array], name: str, k: int, p: dict[str, Any]) -> Segment:
    """A version-2 or -3 segment of the Hamming type ``name``, checked so that the compiled
    search never reads out of bounds."""
    n, b, rowbits, fbits = int(p["rows"]), int(p["b"]), int(p["rowbits"]), int(p["fbits"])
    id_base, dir_shift = int(p["id_base"]), int(p["dir_shift"])
    codes, ids = arrays[f"{name}/{k}/codes"], arrays[f"{name}/{k}/ids"]
    dirs, dir_base, dir_over, entries, dead = (
        arrays[f"{name}/{k}/{x}"] for x in ("dirs", "dir_base", "dir_over", "entries", "dead")
    )
    tables = _kernels.TABLES
    packed_ids = ids.shape == (n, 3) and ids.dtype == np.dtype(np.uint8)
    wide_ids = ids.shape == (n,) and ids.dtype in (np.dtype(np.uint32), np.dtype(np.int64))
    ok = (
        codes.shape == (n, 4)
        and (packed_ids or wide_ids)
        and -(1 << 63) <= id_base <= (1 << 63) - (1 << 32)
        and 1 <= b <= 24
        and MIN_DIR_SHIFT <= dir_shift <= MAX_DIR_SHIFT
        and dirs.shape == (tables, (1 << b) + 1)
        and dirs.dtype == np.dtype(np.uint16)
        and dir_base.shape == (tables, ((1 << b) >> dir_shift) + 1)
        and dir_base.dtype == np.dtype(np.uint32)
        and dir_over.ndim == 1
        and dir_over.dtype == np.dtype(np.uint32)
        and entries.shape == (tables - 1, n)
        and dead.shape == ((n + 63) // 64,)
        and rowbits >= 1
        and fbits >= 0
        and rowbits + fbits <= 32
        and b + fbits <= 32
        and (n == 0 or n - 1 < (1 << rowbits))
    )
    if not ok:
        raise ValueError(f"{name} segment {k} has inconsistent shapes or parameters")
    # The compiled search does not check bounds: never hand it a table that points outside.
    starts = unpack_dirs(dirs, dir_base, dir_over, dir_shift)
    ok = bool((starts[:, 0] == 0).all() and (starts[:, -1] == n).all())
    ok = ok and bool((np.diff(starts, axis=1) >= 0).all())
    ok = ok and bool(((entries & np.uint32((1 << rowbits) - 1)) < n).all())
    # Table 0 is the row order itself: rows sorted by substring 0, buckets where the key changes.
    key0 = codes[:, 0] >> np.uint64(64 - b)
    ok = ok and bool((np.diff(key0.astype(np.int64)) >= 0).all())
    ok = ok and bool((np.searchsorted(key0, np.arange((1 << b) + 1)) == starts[0]).all())
    if not ok:
        raise ValueError(f"{name} segment {k} has tables that do not fit its rows")
    n_dead = int(np.bitwise_count(dead).sum())
    return Segment(
        codes,
        ids,
        id_base,
        b,
        rowbits,
        fbits,
        dirs,
        dir_base,
        dir_over,
        dir_shift,
        entries,
        dead,
        n_dead,
    )


def _segment_v1(arrays: dict[str, Array], name: str, k: int, p: dict[str, Any]) -> Segment:
    """A version-1 segment, rebuilt from its live rows (its tables are in the old layout)."""
    n = int(p["rows"])
    codes, ids, dead = (arrays[f"{name}/{k}/{x}"] for x in ("codes", "ids", "dead"))
    if not (
        codes.shape == (n, 4)
        and ids.shape == (n,)
        and ids.dtype in (np.dtype(np.uint32), np.dtype(np.int64))
        and dead.shape == ((n + 63) // 64,)
    ):
        raise ValueError(f"{name} segment {k} has inconsistent shapes")
    bits = np.unpackbits(dead.view(np.uint8), bitorder="little")[:n]
    live = np.flatnonzero(bits == 0)
    return Segment.build(codes[live], ids[live].astype(np.int64))


def _expect_zero_padding(f: io.BufferedIOBase, path: Path, until: int) -> None:
    """The alignment padding up to ``until`` must be zeros: no byte of the file goes unchecked."""
    gap = until - f.tell()
    if gap < 0 or gap > _ALIGN or f.read(gap) != b"\0" * gap:
        raise SnapshotError(f"{path} is corrupt: damaged padding before byte {until}")


def _align(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _pad_to(f: BinaryIO | SealedWriter, offset: int) -> None:
    gap = offset - f.tell()
    if gap:
        f.write(b"\0" * gap)
