/*
 * template/count_cache.c: per-segment token-count cache (see template.h).
 *
 * Segmentation: the special tokens of the tokenizer (added tokens marked
 * special) are collected once into a set keyed by their bytes, with the
 * distinct lengths and a first-byte filter; the prompt is scanned left to
 * right, the longest special token matching at a position is skipped over,
 * and a cut is made after it when the next byte is not whitespace. Every
 * segment but the first thus begins with text that follows a special token.
 *
 * Cache: open addressing over 64-bit keys (a seeded word-at-a-time hash of
 * the segment with a 64-bit mixer, length folded in), values are counts. Key 0
 * is reserved as "empty". Collisions would miscount silently; with 64-bit
 * keys and a per-cache random seed they are not a practical concern, and the
 * seed keeps clients from aiming at them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

#define SPECIAL_MAX_LEN 256

struct tg_count_cache {
    const tg_tokenizer *tok;
    /* special tokens */
    uint64_t *sp_keys;    /* hash set of special pieces (open addressing) */
    size_t sp_cap;
    size_t lens[64];      /* distinct lengths, descending */
    size_t nlens;
    unsigned char first[256];
    /* counts */
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n, max_entries;
    uint64_t seed;
    int verified;
    size_t add_special_extra; /* count("", ADD_SPECIAL) */
    int have_extra;
    tg_count_cache_stats st;
};

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* 8 bytes per step, each word mixed in with a multiply (seeded). */
static uint64_t hash_bytes(uint64_t seed, const char *p, size_t n) {
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ mix(w + 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t k = 0; i < n; i++, k++) w |= (uint64_t)(unsigned char)p[i] << (8 * k);
    h = mix(h ^ mix(w ^ 0x94d049bb133111ebULL));
    return h ? h : 1;
}

static int set_has(const uint64_t *keys, size_t cap, uint64_t k) {
    for (size_t i = (size_t)k & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (keys[i] == k) return 1;
        if (keys[i] == 0) return 0;
    }
}

static void set_add(uint64_t *keys, size_t cap, uint64_t k) {
    size_t i = (size_t)k & (cap - 1);
    while (keys[i] && keys[i] != k) i = (i + 1) & (cap - 1);
    keys[i] = k;
}

tg_status tg_count_cache_new(const tg_tokenizer *tok, size_t max_entries, tg_count_cache **out, tg_error *err) {
    if (!tok) return tg_error_set(err, TG_EINVAL, "count cache: NULL tokenizer");
    tg_count_cache *c = calloc(1, sizeof *c);
    if (!c) return tg_error_set(err, TG_ENOMEM, "count cache: out of memory");
    c->tok = tok;
    c->max_entries = max_entries ? max_entries : 1u << 20;
    c->seed = mix((uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c);
    uint32_t nv = tg_tokenizer_vocab_size(tok);
    size_t nsp = 0;
    for (uint32_t id = 0; id < nv; id++) nsp += tg_tokenizer_is_special(tok, id) ? 1 : 0;
    c->sp_cap = 16;
    while (c->sp_cap < nsp * 2 + 2) c->sp_cap *= 2;
    c->sp_keys = calloc(c->sp_cap, sizeof *c->sp_keys);
    c->cap = 1024;
    c->keys = calloc(c->cap, sizeof *c->keys);
    c->vals = calloc(c->cap, sizeof *c->vals);
    if (!c->sp_keys || !c->keys || !c->vals) {
        tg_count_cache_free(c);
        return tg_error_set(err, TG_ENOMEM, "count cache: out of memory");
    }
    for (uint32_t id = 0; id < nv; id++) {
        const char *p;
        size_t n;
        if (!tg_tokenizer_is_special(tok, id) || !tg_tokenizer_token_piece(tok, id, &p, &n)) continue;
        if (n == 0 || n > SPECIAL_MAX_LEN) continue;
        set_add(c->sp_keys, c->sp_cap, hash_bytes(c->seed, p, n));
        c->first[(unsigned char)p[0]] = 1;
        size_t j = 0;
        while (j < c->nlens && c->lens[j] != n) j++;
        if (j == c->nlens) {
            if (c->nlens == sizeof c->lens / sizeof c->lens[0]) { c->verified = -1; continue; }
            c->lens[c->nlens++] = n;
        }
    }
    /* descending lengths: longest match first */
    for (size_t i = 1; i < c->nlens; i++)
        for (size_t j = i; j > 0 && c->lens[j - 1] < c->lens[j]; j--) {
            size_t t = c->lens[j]; c->lens[j] = c->lens[j - 1]; c->lens[j - 1] = t;
        }
    if (c->nlens == 0) c->verified = -1;
    *out = c;
    return TG_OK;
}

void tg_count_cache_free(tg_count_cache *c) {
    if (!c) return;
    free(c->sp_keys);
    free(c->keys);
    free(c->vals);
    free(c);
}

void tg_count_cache_stats_get(const tg_count_cache *c, tg_count_cache_stats *out) {
    *out = c->st;
    out->entries = c->n;
    out->segmenting = c->verified;
}

static int lookup(const tg_count_cache *c, uint64_t k, uint32_t *v) {
    for (size_t i = (size_t)k & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        if (c->keys[i] == k) { *v = c->vals[i]; return 1; }
        if (c->keys[i] == 0) return 0;
    }
}

static void insert(tg_count_cache *c, uint64_t k, uint32_t v) {
    if (c->n >= c->max_entries) { /* forget everything */
        memset(c->keys, 0, c->cap * sizeof *c->keys);
        c->n = 0;
    }
    if ((c->n + 1) * 2 > c->cap) {
        size_t cap = c->cap * 2;
        uint64_t *nk = calloc(cap, sizeof *nk);
        uint32_t *nv = calloc(cap, sizeof *nv);
        if (!nk || !nv) { free(nk); free(nv); return; } /* stay as is: a miss next time */
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->keys[i]) continue;
            size_t j = (size_t)c->keys[i] & (cap - 1);
            while (nk[j]) j = (j + 1) & (cap - 1);
            nk[j] = c->keys[i];
            nv[j] = c->vals[i];
        }
        free(c->keys);
        free(c->vals);
        c->keys = nk;
        c->vals = nv;
        c->cap = cap;
    }
    size_t i = (size_t)k & (c->cap - 1);
    while (c->keys[i] && c->keys[i] != k) i = (i + 1) & (c->cap - 1);
    if (!c->keys[i]) c->n++;
    c->keys[i] = k;
    c->vals[i] = v;
}

static int ws(unsigned char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

/* Length of the longest special token at text[i..], or 0. */
static size_t special_at(const tg_count_cache *c, const char *text, size_t len, size_t i) {
    if (!c->first[(unsigned char)text[i]]) return 0;
    for (size_t j = 0; j < c->nlens; j++) {
        size_t L = c->lens[j];
        if (L > len - i) continue;
        if (set_has(c->sp_keys, c->sp_cap, hash_bytes(c->seed, text + i, L))) return L;
    }
    return 0;
}

static tg_status count_segment(tg_count_cache *c, const char *p, size_t n, unsigned flags, size_t *total,
                               tg_error *err) {
    if (n == 0) return TG_OK;
    uint64_t k = hash_bytes(c->seed, p, n);
    uint32_t v;
    if (lookup(c, k, &v)) {
        c->st.hits++;
        *total += v;
        return TG_OK;
    }
    size_t cnt = 0;
    tg_status st = tg_tokenizer_count(c->tok, p, n, flags, &cnt, err);
    if (st) return st;
    c->st.misses++;
    if (cnt <= UINT32_MAX) insert(c, k, (uint32_t)cnt);
    *total += cnt;
    return TG_OK;
}

static tg_status segmented(tg_count_cache *c, const char *text, size_t len, unsigned flags, size_t *count,
                           tg_error *err) {
    unsigned seg_flags = flags & ~(unsigned)TG_ENCODE_ADD_SPECIAL;
    size_t total = 0, start = 0, i = 0;
    tg_status st;
    while (i < len) {
        size_t L = special_at(c, text, len, i);
        if (!L) { i++; continue; }
        i += L;
        if (i < len && ws((unsigned char)text[i])) continue; /* rstrip could reach across */
        if ((st = count_segment(c, text + start, i - start, seg_flags, &total, err))) return st;
        start = i;
    }
    if ((st = count_segment(c, text + start, len - start, seg_flags, &total, err))) return st;
    if (flags & TG_ENCODE_ADD_SPECIAL) {
        if (!c->have_extra) {
            if ((st = tg_tokenizer_count(c->tok, "", 0, TG_ENCODE_ADD_SPECIAL | seg_flags, &c->add_special_extra, err)))
                return st;
            c->have_extra = 1;
        }
        total += c->add_special_extra;
    }
    *count = total;
    return TG_OK;
}

tg_status tg_count_cache_count(tg_count_cache *c, const char *text, size_t len, unsigned flags, size_t *count,
                               tg_error *err) {
    if ((flags & TG_ENCODE_NO_PARSE_SPECIAL) || c->verified < 0) {
        c->st.full_counts++;
        return tg_tokenizer_count(c->tok, text, len, flags, count, err);
    }
    size_t sum = 0;
    tg_status st = segmented(c, text, len, flags, &sum, err);
    if (st) return st;
    if (c->verified == 0) {
        size_t full = 0;
        c->st.full_counts++;
        if ((st = tg_tokenizer_count(c->tok, text, len, flags, &full, err))) return st;
        c->verified = full == sum ? 1 : -1;
        sum = full;
    }
    *count = sum;
    return TG_OK;
}

tg_status tg_chat_count_cached(const tg_chat *c, tg_count_cache *cache, const json_t *request,
                               const tg_chat_options *opt, unsigned flags, size_t *count, tg_error *err) {
    char *prompt = NULL;
    size_t len = 0;
    tg_status st = tg_chat_render(c, request, opt, &prompt, &len, err);
    if (st) return st;
    st = tg_count_cache_count(cache, prompt, len, flags, count, err);
    free(prompt);
    return st;
}
