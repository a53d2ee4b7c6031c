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
 * Segment counts: open addressing over 64-bit keys (a seeded word-at-a-time
 * hash of the segment with a 64-bit mixer, length folded in), values are
 * counts. Key 0 is reserved as "empty". Collisions would miscount silently;
 * with 64-bit keys and a per-cache random seed they are not a practical
 * concern, and the seed keeps clients from aiming at them.
 *
 * Kept prompts (the O(new text) part): the last KEEP_MAX prompts are kept
 * with their cut positions and the running token total at each cut. A new
 * prompt is compared byte for byte with each kept one (same flags); with
 * common prefix P, the last kept cut b with b + Lmax <= P (Lmax: the longest
 * special token) is taken over with its running total, and scanning starts
 * at b. That is exact by construction: every decision of the scan up to the
 * cut at b (which special token matches at i < b, reading text[i..i+Lmax);
 * the whitespace test at b) reads only bytes below P, which the two prompts
 * share, so the new prompt is cut at the same places up to b, its segments
 * there are the same bytes, and the scan state right after a cut is the
 * same as at the start of a text. Nothing about the template is assumed: a
 * template that rewrites earlier turns (Qwen3 drops old reasoning) just
 * shortens P, and the segments after it still hit the segment counts.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "template/chat.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

#define SPECIAL_MAX_LEN 256
#define KEEP_MAX 8                 /* prompts kept for prefix reuse */
#define KEEP_MAX_BYTES (64u << 20) /* their bytes, in all */

/* A prompt counted earlier: its bytes, its cuts, the token total at each. */
typedef struct kept {
    char *text;
    size_t len;
    size_t *cut;   /* cut positions (segment ends), ascending */
    size_t *cum;   /* tokens of text[0..cut[j]), BOS/EOS not included */
    size_t n, cap;
    unsigned flags; /* the segment flags it was counted with */
    uint64_t tick;  /* last use, for eviction */
} kept;

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
    unsigned nfirst;              /* distinct first bytes of special tokens */
    unsigned char first1;         /* that byte when there is one */
    kept keep[KEEP_MAX];
    size_t nkeep, keep_bytes;
    uint64_t tick;
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
    for (unsigned b = 0; b < 256; b++)
        if (c->first[b]) { c->nfirst++; c->first1 = (unsigned char)b; }
    *out = c;
    return TG_OK;
}

static void kept_clear(kept *k) {
    free(k->text);
    free(k->cut);
    free(k->cum);
    memset(k, 0, sizeof *k);
}

void tg_count_cache_free(tg_count_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->nkeep; i++) kept_clear(&c->keep[i]);
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
    for (size_t j = 0; j < c->nlens; j++) {
        size_t L = c->lens[j];
        if (L > len - i) continue;
        if (set_has(c->sp_keys, c->sp_cap, hash_bytes(c->seed, text + i, L))) return L;
    }
    return 0;
}

/* The first position >= i where a special token may start, or len. */
static size_t next_candidate(const tg_count_cache *c, const char *text, size_t len, size_t i) {
    if (i >= len) return len;
    if (c->nfirst == 1) {
        const char *p = memchr(text + i, c->first1, len - i);
        return p ? (size_t)(p - text) : len;
    }
    while (i < len && !c->first[(unsigned char)text[i]]) i++;
    return i;
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

/* Length of the common prefix of a[0..n) and b[0..n): 4 KiB blocks with
 * memcmp, then 64-byte blocks, then bytes. */
static size_t common_prefix(const char *a, const char *b, size_t n) {
    size_t i = 0;
    while (i + 4096 <= n && memcmp(a + i, b + i, 4096) == 0) i += 4096;
    while (i + 64 <= n && memcmp(a + i, b + i, 64) == 0) i += 64;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

/* Cut list of the prompt being counted (grows; on allocation failure the
 * prompt is simply not kept). */
typedef struct cuts {
    size_t *cut, *cum;
    size_t n, cap;
    int failed;
} cuts;

static void cuts_push(cuts *k, size_t pos, size_t total) {
    if (k->failed) return;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        size_t *nc = realloc(k->cut, cap * sizeof *nc);
        if (nc) k->cut = nc;
        size_t *nt = nc ? realloc(k->cum, cap * sizeof *nt) : NULL;
        if (nt) k->cum = nt;
        if (!nc || !nt) { k->failed = 1; return; }
        k->cap = cap;
    }
    k->cut[k->n] = pos;
    k->cum[k->n] = total;
    k->n++;
}

/* The kept prompt sharing the longest prefix with text (same flags), and how
 * many of its cuts can be taken over (see the top comment); NULL if none. */
static kept *best_kept(tg_count_cache *c, const char *text, size_t len, unsigned seg_flags, size_t *ncuts) {
    kept *best = NULL;
    size_t best_n = 0, best_at = 0, lmax = c->lens[0];
    for (size_t i = 0; i < c->nkeep; i++) {
        kept *k = &c->keep[i];
        if (k->flags != seg_flags || k->n == 0) continue;
        size_t p = common_prefix(text, k->text, len < k->len ? len : k->len);
        if (p < lmax) continue;
        /* cuts with cut + lmax <= p: binary search for the count of cut <= p - lmax */
        size_t lo = 0, hi = k->n, lim = p - lmax;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (k->cut[mid] <= lim) lo = mid + 1;
            else hi = mid;
        }
        if (lo > 0 && k->cut[lo - 1] > best_at) { /* the longest take-over wins */
            best = k;
            best_n = lo;
            best_at = k->cut[lo - 1];
        }
    }
    *ncuts = best_n;
    return best;
}

/* Keeps the prompt just counted. When *own is text the buffer is taken (and
 * may move: text is not to be used afterwards). It replaces
 * the kept prompt it continued when it reused at least half of that one (an
 * agent's next turn), else takes a new slot (evicting the least recently
 * used). */
static void keep_prompt(tg_count_cache *c, kept *from, size_t reused, const char *text, size_t len,
                        char **own, cuts *k, unsigned seg_flags) {
    if (k->failed || len > KEEP_MAX_BYTES) return;
    char *t;
    if (own && *own == text) { /* take it, without the render's spare capacity */
        t = realloc(*own, len ? len : 1);
        if (!t) t = *own;
        *own = NULL;
    } else {
        if (!(t = malloc(len ? len : 1))) return;
        memcpy(t, text, len);
    }
    kept *slot = NULL;
    if (from && reused * 2 >= from->len) slot = from;
    else if (c->nkeep < KEEP_MAX) slot = &c->keep[c->nkeep++];
    else {
        slot = &c->keep[0];
        for (size_t i = 1; i < c->nkeep; i++)
            if (c->keep[i].tick < slot->tick) slot = &c->keep[i];
    }
    c->keep_bytes -= slot->len;
    kept_clear(slot);
    while (c->keep_bytes + len > KEEP_MAX_BYTES) { /* drop the oldest others */
        kept *old = NULL;
        for (size_t i = 0; i < c->nkeep; i++)
            if (&c->keep[i] != slot && c->keep[i].text && (!old || c->keep[i].tick < old->tick)) old = &c->keep[i];
        if (!old) break;
        c->keep_bytes -= old->len;
        kept_clear(old);
    }
    slot->text = t;
    slot->len = len;
    slot->cut = k->cut;
    slot->cum = k->cum;
    slot->n = k->n;
    slot->cap = k->cap;
    slot->flags = seg_flags;
    slot->tick = ++c->tick;
    c->keep_bytes += len;
    k->cut = k->cum = NULL;
}

static tg_status segmented(tg_count_cache *c, const char *text, size_t len, unsigned flags, size_t *count,
                           char **own, tg_error *err) {
    unsigned seg_flags = flags & ~(unsigned)TG_ENCODE_ADD_SPECIAL;
    size_t total = 0, start = 0, ncuts = 0;
    tg_status st = TG_OK;
    cuts k = {0};
    kept *from = best_kept(c, text, len, seg_flags, &ncuts);
    if (from) {
        k.cut = malloc((ncuts + 64) * sizeof *k.cut);
        k.cum = malloc((ncuts + 64) * sizeof *k.cum);
        if (!k.cut || !k.cum) {
            free(k.cut);
            free(k.cum);
            k.cut = k.cum = NULL;
            from = NULL;
        } else {
            memcpy(k.cut, from->cut, ncuts * sizeof *k.cut);
            memcpy(k.cum, from->cum, ncuts * sizeof *k.cum);
            k.n = ncuts;
            k.cap = ncuts + 64;
            start = from->cut[ncuts - 1];
            total = from->cum[ncuts - 1];
            from->tick = ++c->tick;
            c->st.prefix_hits++;
            c->st.reused_bytes += start;
        }
    }
    size_t i = start;
    while ((i = next_candidate(c, text, len, i)) < len) {
        size_t L = special_at(c, text, len, i);
        if (!L) { i++; continue; }
        i += L;
        if (i < len && ws((unsigned char)text[i])) continue; /* rstrip could reach across */
        if ((st = count_segment(c, text + start, i - start, seg_flags, &total, err))) goto out;
        cuts_push(&k, i, total);
        start = i;
    }
    if ((st = count_segment(c, text + start, len - start, seg_flags, &total, err))) goto out;
    if (flags & TG_ENCODE_ADD_SPECIAL) {
        if (!c->have_extra) {
            if ((st = tg_tokenizer_count(c->tok, "", 0, TG_ENCODE_ADD_SPECIAL | seg_flags, &c->add_special_extra, err)))
                goto out;
            c->have_extra = 1;
        }
        *count = total + c->add_special_extra;
    } else {
        *count = total;
    }
    keep_prompt(c, from, from ? from->cut[ncuts - 1] : 0, text, len, own, &k, seg_flags);
out:
    free(k.cut);
    free(k.cum);
    return st;
}

/* The count of text; a malloc'd text the caller hands over in *own may be
 * kept (then *own is set to NULL), else it stays the caller's. */
static tg_status cache_count(tg_count_cache *c, const char *text, size_t len, unsigned flags, size_t *count,
                             char **own, tg_error *err) {
    if ((flags & TG_ENCODE_NO_PARSE_SPECIAL) || c->verified < 0) {
        c->st.full_counts++;
        return tg_tokenizer_count(c->tok, text, len, flags, count, err);
    }
    size_t sum = 0;
    /* the first prompt is counted whole below as well: the cache copies it
     * rather than take the caller's buffer */
    tg_status st = segmented(c, text, len, flags, &sum, c->verified == 1 ? own : NULL, err);
    if (st) return st;
    if (c->verified == 0) {
        size_t full = 0;
        c->st.full_counts++;
        if ((st = tg_tokenizer_count(c->tok, text, len, flags, &full, err))) return st;
        c->verified = full == sum ? 1 : -1;
        if (c->verified < 0) {
            for (size_t i = 0; i < c->nkeep; i++) kept_clear(&c->keep[i]);
            c->nkeep = 0;
            c->keep_bytes = 0;
        }
        sum = full;
    }
    *count = sum;
    return TG_OK;
}

tg_status tg_count_cache_count(tg_count_cache *c, const char *text, size_t len, unsigned flags, size_t *count,
                               tg_error *err) {
    return cache_count(c, text, len, flags, count, NULL, err);
}

tg_status tg_chat_count_cached(const tg_chat *c, tg_count_cache *cache, const json_t *request,
                               const tg_chat_options *opt, unsigned flags, size_t *count, tg_error *err) {
    char *prompt = NULL;
    size_t len = 0;
    tg_chat_options o;
    tg__j_chat_count_options(opt, cache->tok, flags, &o);
    tg_status st = tg_chat_render(c, request, &o, &prompt, &len, err);
    if (st) return st;
    st = cache_count(cache, prompt, len, flags, count, &prompt, err);
    free(prompt);
    return st;
}

tg_status tg_chat_count_body_cached(const tg_chat *c, tg_count_cache *cache, const char *body, size_t len,
                                    const tg_chat_options *opt, unsigned flags, size_t *count, tg_error *err) {
    char *prompt = NULL;
    size_t plen = 0;
    tg_chat_options o;
    tg__j_chat_count_options(opt, cache->tok, flags, &o);
    tg_status st = tg_chat_render_body(c, body, len, &o, &prompt, &plen, err);
    if (st) return st;
    st = cache_count(cache, prompt, plen, flags, count, &prompt, err);
    free(prompt);
    return st;
}
