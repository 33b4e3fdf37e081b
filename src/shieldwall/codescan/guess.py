"""Guessing decoders for a lone literal whose decoder is hidden elsewhere: a string that looks
encoded is tried with base64, reversed base64, hex, base32 and uu, then rot13 of each result,
following chains (``reverse -> base64 -> rot13``) up to a depth limit, and keeping only results
that read as text. Every guessed step is recorded as a ``guess:`` layer."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable

from shieldwall.codescan.deobfuscate import Folded, uu_decode

__all__ = ["guess_decodings"]

_B64_RE = re.compile(r"^[A-Za-z0-9+/=_\-\s]{16,}$")
_HEX_RE = re.compile(r"^(?:[0-9a-fA-F]{2}){8,}$")
_B32_RE = re.compile(r"^[A-Z2-7=]{16,}$")


def _readable(data: bytes | str) -> str | None:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        text = data
    if not text:
        return None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    # Real decoded payloads are text; random binary rarely passes 95 % printable.
    return text if printable / len(text) >= 0.95 and any(c.isalpha() for c in text) else None


def _b64(s: str) -> bytes:
    compact = re.sub(r"\s+", "", s)
    if "-" in compact or "_" in compact:
        return base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)


def _one_step(text: str) -> list[tuple[str, str]]:
    """Readable results of each single decoder that applies to ``text``."""
    out: list[tuple[str, str]] = []
    candidates: list[tuple[str, Callable[[str], bytes | str]]] = []
    stripped = text.strip()
    if _HEX_RE.match(stripped):
        candidates.append(("hex", lambda s: bytes.fromhex(s.strip())))
    if _B32_RE.match(stripped) and len(stripped) % 8 == 0:
        candidates.append(("base32", lambda s: base64.b32decode(s.strip())))
    if _B64_RE.match(stripped):
        candidates.append(("base64", _b64))
        candidates.append(("reverse+base64", lambda s: _b64(s.strip()[::-1])))
    if stripped.startswith("begin ") or re.match(r"^[M-`][ -`]{20,}$", stripped.split("\n")[0]):
        candidates.append(
            ("uu", lambda s: uu_decode(s.split("\n", 1)[-1] if s.startswith("begin") else s))
        )
    for layer, fn in candidates:
        try:
            got = _readable(fn(text))
        except (ValueError, binascii.Error, UnicodeError):
            continue
        if got is not None:
            out.append((layer, got))
    return out


def guess_decodings(text: str, max_depth: int) -> tuple[list[Folded], bool]:
    """Decoded forms of an encoded-looking literal, each with its layers (marked ``guess:``),
    following chains up to ``max_depth`` layers; rot13 is tried on every decoded result,
    since it keeps text readable and so cannot be detected by readability alone.

    Returns the results and whether the depth limit cut a chain short.
    """
    results: list[Folded] = []
    frontier: list[Folded] = [Folded(text)]
    hit_limit = False
    for depth in range(max_depth + 1):
        nxt: list[Folded] = []
        for item in frontier:
            current = str(item.value)
            for layer, decoded in _one_step(current):
                if depth == max_depth:
                    hit_limit = True
                    break
                layers = (*item.layers, *(f"guess:{p}" for p in layer.split("+")))
                found = Folded(decoded, layers)
                results.append(found)
                rotated = Folded(codecs.decode(decoded, "rot13"), (*layers, "guess:rot13"))
                results.append(rotated)
                nxt += [found, rotated]
        if not nxt:
            break
        frontier = nxt[:8]  # a few branches per level keep the search bounded
    return results, hit_limit
