/*
 * strtab.c: the id -> string table with a bytes -> id hash index, used for
 * the vocabulary (both as written and in the model's internal form).
 *
 * Strings live in one pool; ent[id] = {offset, length} (one array, so a
 * lookup's compare touches one line of it). The index is open addressing
 * with linear probing over a power-of-two slot array at most 2/3 full. A slot
 * holds id + 1 in its low 32 bits and 32 bits of the hash above, so probing
 * rarely touches the pool: a lookup is one hash and, almost always, one
 * compare. Hash: 64-bit multiply-xorshift folding 8 bytes at a time (fast for
 * short tokens, good enough spread). Lookups in bulk (merges at load) go
 * through tg__strtab_find_batch, which overlaps their cache misses.
 *
 * Also here: tg__table_alloc, the zeroed allocation of big hash tables (this
 * index, the BPE merge table): from 2 MiB up an anonymous mapping with
 * transparent huge pages asked for, since those tables are written and read
 * at random while loading.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tokenizer/tokenizer_internal.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *tg__table_alloc(size_t bytes) {
#if defined(MAP_ANONYMOUS)
    if (bytes >= HUGE_PAGE) {
        /* map 2 MiB more, keep the aligned part: huge pages need alignment */
        size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        char *m = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return NULL;
        size_t lead = (HUGE_PAGE - ((uintptr_t)m & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
        if (lead) munmap(m, lead);
        if (HUGE_PAGE - lead) munmap(m + lead + len, HUGE_PAGE - lead);
#ifdef MADV_HUGEPAGE
        (void)madvise(m + lead, len, MADV_HUGEPAGE);
#endif
        return m + lead;
    }
#endif
    return calloc(bytes ? bytes : 1, 1);
}

void tg__table_free(void *p, size_t bytes) {
    if (!p) return;
#if defined(MAP_ANONYMOUS)
    if (bytes >= HUGE_PAGE) {
        munmap(p, (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
        return;
    }
#endif
    free(p);
}

uint64_t tg__hash_bytes(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return h;
}

tg_status tg__strtab_init(tg__strtab *t, uint32_t count, size_t pool_hint) {
    memset(t, 0, sizeof *t);
    t->count = count;
    t->ent = malloc((count ? count : 1) * sizeof *t->ent);
    t->pool_cap = pool_hint ? pool_hint : 64;
    t->pool = malloc(t->pool_cap);
    if (!t->ent || !t->pool) {
        tg__strtab_free(t);
        return TG_ENOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        t->ent[i].off = 0;
        t->ent[i].len = UINT32_MAX;
    }
    return TG_OK;
}

void tg__strtab_free(tg__strtab *t) {
    free(t->ent);
    free(t->pool);
    if (t->slots) tg__table_free(t->slots, (t->mask + 1) * sizeof *t->slots);
    memset(t, 0, sizeof *t);
}

tg_status tg__strtab_set(tg__strtab *t, uint32_t id, const char *s, size_t n, tg_error *err) {
    if (id >= t->count)
        return tg_error_set(err, TG_ECORRUPT, "token id %u is outside the vocabulary of %u ids",
                            (unsigned)id, (unsigned)t->count);
    if (t->ent[id].len != UINT32_MAX)
        return tg_error_set(err, TG_ECORRUPT, "token id %u is given twice", (unsigned)id);
    if (n > TG__MAX_TOKEN_BYTES)
        return tg_error_set(err, TG_ELIMIT, "token %u is %zu bytes long, above the %u-byte limit",
                            (unsigned)id, n, (unsigned)TG__MAX_TOKEN_BYTES);
    if (t->pool_len + n > UINT32_MAX)
        return tg_error_set(err, TG_ELIMIT, "vocabulary strings exceed 4 GiB");
    if (t->pool_len + n > t->pool_cap) {
        size_t cap = t->pool_cap * 2;
        while (cap < t->pool_len + n) cap *= 2;
        char *p = realloc(t->pool, cap);
        if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory for vocabulary strings");
        t->pool = p;
        t->pool_cap = cap;
    }
    if (n) memcpy(t->pool + t->pool_len, s, n);
    t->ent[id].off = (uint32_t)t->pool_len;
    t->ent[id].len = (uint32_t)n;
    t->pool_len += n;
    return TG_OK;
}

static tg_status insert(tg__strtab *t, uint32_t id, uint64_t hv, int refuse_duplicates, tg_error *err) {
    const char *s = t->pool + t->ent[id].off;
    size_t n = t->ent[id].len;
    uint64_t tag = hv >> 32 << 32;
    size_t h = (size_t)hv & t->mask;
    for (;;) {
        uint64_t v = t->slots[h];
        if (v == 0) {
            t->slots[h] = tag | (id + 1);
            return TG_OK;
        }
        uint32_t o = (uint32_t)v - 1;
        if ((v & ~0xFFFFFFFFull) == tag && t->ent[o].len == n && tg__bytes_eq(t->pool + t->ent[o].off, s, n)) {
            if (refuse_duplicates)
                return tg_error_set(err, TG_ECORRUPT, "ids %u and %u hold the same token string (%zu bytes)",
                                    (unsigned)o, (unsigned)id, n);
            t->slots[h] = tag | (id + 1); /* the later id wins */
            return TG_OK;
        }
        h = (h + 1) & t->mask;
    }
}

#define BATCH 64

tg_status tg__strtab_index(tg__strtab *t, int refuse_duplicates, tg_error *err) {
    size_t present = 0;
    for (uint32_t i = 0; i < t->count; i++) present += t->ent[i].len != UINT32_MAX;
    size_t want = 16;
    while (want < present + present / 2) want *= 2; /* load <= 2/3 */
    if (t->slots) tg__table_free(t->slots, (t->mask + 1) * sizeof *t->slots);
    t->slots = tg__table_alloc(want * sizeof *t->slots);
    if (!t->slots) return tg_error_set(err, TG_ENOMEM, "out of memory for the vocabulary index");
    t->mask = want - 1;
    /* hashes of a batch first, with the slots prefetched, then the inserts:
     * the cache misses of a batch overlap instead of queueing */
    uint64_t hv[BATCH] = {0}; /* only the present ids' entries are read */
    for (uint32_t base = 0; base < t->count; base += BATCH) {
        uint32_t cnt = t->count - base < BATCH ? t->count - base : BATCH;
        for (uint32_t k = 0; k < cnt; k++) {
            uint32_t id = base + k;
            if (t->ent[id].len == UINT32_MAX) continue;
            hv[k] = tg__hash_bytes(t->pool + t->ent[id].off, t->ent[id].len);
            __builtin_prefetch(&t->slots[(size_t)hv[k] & t->mask], 1);
        }
        for (uint32_t k = 0; k < cnt; k++) {
            uint32_t id = base + k;
            if (t->ent[id].len == UINT32_MAX) continue;
            tg_status st = insert(t, id, hv[k], refuse_duplicates, err);
            if (st) return st;
        }
    }
    return TG_OK;
}

void tg__strtab_find_batch(const tg__strtab *t, const tg__bytes *keys, size_t n, uint32_t *out) {
    uint64_t hv[BATCH];
    uint32_t cand[BATCH];
    for (size_t base = 0; base < n; base += BATCH) {
        size_t cnt = n - base < BATCH ? n - base : BATCH;
        const tg__bytes *k = keys + base;
        for (size_t i = 0; i < cnt; i++) {
            hv[i] = tg__hash_bytes(k[i].p, k[i].n);
            __builtin_prefetch(&t->slots[(size_t)hv[i] & t->mask]);
        }
        /* first slot whose tag matches: its id is very likely the answer */
        for (size_t i = 0; i < cnt; i++) {
            uint64_t tag = hv[i] >> 32 << 32;
            size_t h = (size_t)hv[i] & t->mask;
            cand[i] = TG__NO_ID;
            for (;;) {
                uint64_t v = t->slots[h];
                if (v == 0) break;
                if ((v & ~0xFFFFFFFFull) == tag) { cand[i] = (uint32_t)v - 1; break; }
                h = (h + 1) & t->mask;
            }
            if (cand[i] != TG__NO_ID) {
                __builtin_prefetch(&t->ent[cand[i]]);
            }
        }
        for (size_t i = 0; i < cnt; i++)
            if (cand[i] != TG__NO_ID) __builtin_prefetch(t->pool + t->ent[cand[i]].off);
        for (size_t i = 0; i < cnt; i++) {
            /* cand[0..cnt) was set by the probe loop above */
            /* cppcheck-suppress uninitvar */
            uint32_t c = cand[i];
            if (c != TG__NO_ID && t->ent[c].len == k[i].n && tg__bytes_eq(t->pool + t->ent[c].off, k[i].p, k[i].n))
                out[base + i] = c;
            else if (c == TG__NO_ID)
                out[base + i] = TG__NO_ID; /* no slot with this tag on the probe path */
            else
                out[base + i] = tg__strtab_find(t, k[i].p, k[i].n);
        }
    }
}

uint32_t tg__strtab_find(const tg__strtab *t, const char *s, size_t n) {
    if (!t->slots) return TG__NO_ID;
    uint64_t hv = tg__hash_bytes(s, n);
    uint64_t tag = hv >> 32 << 32;
    size_t h = (size_t)hv & t->mask;
    for (;;) {
        uint64_t v = t->slots[h];
        if (v == 0) return TG__NO_ID;
        uint32_t o = (uint32_t)v - 1;
        if ((v & ~0xFFFFFFFFull) == tag && t->ent[o].len == n && tg__bytes_eq(t->pool + t->ent[o].off, s, n)) return o;
        h = (h + 1) & t->mask;
    }
}

const uint8_t *tg__memmem(const uint8_t *h, size_t hn, const void *needle, size_t nn) {
    const uint8_t *n = needle;
    if (nn == 0) return h;
    if (hn < nn) return NULL;
    const uint8_t *end = h + (hn - nn) + 1, *p = h;
    while ((p = memchr(p, n[0], (size_t)(end - p))) != NULL) {
        if (memcmp(p, n, nn) == 0) return p;
        p++;
    }
    return NULL;
}
