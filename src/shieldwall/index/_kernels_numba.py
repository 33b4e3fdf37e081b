"""The Hamming index's hot loops in numba (compiled on first use and cached on disk): the
reference for the C kernels of ``_hamming.c``, and what :mod:`shieldwall.index._kernels` runs
where those were not built.

A 256-bit code is four ``uint64`` words. Table ``i`` (0..7) is keyed on the 32-bit substring
``i``: the high half of word ``i // 2`` for even ``i``, the low half for odd ``i``. Each table is
a CSR bucket directory over the top ``b`` bits of its substring. A segment's rows are sorted by
substring 0, so table 0's buckets are row ranges and need nothing more; tables 1..7 have one
``uint32`` entry per row: ``fragment << rowbits | row``, where the fragment is the next ``fbits``
bits of the substring. The fragment lets a probe reject almost every entry of a bucket without
touching the row's code (a cache miss). Directories are ``uint16`` offsets from a base per block of
``2**dir_shift`` buckets, with ``uint32`` starts for blocks that overflow (``segment.pack_dirs``).

Exactness (multi-index hashing, Norouzi et al.): the eight substrings are disjoint, so a code
within distance ``r`` of the query differs by at most ``t = r // 8`` bits in at least one of
them (``8 * (t + 1) > r``). Probing, in every table, every bucket whose ``b``-bit key is within
``t`` of the query's, and keeping the entries whose key and fragment together are still within
``t``, therefore finds every code within ``r``; each is then verified on its full code.

The integer arithmetic is done in ``int64`` or ``uint64`` on purpose: numba turns a mix of the
two into ``float64``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

TABLES = 8
SUBSTRING_BITS = 32
#: Flag of a directory block base that indexes the overflow array (see segment.pack_dirs).
DIR_OVERFLOW = 1 << 31
#: Buckets ahead whose entries are prefetched while one bucket is scanned.
PREFETCH_AHEAD = 8


@intrinsic
def _ctpop(typingctx: Any, x: Any) -> Any:
    """The CPU's popcount of a ``uint64`` (LLVM ``ctpop``)."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


@intrinsic
def prefetch(typingctx: Any, arr: Any, idx: Any) -> Any:
    """Hint the CPU to load ``arr[idx]`` into cache (never faults, never waits)."""

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, aryty, ary, [args[1]], wraparound=False
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, fnty, "llvm.prefetch.p0"
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@njit(cache=True, nogil=True, inline="always")
def popcount(x: Any) -> Any:
    """Number of set bits of a ``uint64``, as ``int64``."""
    return np.int64(_ctpop(np.uint64(x)))  # type: ignore[call-arg]


@njit(cache=True, nogil=True, inline="always")
def substring(code: Any, i: Any) -> Any:
    """The 32-bit substring ``i`` of a code (array of four ``uint64``), as ``int64``."""
    w = code[i >> 1]
    if i & 1 == 0:
        return np.int64(w >> np.uint64(32))
    return np.int64(w & np.uint64(0xFFFFFFFF))


@njit(cache=True, nogil=True, inline="always")
def distance(a: Any, b: Any) -> Any:
    """Hamming distance of two codes (arrays of four ``uint64``)."""
    return (
        popcount(a[0] ^ b[0])
        + popcount(a[1] ^ b[1])
        + popcount(a[2] ^ b[2])
        + popcount(a[3] ^ b[3])
    )


#: Buckets up to this size are sorted by insertion, bigger ones by a merge sort.
INSERTION_SORT_MAX = 64


@njit(cache=True, nogil=True)
def sort_by_substring0(codes: Any, b: int, out_codes: Any) -> Any:
    """Row order of ``codes`` by substring 0 (stable), and ``out_codes`` filled in that order.

    A counting sort on the top ``b`` bits (rows scattered straight into ``out_codes``), then
    each bucket sorted on the whole substring.
    """
    n = codes.shape[0]
    nb = 1 << b
    keyshift = SUBSTRING_BITS - b
    starts = np.zeros(nb + 1, np.int64)
    for r in range(n):
        starts[(substring(codes[r], 0) >> keyshift) + 1] += 1
    for k in range(nb):
        starts[k + 1] += starts[k]
    pos = starts[:nb].copy()
    order = np.empty(n, np.int64)
    keys = np.empty(n, np.int64)
    for r in range(n):  # scatter: sequential reads, writes to n / 2**b streams
        key = substring(codes[r], 0)
        p = pos[key >> keyshift]
        pos[key >> keyshift] = p + 1
        order[p] = r
        keys[p] = key
        for w in range(4):
            out_codes[p, w] = codes[r, w]
    for k in range(nb):
        lo, hi = starts[k], starts[k + 1]
        if hi - lo > INSERTION_SORT_MAX:
            sub = np.argsort(keys[lo:hi], kind="mergesort") + lo
            order[lo:hi] = order[sub]
            keys[lo:hi] = keys[sub]
            out_codes[lo:hi] = out_codes[sub]
            continue
        for i in range(lo + 1, hi):
            row, key = order[i], keys[i]
            c0, c1, c2, c3 = out_codes[i, 0], out_codes[i, 1], out_codes[i, 2], out_codes[i, 3]
            j = i - 1
            while j >= lo and keys[j] > key:
                order[j + 1] = order[j]
                keys[j + 1] = keys[j]
                for w in range(4):
                    out_codes[j + 1, w] = out_codes[j, w]
                j -= 1
            order[j + 1] = row
            keys[j + 1] = key
            out_codes[j + 1, 0] = c0
            out_codes[j + 1, 1] = c1
            out_codes[j + 1, 2] = c2
            out_codes[j + 1, 3] = c3
    return order


@njit(cache=True, nogil=True)
def build_tables(  # noqa: PLR0917
    codes: Any, b: int, rowbits: int, fbits: int, dirs: Any, entries: Any
) -> None:
    """Fill ``dirs`` (8, 2**b + 1) and ``entries`` (7, n) for ``codes`` by a counting sort.

    ``codes`` must be in the order of substring 0: table 0's buckets are then row ranges, and
    only tables 1..7 get entries (``entries[i - 1]`` for table ``i``).
    """
    n = codes.shape[0]
    nb = 1 << b
    keyshift = SUBSTRING_BITS - b
    fragshift = SUBSTRING_BITS - b - fbits
    fragmask = (1 << fbits) - 1
    pos = np.empty(nb, np.int64)
    for i in range(TABLES):
        for k in range(nb + 1):
            dirs[i, k] = 0
        for r in range(n):
            key = substring(codes[r], i) >> keyshift
            dirs[i, key + 1] += 1
        for k in range(nb):
            dirs[i, k + 1] += dirs[i, k]
        if i == 0:
            continue
        for k in range(nb):
            pos[k] = dirs[i, k]
        for r in range(n):
            s = substring(codes[r], i)
            key = s >> keyshift
            frag = (s >> fragshift) & fragmask
            entries[i - 1, pos[key]] = (frag << rowbits) | r
            pos[key] += 1


@njit(cache=True, nogil=True, inline="always")
def bucket_start(dir_i: Any, base_i: Any, over: Any, shift: int, k: Any) -> Any:
    """Absolute start of bucket ``k`` of a table: its block's base plus its ``uint16`` offset,
    or, for a block flagged ``DIR_OVERFLOW``, its ``uint32`` start in ``over``."""
    base = np.int64(base_i[k >> shift])
    if base >= DIR_OVERFLOW:
        return np.int64(over[base - DIR_OVERFLOW + (k & ((1 << shift) - 1))])
    return base + np.int64(dir_i[k])


@njit(cache=True, nogil=True)
def probe(  # noqa: PLR0917, PLR0915
    queries: Any,
    radius: int,
    t: int,
    codes: Any,
    dirs: Any,
    dir_base: Any,
    dir_over: Any,
    dir_shift: int,
    entries: Any,
    b: int,
    rowbits: int,
    fbits: int,
    masks: Any,
    nmasks: int,
    mask_pop: Any,
    dead: Any,
    any_dead: bool,
    out_query: Any,
    out_row: Any,
    out_dist: Any,
) -> int:
    """Every live row within ``radius`` of each query, found through the tables.

    ``masks[:nmasks]`` are all ``b``-bit masks of popcount at most ``t`` (``mask_pop`` holds
    their popcounts). Writes (query, row, distance) triples to the outputs and returns how many
    there are; when that exceeds the outputs' length, only the first ones were written and the
    caller retries with larger outputs. Each row is reported once per query: table 0 (rows in
    its bucket order, no entries) reports rows whose whole substring 0 is within ``t``; a later
    table skips a row that an earlier table already reported.
    """
    cap = out_row.shape[0]
    count = 0
    keyshift = SUBSTRING_BITS - b
    fragshift = SUBSTRING_BITS - b - fbits
    fragmask = (1 << fbits) - 1
    rowmask = (1 << rowbits) - 1
    cand = np.empty(1024, np.int64)
    restmask = (1 << keyshift) - 1
    los = np.empty(nmasks, np.int64)
    his = np.empty(nmasks, np.int64)
    guess = np.empty(nmasks, np.int64)
    for qi in range(queries.shape[0]):
        q = queries[qi]
        # Table 0: the rows of a bucket are contiguous; test their substring 0 directly.
        qs = substring(q, 0)
        qkey = qs >> keyshift
        dir_0 = dirs[0]
        base_0 = dir_base[0]
        for m in range(nmasks):
            key = qkey ^ np.int64(masks[m])
            los[m] = bucket_start(dir_0, base_0, dir_over, dir_shift, key)
            his[m] = bucket_start(dir_0, base_0, dir_over, dir_shift, key + 1)
            # Where the query's exact substring would sit, if the bucket's rows are uniform.
            guess[m] = los[m] + (((qs & restmask) * (his[m] - los[m])) >> keyshift)
        for m in range(nmasks):
            ahead = m + PREFETCH_AHEAD
            if ahead < nmasks:
                if mask_pop[ahead] == t:
                    prefetch(codes, guess[ahead])  # type: ignore[call-arg]
                else:
                    for r in range(los[ahead], his[ahead], 2):
                        prefetch(codes, r)  # type: ignore[call-arg]
            lo, hi = los[m], his[m]
            if mask_pop[m] == t and lo < hi:
                # No bits left to differ: only rows whose whole substring 0 equals the target
                # qualify. Rows are sorted by it: walk from the guess to the first row >= target.
                target = ((qkey ^ np.int64(masks[m])) << keyshift) | (qs & restmask)
                row = guess[m]
                while row > lo and substring(codes[row - 1], 0) >= target:
                    row -= 1
                while row < hi and substring(codes[row], 0) < target:
                    row += 1
                lo = row
                while row < hi and substring(codes[row], 0) == target:
                    row += 1
                hi = row
            for row in range(lo, hi):
                if popcount(np.uint64(substring(codes[row], 0) ^ qs)) > t:
                    continue
                if any_dead and (dead[row >> 6] >> np.uint64(row & 63)) & np.uint64(1):
                    continue
                d = distance(codes[row], q)
                if d <= radius:
                    if count < cap:
                        out_query[count] = qi
                        out_row[count] = row
                        out_dist[count] = d
                    count += 1
        for i in range(1, TABLES):
            qs = substring(q, i)
            qkey = qs >> keyshift
            qfrag = (qs >> fragshift) & fragmask
            dir_i = dirs[i]
            base_i = dir_base[i]
            ent_i = entries[i - 1]
            # Gather every bucket's bounds first: independent loads that the CPU overlaps.
            for m in range(nmasks):
                key = qkey ^ np.int64(masks[m])
                los[m] = bucket_start(dir_i, base_i, dir_over, dir_shift, key)
                his[m] = bucket_start(dir_i, base_i, dir_over, dir_shift, key + 1)
            total = 0
            for m in range(nmasks):
                total += his[m] - los[m]
            if total > cand.shape[0]:
                cand = np.empty(2 * total, np.int64)
            nc = 0
            for m in range(nmasks):
                if m + PREFETCH_AHEAD < nmasks:
                    prefetch(ent_i, los[m + PREFETCH_AHEAD])  # type: ignore[call-arg]
                    prefetch(ent_i, his[m + PREFETCH_AHEAD] - 1)
                budget = t - mask_pop[m]
                for k in range(los[m], his[m]):
                    e = np.int64(ent_i[k])
                    if popcount(np.uint64((e >> rowbits) ^ qfrag)) <= budget:
                        row = e & rowmask
                        prefetch(codes, row)  # type: ignore[call-arg]
                        cand[nc] = row
                        nc += 1
            for c in range(nc):
                row = cand[c]
                if any_dead and (dead[row >> 6] >> np.uint64(row & 63)) & np.uint64(1):
                    continue
                d = distance(codes[row], q)
                if d > radius:
                    continue
                # Reported by table 0 already?
                if popcount(np.uint64(substring(codes[row], 0) ^ substring(q, 0))) <= t:
                    continue
                seen = False
                for j in range(1, i):
                    x = substring(codes[row], j) ^ substring(q, j)
                    if popcount(np.uint64(x >> fragshift)) <= t:
                        seen = True
                        break
                if seen:
                    continue
                if count < cap:
                    out_query[count] = qi
                    out_row[count] = row
                    out_dist[count] = d
                count += 1
    return count


@njit(cache=True, nogil=True)
def gather_ids24(id_data: Any, base: int, rows: Any) -> Any:
    """``base`` plus the little-endian 24-bit offsets ``id_data[rows]`` ((n, 3) ``uint8``)."""
    out = np.empty(rows.shape[0], np.int64)
    for k in range(rows.shape[0]):
        r = rows[k]
        off = (
            np.int64(id_data[r, 0])
            | (np.int64(id_data[r, 1]) << 8)
            | (np.int64(id_data[r, 2]) << 16)
        )
        out[k] = base + off
    return out


@njit(cache=True, nogil=True)
def scan(  # noqa: PLR0917
    queries: Any,
    radius: int,
    codes: Any,
    n: int,
    dead: Any,
    any_dead: bool,
    out_query: Any,
    out_row: Any,
    out_dist: Any,
) -> int:
    """Brute force over the first ``n`` rows of ``codes``; same outputs as :func:`probe`."""
    cap = out_row.shape[0]
    count = 0
    for qi in range(queries.shape[0]):
        q = queries[qi]
        for row in range(n):
            if any_dead and (dead[row >> 6] >> np.uint64(row & 63)) & np.uint64(1):
                continue
            d = distance(codes[row], q)
            if d <= radius:
                if count < cap:
                    out_query[count] = qi
                    out_row[count] = row
                    out_dist[count] = d
                count += 1
    return count
