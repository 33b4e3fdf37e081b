"""Undo obfuscation without running anything: constant folding over Python's syntax tree, and
guessing decoders for encoded-looking string literals.

:class:`Folder` evaluates the small, side-effect-free subset of Python that obfuscators use:
string and bytes concatenation, f-strings, ``"".join``, ``chr`` lists and comprehensions,
slicing (``[::-1]``), ``base64``/``binascii``/``codecs`` decoders (base64, base32, base16, base85,
hex, uu, rot13, zlib with an output cap), ``bytes.fromhex``, ``getattr(__import__(...), ...)``
indirection and one-expression helper functions. Every step that changed the text is recorded
as a *layer*, so a finding can show how its evidence was decoded. Nothing here calls ``eval`` or
imports what the code names.

Lone literals whose decoder is hidden elsewhere are handled by :mod:`shieldwall.codescan.guess`.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import zlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Folded", "Folder", "FuncRef", "uu_decode"]

_MAX_ITEMS = 200_000  # longest list/string a fold may build: bounds time and memory
_MAX_INFLATE = 8 * 1024 * 1024


@dataclass(frozen=True)
class FuncRef:
    """A module or function named by a dotted path (``base64.b64decode``)."""

    name: str


@dataclass(frozen=True)
class _Method:
    obj: str | bytes
    name: str


@dataclass(frozen=True)
class _UserFunc:
    params: tuple[str, ...]
    body: ast.expr


@dataclass(frozen=True)
class Folded:
    """A value known without running the code, and the decoding layers that produced it."""

    value: object
    layers: tuple[str, ...] = ()

    @property
    def text(self) -> str | None:
        """The value as text when it is a string (or UTF-8 bytes), else ``None``."""
        if isinstance(self.value, str):
            return self.value
        if isinstance(self.value, bytes | bytearray):
            try:
                return bytes(self.value).decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def _as_bytes(v: object) -> bytes:
    if isinstance(v, str):
        return v.encode("latin-1", "ignore")
    if isinstance(v, bytes | bytearray):
        return bytes(v)
    raise TypeError


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj(47)  # auto-detect zlib or gzip header
    out = d.decompress(data, _MAX_INFLATE)
    return out


def uu_decode(v: object) -> bytes:
    """Decode uuencoded lines (a ``begin`` header, if any, must be removed first)."""
    return b"".join(binascii.a2b_uu(line) for line in _as_bytes(v).splitlines() if line.strip())


def _rot13(v: object) -> str:
    text = v.decode("latin-1") if isinstance(v, bytes | bytearray) else str(v)
    return codecs.decode(text, "rot13")


# Decoder functions by dotted name: (implementation, layer name).
_DECODERS: dict[str, tuple[Callable[[object], object], str]] = {
    "base64.b64decode": (lambda v: base64.b64decode(_as_bytes(v) + b"=="), "base64"),
    "base64.standard_b64decode": (lambda v: base64.b64decode(_as_bytes(v) + b"=="), "base64"),
    "base64.urlsafe_b64decode": (
        lambda v: base64.urlsafe_b64decode(_as_bytes(v) + b"=="),
        "base64",
    ),
    "base64.decodebytes": (lambda v: base64.decodebytes(_as_bytes(v)), "base64"),
    "base64.b32decode": (lambda v: base64.b32decode(_as_bytes(v)), "base32"),
    "base64.b16decode": (lambda v: base64.b16decode(_as_bytes(v), casefold=True), "hex"),
    "base64.b85decode": (lambda v: base64.b85decode(_as_bytes(v)), "base85"),
    "base64.a85decode": (lambda v: base64.a85decode(_as_bytes(v)), "ascii85"),
    "binascii.unhexlify": (lambda v: binascii.unhexlify(_as_bytes(v)), "hex"),
    "binascii.a2b_hex": (lambda v: binascii.a2b_hex(_as_bytes(v)), "hex"),
    "binascii.a2b_base64": (lambda v: binascii.a2b_base64(_as_bytes(v)), "base64"),
    "binascii.a2b_uu": (uu_decode, "uu"),
    "bytes.fromhex": (lambda v: bytes.fromhex(str(v)), "hex"),
    "bytearray.fromhex": (lambda v: bytes.fromhex(str(v)), "hex"),
    "zlib.decompress": (lambda v: _inflate(_as_bytes(v)), "zlib"),
    "gzip.decompress": (lambda v: _inflate(_as_bytes(v)), "gzip"),
}

_CODEC_LAYERS: dict[str, tuple[Callable[[object], object], str]] = {
    "rot13": (_rot13, "rot13"),
    "rot_13": (_rot13, "rot13"),
    "base64": (lambda v: base64.b64decode(_as_bytes(v) + b"=="), "base64"),
    "hex": (lambda v: binascii.unhexlify(_as_bytes(v)), "hex"),
    "uu": (uu_decode, "uu"),
    "zlib": (lambda v: _inflate(_as_bytes(v)), "zlib"),
}

_BUILTINS = frozenset(
    {
        "chr",
        "ord",
        "str",
        "bytes",
        "bytearray",
        "reversed",
        "list",
        "tuple",
        "getattr",
        "__import__",
        "exec",
        "eval",
        "compile",
        "int",
        "range",
        "len",
        "map",
    }
)

_STR_METHODS = frozenset(
    {
        "join",
        "decode",
        "encode",
        "replace",
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "swapcase",
        "casefold",
        "removeprefix",
        "removesuffix",
    }
)


class Folder:
    """Evaluates constant expressions in one module's scope.

    ``env`` maps names to what they are known to hold (values, modules, functions). The
    visitor in :mod:`shieldwall.codescan.pyfacts` feeds assignments and imports into it while
    walking the tree in order, which is enough for straight-line obfuscation code.
    """

    def __init__(self) -> None:
        self.env: dict[str, Folded] = {}

    def bind(self, name: str, value: Folded | None) -> None:
        """Record (or forget, with ``None``) what ``name`` holds."""
        if value is None:
            self.env.pop(name, None)
        else:
            self.env[name] = value

    def define(self, name: str, params: tuple[str, ...], body: ast.expr) -> None:
        """Record a one-expression helper function, to inline calls to it."""
        self.env[name] = Folded(_UserFunc(params, body))

    def callee_name(self, node: ast.expr) -> str | None:
        """The dotted name a call target resolves to (``b64decode`` -> ``base64.b64decode``),
        or its source text for receivers that cannot be resolved (``swapper.get``)."""
        folded = self.fold(node)
        if folded is not None and isinstance(folded.value, FuncRef):
            return folded.value.name
        if isinstance(node, ast.Attribute):
            base = self.callee_name(node.value)
            return f"{base}.{node.attr}" if base else node.attr
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Call):
            inner = self.callee_name(node.func)
            return f"{inner}()" if inner else None
        return None

    def fold(self, node: ast.AST, _depth: int = 0) -> Folded | None:
        """The value of ``node`` if it is a constant expression, else ``None``."""
        if _depth > 60:  # deeply nested expressions: give up rather than recurse forever
            return None
        try:
            return self._fold(node, _depth + 1)
        except Exception:
            # Folding applies decoders and string methods to whatever constants a program holds
            # (unknown codecs, bad padding, huge ints...): any failure means "not a constant we
            # can know", never a failed scan. Found on the standard library's own tests.
            return None

    def _fold(self, node: ast.AST, d: int) -> Folded | None:
        f = self.fold
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str | bytes | int) and not isinstance(node.value, bool):
                return Folded(node.value)
            return None
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in _BUILTINS:
                return Folded(FuncRef(node.id))
            return None
        if isinstance(node, ast.Attribute):
            base = f(node.value, d)
            if base is None:
                return None
            if isinstance(base.value, FuncRef):
                return Folded(FuncRef(f"{base.value.name}.{node.attr}"), base.layers)
            if isinstance(base.value, str | bytes) and node.attr in _STR_METHODS:
                return Folded(_Method(base.value, node.attr), base.layers)
            return None
        if isinstance(node, ast.BinOp):
            left, right = f(node.left, d), f(node.right, d)
            if left is None or right is None:
                return None
            lv, rv = left.value, right.value
            layers = _merge(left.layers, right.layers)
            if (
                isinstance(node.op, ast.Add)
                and type(lv) is type(rv)
                and isinstance(lv, str | bytes | list | int)
            ):
                out = lv + rv  # type: ignore[operator]
                if isinstance(out, str | bytes | list) and len(out) > _MAX_ITEMS:
                    return None
                return Folded(out, layers if isinstance(lv, int) else (*layers, "concat"))
            if (
                isinstance(node.op, ast.Mult)
                and isinstance(lv, str | bytes)
                and isinstance(rv, int)
            ):
                if len(lv) * rv > _MAX_ITEMS:
                    return None
                return Folded(lv * rv, layers)
            if isinstance(lv, int) and isinstance(rv, int) and abs(lv) < 2**32 > abs(rv):
                ops: dict[type[ast.operator], Callable[[int, int], int]] = {
                    ast.Sub: lambda a, b: a - b,
                    ast.BitXor: lambda a, b: a ^ b,
                    ast.Mult: lambda a, b: a * b,
                }
                op = ops.get(type(node.op))
                return Folded(op(lv, rv), layers) if op else None
            return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = f(node.operand, d)
            if inner is not None and isinstance(inner.value, int):
                return Folded(-inner.value, inner.layers)
            return None
        if isinstance(node, ast.JoinedStr):
            return self._fold_fstring(node, d)
        if isinstance(node, ast.List | ast.Tuple):
            if len(node.elts) > _MAX_ITEMS:
                return None
            items = [f(e, d) for e in node.elts]
            if any(i is None for i in items):
                return None
            return Folded([i.value for i in items if i], _merge(*(i.layers for i in items if i)))
        if isinstance(node, ast.Subscript):
            base = f(node.value, d)
            if base is None or not isinstance(base.value, str | bytes | list):
                return None
            if isinstance(node.slice, ast.Slice):
                bounds: list[int | None] = []
                for part in (node.slice.lower, node.slice.upper, node.slice.step):
                    got = None if part is None else f(part, d)
                    if got is None:
                        if part is not None:
                            return None  # an unknown bound: the slice cannot be known
                        bounds.append(None)
                    elif isinstance(got.value, int):
                        bounds.append(got.value)
                    else:
                        return None
                sl = slice(*bounds)
                layer = "reverse" if bounds == [None, None, -1] else "slice"
                return Folded(base.value[sl], (*base.layers, layer))
            idx = f(node.slice, d)
            if idx is not None and isinstance(idx.value, int):
                return Folded(base.value[idx.value], base.layers)
            return None
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return self._fold_comprehension(node, d)
        if isinstance(node, ast.Call):
            return self._fold_call(node, d)
        return None

    def _fold_fstring(self, node: ast.JoinedStr, d: int) -> Folded | None:
        parts: list[str] = []
        layers: tuple[str, ...] = ()
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            got = self.fold(inner, d)
            if got is None or not isinstance(got.value, str | int):
                return None
            parts.append(str(got.value))
            layers = _merge(layers, got.layers)
        return Folded("".join(parts), (*layers, "f-string") if len(parts) > 1 else layers)

    def _fold_comprehension(self, node: ast.ListComp | ast.GeneratorExp, d: int) -> Folded | None:
        if len(node.generators) != 1:
            return None
        gen = node.generators[0]
        if not isinstance(gen.target, ast.Name) or gen.is_async:
            return None
        source = self.fold(gen.iter, d)
        if source is None or not isinstance(source.value, str | bytes | list | range):
            return None
        if len(source.value) > _MAX_ITEMS:
            return None
        saved = self.env.get(gen.target.id)
        out: list[object] = []
        layers = source.layers
        try:
            for item in source.value:
                self.env[gen.target.id] = Folded(item)
                if not all(
                    (c := self.fold(cond, d)) is not None and bool(c.value) for cond in gen.ifs
                ):
                    continue
                got = self.fold(node.elt, d)
                if got is None:
                    return None
                out.append(got.value)
                layers = _merge(layers, got.layers)
        finally:
            self.bind(gen.target.id, saved)
        return Folded(out, layers)

    def _fold_call(self, node: ast.Call, d: int) -> Folded | None:
        callee = self.fold(node.func, d)
        if callee is None or (node.keywords and not isinstance(callee.value, FuncRef)):
            return None
        args = [self.fold(a, d) for a in node.args]
        if any(a is None or isinstance(a, ast.Starred) for a in args):
            return None
        vals = [a.value for a in args if a]
        layers = _merge(callee.layers, *(a.layers for a in args if a))
        target = callee.value
        if isinstance(target, _UserFunc):
            if len(vals) != len(target.params):
                return None
            saved = {p: self.env.get(p) for p in target.params}
            try:
                for p, a in zip(target.params, args, strict=True):
                    self.bind(p, a)
                got = self.fold(target.body, d)
            finally:
                for p, v in saved.items():
                    self.bind(p, v)
            return None if got is None else Folded(got.value, _merge(layers, got.layers))
        if isinstance(target, _Method):
            return _apply_method(target, vals, layers)
        if not isinstance(target, FuncRef):
            return None
        name = target.name.removeprefix("builtins.")
        kw = {k.arg: self.fold(k.value, d) for k in node.keywords if k.arg}
        if name in _DECODERS:
            fn, layer = _DECODERS[name]
            return Folded(fn(vals[0]), (*layers, layer)) if vals else None
        if name in ("codecs.decode", "codecs.encode") and vals:
            enc = vals[1] if len(vals) > 1 else (kw.get("encoding") or Folded("utf-8")).value
            key = str(enc).lower().replace("-", "_")
            if key in _CODEC_LAYERS:
                fn, layer = _CODEC_LAYERS[key]
                return Folded(fn(vals[0]), (*layers, layer))
            if isinstance(vals[0], bytes) and name == "codecs.decode":
                return Folded(vals[0].decode(key), layers)
            return None
        if name in ("__import__", "importlib.import_module") and vals:
            return Folded(FuncRef(str(vals[0])), layers)
        if name == "getattr" and len(vals) >= 2 and isinstance(vals[0], FuncRef):
            return Folded(FuncRef(f"{vals[0].name}.{vals[1]}"), (*layers, "getattr"))
        if name == "getattr" and len(vals) >= 2 and isinstance(vals[0], str | bytes):
            return Folded(_Method(vals[0], str(vals[1])), layers)
        return _apply_builtin(name, vals, layers)


def _merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for g in groups:
        out.extend(g)
    # Keep evidence short: consecutive repeats of one layer (concat, concat, ...) fold into one.
    return tuple(x for i, x in enumerate(out) if i == 0 or out[i - 1] != x)


def _apply_builtin(name: str, vals: list[object], layers: tuple[str, ...]) -> Folded | None:
    if name == "chr" and vals and isinstance(vals[0], int):
        return Folded(chr(vals[0]), (*layers, "chr"))
    if name == "ord" and vals and isinstance(vals[0], str):
        return Folded(ord(vals[0]), layers)
    if name == "int" and vals:
        return Folded(int(str(vals[0]), int(str(vals[1])) if len(vals) > 1 else 10), layers)
    if name == "str" and len(vals) == 1:
        return Folded(str(vals[0]), layers)
    if name == "str" and len(vals) >= 2 and isinstance(vals[0], bytes):
        return Folded(vals[0].decode(str(vals[1])), layers)
    if name in ("bytes", "bytearray") and vals:
        v = vals[0]
        if isinstance(v, list) and all(isinstance(i, int) for i in v):
            return Folded(bytes(v), (*layers, "bytes"))
        if isinstance(v, str):
            return Folded(v.encode(str(vals[1]) if len(vals) > 1 else "utf-8"), layers)
        if isinstance(v, bytes):
            return Folded(v, layers)
    if name == "reversed" and vals and isinstance(vals[0], str | bytes | list):
        return Folded(list(reversed(vals[0])), (*layers, "reverse"))
    if name in ("list", "tuple") and vals and isinstance(vals[0], str | bytes | list):
        return Folded(list(vals[0]), layers)
    ints = [v for v in vals if isinstance(v, int)]
    if name == "range" and 1 <= len(ints) == len(vals) <= 3:
        r = range(*ints)
        return Folded(r, layers) if len(r) <= _MAX_ITEMS else None
    if name == "len" and vals and isinstance(vals[0], str | bytes | list):
        return Folded(len(vals[0]), layers)
    if name == "map" and len(vals) == 2 and vals[0] == FuncRef("chr"):
        seq = vals[1]
        if isinstance(seq, list) and all(isinstance(i, int) for i in seq):
            return Folded([chr(i) for i in seq], (*layers, "chr"))
    return None


def _apply_method(m: _Method, vals: list[object], layers: tuple[str, ...]) -> Folded | None:
    obj = m.obj
    if m.name == "join" and vals and isinstance(vals[0], list):
        items = vals[0]
        if isinstance(obj, str) and all(isinstance(i, str) for i in items):
            return Folded(obj.join(items), (*layers, "join"))
        if isinstance(obj, bytes) and all(isinstance(i, bytes) for i in items):
            return Folded(obj.join(items), (*layers, "join"))
        return None
    if m.name == "decode" and isinstance(obj, bytes):
        enc = str(vals[0]) if vals else "utf-8"
        if enc.lower().replace("-", "_") in ("rot13", "rot_13"):
            return Folded(_rot13(obj), (*layers, "rot13"))
        return Folded(obj.decode(enc, "replace"), layers)
    if m.name == "encode" and isinstance(obj, str):
        enc = str(vals[0]) if vals else "utf-8"
        if enc.lower().replace("-", "_") in ("rot13", "rot_13"):
            return Folded(_rot13(obj), (*layers, "rot13"))
        return Folded(obj.encode(enc), layers)
    if m.name == "replace" and len(vals) >= 2 and type(vals[0]) is type(obj):
        return Folded(obj.replace(vals[0], vals[1]), (*layers, "replace"))  # type: ignore[arg-type]
    if m.name == "split":
        return Folded(obj.split(*vals), layers)  # type: ignore[arg-type]
    if m.name in _STR_METHODS and not vals:
        return Folded(getattr(obj, m.name)(), layers)
    if m.name in ("removeprefix", "removesuffix", "strip", "lstrip", "rstrip") and vals:
        return Folded(getattr(obj, m.name)(vals[0]), layers)
    return None
