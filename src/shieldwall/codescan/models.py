"""Model files, read without running them: SHA-256 fingerprints (streamed), ONNX graph
structure (parsed with ``onnx``, never executed), and pickle opcodes (walked with
``pickletools``, never unpickled: unpickling runs arbitrary code)."""

from __future__ import annotations

import hashlib
import io
import pickletools
from typing import IO

from shieldwall.codescan.model import OnnxSummary
from shieldwall.errors import CorruptInput

__all__ = ["onnx_summary", "pickle_strings", "sha256_stream"]

_CHUNK = 1024 * 1024
_MAX_PICKLE_OPS = 2_000_000


def sha256_stream(stream: IO[bytes], limit: int | None = None) -> tuple[str, int]:
    """SHA-256 (hex) and byte count of a stream, read in 1 MiB chunks (a 2 GB file never
    sits in memory). Stops after ``limit`` bytes when given."""
    digest = hashlib.sha256()
    total = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        total += len(chunk)
        if limit is not None and total > limit:
            break
    return digest.hexdigest(), total


def onnx_summary(data: bytes, name: str) -> OnnxSummary:
    """Input shapes and initializer shapes of an ONNX model given as bytes.

    Raises :class:`CorruptInput` when the bytes are not an ONNX model.
    """
    import onnx  # noqa: PLC0415 - imported here: only model scans pay for its import time

    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf raises its own DecodeError and friends
        raise CorruptInput(f"{name}: not a readable ONNX model: {exc}") from exc
    graph = model.graph
    if not graph.node and not graph.input:
        raise CorruptInput(f"{name}: not a readable ONNX model: empty graph")
    init_names = {t.name for t in graph.initializer}
    inputs: list[tuple[int | None, ...]] = []
    for value in graph.input:
        if value.name in init_names:  # old exporters list weights as inputs too
            continue
        dims = value.type.tensor_type.shape.dim
        inputs.append(tuple(d.dim_value if d.HasField("dim_value") else None for d in dims))
    initializers = tuple((t.name, tuple(int(x) for x in t.dims)) for t in graph.initializer)
    ops = frozenset(n.op_type for n in graph.node)
    return OnnxSummary(tuple(inputs), initializers, ops)


def pickle_strings(data: bytes, name: str) -> tuple[list[str], bool]:
    """The strings and global names a pickle would use, read opcode by opcode.

    Returns the strings and whether the pickle was complete. A truncated or damaged pickle
    yields what was read before the damage; bytes that are not a pickle at all raise
    :class:`CorruptInput`.
    """
    out: list[str] = []
    complete = True
    try:
        for count, (opcode, arg, _) in enumerate(pickletools.genops(io.BytesIO(data))):
            if count > _MAX_PICKLE_OPS:
                complete = False
                break
            if opcode.name in ("GLOBAL", "INST") and isinstance(arg, str):
                out.append(arg.replace(" ", "."))
            elif isinstance(arg, str) and opcode.name.endswith("UNICODE"):
                if len(arg) < 4096:
                    out.append(arg)
            elif isinstance(arg, bytes) and opcode.name.startswith(
                ("SHORT_BINSTRING", "BINSTRING")
            ):
                out.append(arg.decode("latin-1")[:4096])
    except (ValueError, EOFError, UnicodeDecodeError) as exc:
        if not out:
            raise CorruptInput(f"{name}: not a readable pickle: {exc}") from exc
        complete = False
    return out, complete
