/* The Hamming index's hot loops in C: the same functions, arguments and results as the numba
 * kernels of _kernels_numba.py (the reference they are tested against), without numba's
 * runtime in the process (about 190 MB of a matcher's memory: LLVM, the compiler, the loaded
 * code). Built into _hamming.so when the package is installed (hatch_build.py); loaded with
 * ctypes by _kernels.py, which falls back to numba where it is missing.
 *
 * A 256-bit code is four uint64 words; substring i (0..7) is the high half of word i / 2 for
 * even i, the low half for odd i. See _kernels_numba.py for the layout of the tables. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TABLES 8
#define SUBSTRING_BITS 32
#define DIR_OVERFLOW ((int64_t)1 << 31)
#define PREFETCH_AHEAD 8
#define INSERTION_SORT_MAX 64

static inline int64_t popcount(uint64_t x) { return (int64_t)__builtin_popcountll(x); }

static inline int64_t substring(const uint64_t *code, int64_t i) {
    uint64_t w = code[i >> 1];
    if ((i & 1) == 0) return (int64_t)(w >> 32);
    return (int64_t)(w & 0xFFFFFFFFu);
}

static inline int64_t distance(const uint64_t *a, const uint64_t *b) {
    return popcount(a[0] ^ b[0]) + popcount(a[1] ^ b[1]) + popcount(a[2] ^ b[2]) +
           popcount(a[3] ^ b[3]);
}

static inline int is_dead(const uint64_t *dead, int64_t any_dead, int64_t row) {
    return any_dead && ((dead[row >> 6] >> (row & 63)) & 1u);
}

/* (key, position) pairs sorted by key then position: a stable order. */
typedef struct {
    int64_t key;
    int64_t pos;
} keyed;

static int by_key(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* Row order of codes (n, 4) by substring 0, stable; out_codes filled in that order. Returns 0,
 * or -1 when memory ran out. */
int64_t sw_sort_by_substring0(const uint64_t *codes, int64_t n, int64_t b, uint64_t *out_codes,
                              int64_t *order) {
    int64_t nb = (int64_t)1 << b, keyshift = SUBSTRING_BITS - b;
    int64_t *starts = calloc((size_t)nb + 1, sizeof(int64_t));
    int64_t *pos = malloc((size_t)nb * sizeof(int64_t));
    int64_t *keys = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    keyed *scratch = NULL;
    if (!starts || !pos || !keys) goto fail;
    for (int64_t r = 0; r < n; r++) starts[(substring(codes + 4 * r, 0) >> keyshift) + 1]++;
    for (int64_t k = 0; k < nb; k++) starts[k + 1] += starts[k];
    memcpy(pos, starts, (size_t)nb * sizeof(int64_t));
    for (int64_t r = 0; r < n; r++) {
        int64_t key = substring(codes + 4 * r, 0);
        int64_t p = pos[key >> keyshift]++;
        order[p] = r;
        keys[p] = key;
        memcpy(out_codes + 4 * p, codes + 4 * r, 4 * sizeof(uint64_t));
    }
    for (int64_t k = 0; k < nb; k++) {
        int64_t lo = starts[k], hi = starts[k + 1];
        if (hi - lo > INSERTION_SORT_MAX) {
            int64_t m = hi - lo;
            keyed *s = realloc(scratch, (size_t)m * sizeof(keyed));
            if (!s) goto fail;
            scratch = s;
            for (int64_t i = 0; i < m; i++) {
                s[i].key = keys[lo + i];
                s[i].pos = i;
            }
            qsort(s, (size_t)m, sizeof(keyed), by_key);
            int64_t *rows = malloc((size_t)m * sizeof(int64_t));
            uint64_t *moved = malloc((size_t)m * 4 * sizeof(uint64_t));
            if (!rows || !moved) {
                free(rows);
                free(moved);
                goto fail;
            }
            for (int64_t i = 0; i < m; i++) {
                int64_t from = lo + s[i].pos;
                rows[i] = order[from];
                memcpy(moved + 4 * i, out_codes + 4 * from, 4 * sizeof(uint64_t));
            }
            for (int64_t i = 0; i < m; i++) {
                order[lo + i] = rows[i];
                keys[lo + i] = s[i].key;
            }
            memcpy(out_codes + 4 * lo, moved, (size_t)m * 4 * sizeof(uint64_t));
            free(rows);
            free(moved);
            continue;
        }
        for (int64_t i = lo + 1; i < hi; i++) {
            int64_t row = order[i], key = keys[i];
            uint64_t c[4];
            memcpy(c, out_codes + 4 * i, sizeof c);
            int64_t j = i - 1;
            while (j >= lo && keys[j] > key) {
                order[j + 1] = order[j];
                keys[j + 1] = keys[j];
                memcpy(out_codes + 4 * (j + 1), out_codes + 4 * j, sizeof c);
                j--;
            }
            order[j + 1] = row;
            keys[j + 1] = key;
            memcpy(out_codes + 4 * (j + 1), c, sizeof c);
        }
    }
    free(starts);
    free(pos);
    free(keys);
    free(scratch);
    return 0;
fail:
    free(starts);
    free(pos);
    free(keys);
    free(scratch);
    return -1;
}

/* Fill dirs (8, 2**b + 1) uint32 and entries (7, n) uint32 for codes in substring-0 order.
 * Returns 0, or -1 when memory ran out. */
int64_t sw_build_tables(const uint64_t *codes, int64_t n, int64_t b, int64_t rowbits,
                        int64_t fbits, uint32_t *dirs, uint32_t *entries) {
    int64_t nb = (int64_t)1 << b, width = nb + 1;
    int64_t keyshift = SUBSTRING_BITS - b, fragshift = SUBSTRING_BITS - b - fbits;
    int64_t fragmask = ((int64_t)1 << fbits) - 1;
    int64_t *pos = malloc((size_t)nb * sizeof(int64_t));
    if (!pos) return -1;
    for (int64_t i = 0; i < TABLES; i++) {
        uint32_t *d = dirs + i * width;
        memset(d, 0, (size_t)width * sizeof(uint32_t));
        for (int64_t r = 0; r < n; r++) d[(substring(codes + 4 * r, i) >> keyshift) + 1]++;
        for (int64_t k = 0; k < nb; k++) d[k + 1] += d[k];
        if (i == 0) continue;
        uint32_t *e = entries + (i - 1) * n;
        for (int64_t k = 0; k < nb; k++) pos[k] = d[k];
        for (int64_t r = 0; r < n; r++) {
            int64_t s = substring(codes + 4 * r, i);
            int64_t key = s >> keyshift, frag = (s >> fragshift) & fragmask;
            e[pos[key]++] = (uint32_t)((frag << rowbits) | r);
        }
    }
    free(pos);
    return 0;
}

static inline int64_t bucket_start(const uint16_t *dir_i, const uint32_t *base_i,
                                   const uint32_t *over, int64_t shift, int64_t k) {
    int64_t base = (int64_t)base_i[k >> shift];
    if (base >= DIR_OVERFLOW)
        return (int64_t)over[base - DIR_OVERFLOW + (k & (((int64_t)1 << shift) - 1))];
    return base + (int64_t)dir_i[k];
}

#define EMIT(qi, row, d)                 \
    do {                                 \
        if (count < cap) {               \
            out_query[count] = (qi);     \
            out_row[count] = (row);      \
            out_dist[count] = (d);       \
        }                                \
        count++;                         \
    } while (0)

/* Every live row within radius of each query, through the tables (see probe() in
 * _kernels_numba.py). dirs is (8, dir_width) uint16, dir_base (8, base_width) uint32.
 * Returns the number of (query, row, distance) triples (only the first cap are written), or
 * -1 when memory ran out. */
int64_t sw_probe(const uint64_t *queries, int64_t nq, int64_t radius, int64_t t,
                 const uint64_t *codes, const uint16_t *dirs, int64_t dir_width,
                 const uint32_t *dir_base, int64_t base_width, const uint32_t *dir_over,
                 int64_t dir_shift, const uint32_t *entries, int64_t n, int64_t b,
                 int64_t rowbits, int64_t fbits, const uint32_t *masks, int64_t nmasks,
                 const int64_t *mask_pop, const uint64_t *dead, int64_t any_dead,
                 int64_t *out_query, int64_t *out_row, int64_t *out_dist, int64_t cap) {
    int64_t count = 0;
    int64_t keyshift = SUBSTRING_BITS - b, fragshift = SUBSTRING_BITS - b - fbits;
    int64_t fragmask = ((int64_t)1 << fbits) - 1, rowmask = ((int64_t)1 << rowbits) - 1;
    int64_t restmask = ((int64_t)1 << keyshift) - 1;
    int64_t ncand = 1024;
    int64_t *cand = malloc((size_t)ncand * sizeof(int64_t));
    int64_t *los = malloc((size_t)(nmasks > 0 ? nmasks : 1) * sizeof(int64_t));
    int64_t *his = malloc((size_t)(nmasks > 0 ? nmasks : 1) * sizeof(int64_t));
    int64_t *guess = malloc((size_t)(nmasks > 0 ? nmasks : 1) * sizeof(int64_t));
    if (!cand || !los || !his || !guess) {
        count = -1;
        goto done;
    }
    for (int64_t qi = 0; qi < nq; qi++) {
        const uint64_t *q = queries + 4 * qi;
        /* Table 0: the rows of a bucket are contiguous; test their substring 0 directly. */
        int64_t qs = substring(q, 0), qkey = qs >> keyshift;
        const uint16_t *dir_0 = dirs;
        const uint32_t *base_0 = dir_base;
        for (int64_t m = 0; m < nmasks; m++) {
            int64_t key = qkey ^ (int64_t)masks[m];
            los[m] = bucket_start(dir_0, base_0, dir_over, dir_shift, key);
            his[m] = bucket_start(dir_0, base_0, dir_over, dir_shift, key + 1);
            guess[m] = los[m] + (((qs & restmask) * (his[m] - los[m])) >> keyshift);
        }
        for (int64_t m = 0; m < nmasks; m++) {
            int64_t ahead = m + PREFETCH_AHEAD;
            if (ahead < nmasks) {
                if (mask_pop[ahead] == t) {
                    __builtin_prefetch(codes + 4 * guess[ahead], 0, 3);
                } else {
                    for (int64_t r = los[ahead]; r < his[ahead]; r += 2)
                        __builtin_prefetch(codes + 4 * r, 0, 3);
                }
            }
            int64_t lo = los[m], hi = his[m];
            if (mask_pop[m] == t && lo < hi) {
                int64_t target = ((qkey ^ (int64_t)masks[m]) << keyshift) | (qs & restmask);
                int64_t row = guess[m];
                while (row > lo && substring(codes + 4 * (row - 1), 0) >= target) row--;
                while (row < hi && substring(codes + 4 * row, 0) < target) row++;
                lo = row;
                while (row < hi && substring(codes + 4 * row, 0) == target) row++;
                hi = row;
            }
            for (int64_t row = lo; row < hi; row++) {
                if (popcount((uint64_t)(substring(codes + 4 * row, 0) ^ qs)) > t) continue;
                if (is_dead(dead, any_dead, row)) continue;
                int64_t d = distance(codes + 4 * row, q);
                if (d <= radius) EMIT(qi, row, d);
            }
        }
        for (int64_t i = 1; i < TABLES; i++) {
            qs = substring(q, i);
            qkey = qs >> keyshift;
            int64_t qfrag = (qs >> fragshift) & fragmask;
            const uint16_t *dir_i = dirs + i * dir_width;
            const uint32_t *base_i = dir_base + i * base_width;
            const uint32_t *ent_i = entries + (i - 1) * n;
            int64_t total = 0;
            for (int64_t m = 0; m < nmasks; m++) {
                int64_t key = qkey ^ (int64_t)masks[m];
                los[m] = bucket_start(dir_i, base_i, dir_over, dir_shift, key);
                his[m] = bucket_start(dir_i, base_i, dir_over, dir_shift, key + 1);
                total += his[m] - los[m];
            }
            if (total > ncand) {
                int64_t *bigger = realloc(cand, (size_t)(2 * total) * sizeof(int64_t));
                if (!bigger) {
                    count = -1;
                    goto done;
                }
                cand = bigger;
                ncand = 2 * total;
            }
            int64_t nc = 0;
            for (int64_t m = 0; m < nmasks; m++) {
                if (m + PREFETCH_AHEAD < nmasks) {
                    __builtin_prefetch(ent_i + los[m + PREFETCH_AHEAD], 0, 3);
                    __builtin_prefetch(ent_i + his[m + PREFETCH_AHEAD] - 1, 0, 3);
                }
                int64_t budget = t - mask_pop[m];
                for (int64_t k = los[m]; k < his[m]; k++) {
                    int64_t e = (int64_t)ent_i[k];
                    if (popcount((uint64_t)((e >> rowbits) ^ qfrag)) <= budget) {
                        int64_t row = e & rowmask;
                        __builtin_prefetch(codes + 4 * row, 0, 3);
                        cand[nc++] = row;
                    }
                }
            }
            for (int64_t c = 0; c < nc; c++) {
                int64_t row = cand[c];
                if (is_dead(dead, any_dead, row)) continue;
                const uint64_t *code = codes + 4 * row;
                int64_t d = distance(code, q);
                if (d > radius) continue;
                /* Reported by table 0 already? */
                if (popcount((uint64_t)(substring(code, 0) ^ substring(q, 0))) <= t) continue;
                int seen = 0;
                for (int64_t j = 1; j < i; j++) {
                    int64_t x = substring(code, j) ^ substring(q, j);
                    if (popcount((uint64_t)(x >> fragshift)) <= t) {
                        seen = 1;
                        break;
                    }
                }
                if (seen) continue;
                EMIT(qi, row, d);
            }
        }
    }
done:
    free(cand);
    free(los);
    free(his);
    free(guess);
    return count;
}

/* base plus the little-endian 24-bit offsets id_data[rows] ((n, 3) uint8). */
void sw_gather_ids24(const uint8_t *id_data, int64_t base, const int64_t *rows, int64_t n,
                     int64_t *out) {
    for (int64_t k = 0; k < n; k++) {
        const uint8_t *p = id_data + 3 * rows[k];
        out[k] = base + ((int64_t)p[0] | ((int64_t)p[1] << 8) | ((int64_t)p[2] << 16));
    }
}

/* Brute force over the first n rows of codes; same outputs as sw_probe. */
int64_t sw_scan(const uint64_t *queries, int64_t nq, int64_t radius, const uint64_t *codes,
                int64_t n, const uint64_t *dead, int64_t any_dead, int64_t *out_query,
                int64_t *out_row, int64_t *out_dist, int64_t cap) {
    int64_t count = 0;
    for (int64_t qi = 0; qi < nq; qi++) {
        const uint64_t *q = queries + 4 * qi;
        for (int64_t row = 0; row < n; row++) {
            if (is_dead(dead, any_dead, row)) continue;
            int64_t d = distance(codes + 4 * row, q);
            if (d <= radius) EMIT(qi, row, d);
        }
    }
    return count;
}
