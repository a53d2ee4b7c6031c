/*
 * bpe.c: the BPE model of HF tokenizers (models/bpe), exact.
 *
 * A pre-token is split into symbols: one per char (per byte in byte_mode,
 * where the vocabulary is kept as raw bytes because the ByteLevel
 * pre-tokenizer maps each byte to one char), each with
 * continuing_subword_prefix when not first and end_of_word_suffix when last.
 * A symbol missing from the vocabulary becomes its "<0xNN>" byte tokens when
 * byte_fallback is on and all exist, else unk (consecutive unks fused into one
 * when fuse_unk), else it is dropped, as HF's merge_word does.
 *
 * Then merges apply: always the adjacent pair of lowest rank, leftmost among
 * equals, until none applies (HF Word::merge_all). Short words use a direct
 * scan; long ones a binary heap keyed (rank, position) with lazy deletion, so
 * a 1 MB pre-token costs O(n log n). Both orders are the same total order, so
 * the results are identical.
 *
 * ignore_merges (Llama-3): a pre-token that is itself in the vocabulary maps
 * to that id directly. A per-call cache maps recent short pre-tokens to their
 * ids (bounded: cleared when full).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "util/utf8.h"

#define MERGE_EMPTY UINT64_MAX
#define NAIVE_MAX 48           /* symbols: direct scan below, heap above */
#define CACHE_SLOTS (1u << 16)
#define CACHE_MAX_ENTRIES (1u << 15)
#define CACHE_MAX_KEY 96

typedef struct sym {
    uint32_t id;
    int32_t prev, next;
    uint32_t len;   /* 0: merged away */
} sym;

typedef struct heap_ent {
    uint32_t rank;
    uint32_t pos;
    uint32_t new_id;
} heap_ent;

typedef struct cache_slot {
    uint64_t hash;
    uint32_t key_off, ids_off;
    uint16_t key_len, n_ids; /* n_ids == 0xFFFF: empty slot */
} cache_slot;

struct tg__bpe_scratch {
    sym *syms;
    size_t syms_cap;
    heap_ent *heap;
    size_t heap_cap;
    cache_slot *cache;
    size_t cache_entries;
    tgx_buf cache_keys;
    uint32_t *cache_ids;
    size_t cache_ids_len, cache_ids_cap;
    tgx_buf tmp;
};

static inline uint64_t pair_key(uint32_t a, uint32_t b) { return ((uint64_t)a << 32) | b; }

static inline const tg__merge_slot *merge_find(const tg__bpe *b, uint32_t l, uint32_t r) {
    uint64_t k = pair_key(l, r);
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & b->merge_mask;
    for (;;) {
        const tg__merge_slot *s = &b->merges[i];
        if (s->key == k) return s;
        if (s->key == MERGE_EMPTY) return NULL;
        i = (i + 1) & b->merge_mask;
    }
}

static void merge_put(tg__bpe *b, uint32_t l, uint32_t r, uint32_t rank, uint32_t new_id) {
    uint64_t k = pair_key(l, r);
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & b->merge_mask;
    for (;;) {
        tg__merge_slot *s = &b->merges[i];
        if (s->key == k || s->key == MERGE_EMPTY) {
            /* HF collects merges into a HashMap: a repeated pair keeps the later rank */
            if (s->key == MERGE_EMPTY) b->n_merges++;
            s->key = k;
            s->rank = rank;
            s->new_id = new_id;
            return;
        }
        i = (i + 1) & b->merge_mask;
    }
}

static char *dup_bytes(tg__bytes s, size_t *len) {
    char *p = malloc(s.n + 1);
    if (!p) return NULL;
    if (s.n) memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    *len = s.n;
    return p;
}

/* Printable excerpt of a token for error messages. */
static const char *excerpt(const char *s, size_t n, char buf[64]) {
    size_t k = n < 40 ? n : 40;
    size_t o = 0;
    for (size_t i = 0; i < k && o < 60; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) buf[o++] = (char)c;
        else if (o + 4 < 60) { snprintf(buf + o, 5, "\\x%02X", c); o += 4; }
    }
    buf[o] = '\0';
    if (n > k && o + 3 < 64) { memcpy(buf + o, "...", 4); }
    return buf;
}

tg_status tg__bpe_build(tg__bpe *b, const tg__bpe_spec *spec, int byte_mode, tg_error *err) {
    memset(b, 0, sizeof *b);
    b->unk_id = TG__NO_ID;
    tg_status st;
    char eb[64];
    if (spec->n_vocab > TG__MAX_VOCAB)
        return tg_error_set(err, TG_ELIMIT, "vocabulary of %zu tokens exceeds the %u limit",
                            spec->n_vocab, (unsigned)TG__MAX_VOCAB);
    if (spec->n_merges > TG__MAX_MERGES)
        return tg_error_set(err, TG_ELIMIT, "%zu merges exceed the %u limit", spec->n_merges,
                            (unsigned)TG__MAX_MERGES);
    uint32_t nv = (uint32_t)spec->n_vocab;
    size_t pool = 0;
    for (size_t i = 0; i < spec->n_vocab; i++)
        if (spec->vocab[i].p) pool += spec->vocab[i].n;
    if ((st = tg__strtab_init(&b->tokens, nv, pool + 1))) goto oom;
    for (uint32_t i = 0; i < nv; i++) {
        if (!spec->vocab[i].p) continue;
        if ((st = tg__strtab_set(&b->tokens, i, spec->vocab[i].p, spec->vocab[i].n, err))) goto fail;
    }
    if ((st = tg__strtab_index(&b->tokens, 1, err))) goto fail;
    b->byte_mode = byte_mode;
    if ((st = tg__strtab_init(&b->model, nv, pool + 1))) goto oom;
    if (byte_mode) {
        char *tmp = malloc(TG__MAX_TOKEN_BYTES + 1);
        if (!tmp) goto oom;
        for (uint32_t i = 0; i < nv; i++) {
            if (!tg__strtab_has(&b->tokens, i)) continue;
            tg__bytes s = tg__strtab_get(&b->tokens, i);
            size_t l;
            /* a token that is not byte-level text can never come out of BPE here */
            if (!tg__bytelevel_unmap(s.p, s.n, tmp, &l)) continue;
            if ((st = tg__strtab_set(&b->model, i, tmp, l, err))) { free(tmp); goto fail; }
        }
        free(tmp);
    } else {
        for (uint32_t i = 0; i < nv; i++) {
            if (!tg__strtab_has(&b->tokens, i)) continue;
            tg__bytes s = tg__strtab_get(&b->tokens, i);
            if ((st = tg__strtab_set(&b->model, i, s.p, s.n, err))) goto fail;
        }
    }
    if ((st = tg__strtab_index(&b->model, 1, err))) goto fail;

    b->byte_fallback = spec->byte_fallback;
    b->fuse_unk = spec->fuse_unk;
    b->ignore_merges = spec->ignore_merges;
    if (spec->continuing_subword_prefix.p && spec->continuing_subword_prefix.n) {
        b->cont_prefix = dup_bytes(spec->continuing_subword_prefix, &b->cont_prefix_len);
        if (!b->cont_prefix) goto oom;
    }
    if (spec->end_of_word_suffix.p && spec->end_of_word_suffix.n) {
        b->eow_suffix = dup_bytes(spec->end_of_word_suffix, &b->eow_suffix_len);
        if (!b->eow_suffix) goto oom;
    }
    if (byte_mode && (b->cont_prefix || b->eow_suffix || b->byte_fallback)) {
        st = tg_error_set(err, TG_EUNSUPPORTED,
                          "BPE with a ByteLevel pre-tokenizer and %s is not supported",
                          b->byte_fallback ? "byte_fallback" : "a subword prefix/suffix");
        goto fail;
    }
    if (spec->unk_token.p) {
        b->unk_id = tg__strtab_find(&b->tokens, spec->unk_token.p, spec->unk_token.n);
        if (b->unk_id == TG__NO_ID) {
            st = tg_error_set(err, TG_ECORRUPT, "unk_token '%s' is not in the vocabulary",
                              excerpt(spec->unk_token.p, spec->unk_token.n, eb));
            goto fail;
        }
    }
    for (int i = 0; i < 256; i++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", i);
        b->fallback_id[i] = tg__strtab_find(&b->tokens, name, 6);
        char c = (char)(uint8_t)i;
        b->byte_id[i] = byte_mode ? tg__strtab_find(&b->model, &c, 1) : TG__NO_ID;
    }

    size_t slots = 16;
    while (slots < spec->n_merges * 2) slots *= 2;
    b->merges = malloc(slots * sizeof *b->merges);
    if (!b->merges) goto oom;
    for (size_t i = 0; i < slots; i++) b->merges[i].key = MERGE_EMPTY;
    b->merge_mask = slots - 1;
    char *joined = malloc(2 * TG__MAX_TOKEN_BYTES + 1);
    if (!joined) goto oom;
    for (size_t i = 0; i < spec->n_merges; i++) {
        tg__bytes l = spec->merge_left[i], r = spec->merge_right[i];
        uint32_t li = tg__strtab_find(&b->tokens, l.p, l.n);
        uint32_t ri = tg__strtab_find(&b->tokens, r.p, r.n);
        if (li == TG__NO_ID || ri == TG__NO_ID) {
            tg__bytes m = li == TG__NO_ID ? l : r;
            st = tg_error_set(err, TG_ECORRUPT, "merge %zu: token '%s' is not in the vocabulary",
                              i, excerpt(m.p, m.n, eb));
            free(joined);
            goto fail;
        }
        if (r.n < b->cont_prefix_len || l.n > TG__MAX_TOKEN_BYTES || r.n > TG__MAX_TOKEN_BYTES) {
            st = tg_error_set(err, TG_ECORRUPT, "merge %zu: right token shorter than the prefix", i);
            free(joined);
            goto fail;
        }
        memcpy(joined, l.p, l.n);
        memcpy(joined + l.n, r.p + b->cont_prefix_len, r.n - b->cont_prefix_len);
        size_t jl = l.n + r.n - b->cont_prefix_len;
        uint32_t ni = tg__strtab_find(&b->tokens, joined, jl);
        if (ni == TG__NO_ID) {
            st = tg_error_set(err, TG_ECORRUPT,
                              "merge %zu: merged token '%s' is not in the vocabulary", i,
                              excerpt(joined, jl, eb));
            free(joined);
            goto fail;
        }
        merge_put(b, li, ri, (uint32_t)i, ni);
    }
    free(joined);
    return TG_OK;
oom:
    st = tg_error_set(err, TG_ENOMEM, "out of memory building the BPE model");
fail:
    tg__bpe_free(b);
    return st;
}

void tg__bpe_free(tg__bpe *b) {
    tg__strtab_free(&b->tokens);
    tg__strtab_free(&b->model);
    free(b->merges);
    free(b->cont_prefix);
    free(b->eow_suffix);
    memset(b, 0, sizeof *b);
}

tg__bpe_scratch *tg__bpe_scratch_new(void) {
    tg__bpe_scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    tgx_buf_init(&s->cache_keys, (size_t)1 << 30);
    tgx_buf_init(&s->tmp, (size_t)1 << 30);
    return s;
}

void tg__bpe_scratch_free(tg__bpe_scratch *s) {
    if (!s) return;
    free(s->syms);
    free(s->heap);
    free(s->cache);
    free(s->cache_ids);
    tgx_buf_free(&s->cache_keys);
    tgx_buf_free(&s->tmp);
    free(s);
}

static tg_status push_ids(tg_tokens *out, const uint32_t *ids, size_t n) {
    if (out->len + n > out->cap) {
        size_t cap = out->cap ? out->cap : 64;
        while (cap < out->len + n) cap *= 2;
        uint32_t *p = realloc(out->ids, cap * sizeof *p);
        if (!p) return TG_ENOMEM;
        out->ids = p;
        out->cap = cap;
    }
    memcpy(out->ids + out->len, ids, n * sizeof *ids);
    out->len += n;
    return TG_OK;
}

static inline tg_status push_id(tg_tokens *out, uint32_t id) {
    if (out->len < out->cap) {
        out->ids[out->len++] = id;
        return TG_OK;
    }
    return push_ids(out, &id, 1);
}

static tg_status grow_syms(tg__bpe_scratch *s, size_t need) {
    if (need <= s->syms_cap) return TG_OK;
    size_t cap = s->syms_cap ? s->syms_cap : 64;
    while (cap < need) cap *= 2;
    sym *p = realloc(s->syms, cap * sizeof *p);
    if (!p) return TG_ENOMEM;
    s->syms = p;
    s->syms_cap = cap;
    return TG_OK;
}

/* Builds the initial symbols (HF merge_word); returns the count. */
static tg_status initial_symbols(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n,
                                 size_t *count) {
    tg_status st;
    if ((st = grow_syms(s, n + 1))) return st;
    size_t k = 0;
    uint32_t unk_len = 0;
    int have_unk = 0;
#define ADD_SYM(ID, LEN) do { \
        if (k >= s->syms_cap && (st = grow_syms(s, k + 1))) return st; \
        s->syms[k].id = (ID); s->syms[k].len = (LEN); \
        s->syms[k].prev = (int32_t)k - 1; s->syms[k].next = (int32_t)k + 1; k++; } while (0)
    if (b->byte_mode) {
        for (size_t i = 0; i < n; i++) {
            uint32_t id = b->byte_id[p[i]];
            if (id != TG__NO_ID) {
                if (have_unk) { ADD_SYM(b->unk_id, unk_len); have_unk = 0; }
                ADD_SYM(id, 1);
            } else if (b->unk_id != TG__NO_ID) {
                if (have_unk && b->fuse_unk) unk_len += 1;
                else {
                    if (have_unk) ADD_SYM(b->unk_id, unk_len);
                    have_unk = 1;
                    unk_len = 1;
                }
            }
        }
    } else {
        tgx_buf *t = &s->tmp;
        size_t i = 0;
        while (i < n) {
            size_t cl = tgx_utf8_seqlen(p[i]);
            if (cl == 0 || i + cl > n) cl = 1; /* input is valid UTF-8; defensive */
            int first = i == 0, last = i + cl == n;
            const char *sp = (const char *)p + i;
            size_t sl = cl;
            if ((!first && b->cont_prefix) || (last && b->eow_suffix)) {
                tgx_buf_reset(t);
                if (!first && b->cont_prefix &&
                    (st = tgx_buf_append(t, b->cont_prefix, b->cont_prefix_len))) return st;
                if ((st = tgx_buf_append(t, sp, cl))) return st;
                if (last && b->eow_suffix &&
                    (st = tgx_buf_append(t, b->eow_suffix, b->eow_suffix_len))) return st;
                sp = t->data;
                sl = t->len;
            }
            uint32_t id = tg__strtab_find(&b->model, sp, sl);
            if (id != TG__NO_ID) {
                if (have_unk) { ADD_SYM(b->unk_id, unk_len); have_unk = 0; }
                ADD_SYM(id, (uint32_t)cl);
            } else {
                int done = 0;
                if (b->byte_fallback) {
                    int all = 1;
                    for (size_t j = 0; j < sl; j++)
                        if (b->fallback_id[(uint8_t)sp[j]] == TG__NO_ID) { all = 0; break; }
                    if (all) {
                        /* HF pushes fallback bytes without flushing a pending unk first */
                        for (size_t j = 0; j < sl; j++) ADD_SYM(b->fallback_id[(uint8_t)sp[j]], 1);
                        done = 1;
                    }
                }
                if (!done && b->unk_id != TG__NO_ID) {
                    if (have_unk && b->fuse_unk) unk_len += (uint32_t)cl;
                    else {
                        if (have_unk) ADD_SYM(b->unk_id, unk_len);
                        have_unk = 1;
                        unk_len = (uint32_t)cl;
                    }
                }
            }
            i += cl;
        }
    }
    if (have_unk) ADD_SYM(b->unk_id, unk_len);
#undef ADD_SYM
    if (k) s->syms[k - 1].next = -1;
    *count = k;
    return TG_OK;
}

static inline int heap_less(const heap_ent *a, const heap_ent *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(heap_ent *h, size_t *n, heap_ent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t par = (i - 1) / 2;
        if (!heap_less(&e, &h[par])) break;
        h[i] = h[par];
        i = par;
    }
    h[i] = e;
}

static heap_ent heap_pop(heap_ent *h, size_t *n) {
    heap_ent top = h[0];
    heap_ent last = h[--(*n)];
    size_t i = 0, cnt = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= cnt) break;
        if (c + 1 < cnt && heap_less(&h[c + 1], &h[c])) c++;
        if (!heap_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (cnt) h[i] = last;
    return top;
}

static tg_status merge_heap(const tg__bpe *b, tg__bpe_scratch *s, size_t k) {
    sym *y = s->syms;
    /* each merge pushes at most 2 entries; n-1 initial + 2 per merge */
    size_t need = 3 * k + 4;
    if (need > s->heap_cap) {
        heap_ent *p = realloc(s->heap, need * sizeof *p);
        if (!p) return TG_ENOMEM;
        s->heap = p;
        s->heap_cap = need;
    }
    heap_ent *h = s->heap;
    size_t hn = 0;
    for (size_t i = 0; i + 1 < k; i++) {
        const tg__merge_slot *m = merge_find(b, y[i].id, y[i + 1].id);
        if (m) heap_push(h, &hn, (heap_ent){m->rank, (uint32_t)i, m->new_id});
    }
    while (hn) {
        heap_ent top = heap_pop(h, &hn);
        sym *cur = &y[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        sym *right = &y[cur->next];
        const tg__merge_slot *m = merge_find(b, cur->id, right->id);
        if (!m || m->new_id != top.new_id) continue;
        cur->id = top.new_id;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0) y[cur->next].prev = (int32_t)top.pos;
        if (cur->prev >= 0) {
            const tg__merge_slot *pm = merge_find(b, y[cur->prev].id, cur->id);
            if (pm) heap_push(h, &hn, (heap_ent){pm->rank, (uint32_t)cur->prev, pm->new_id});
        }
        if (cur->next >= 0) {
            const tg__merge_slot *nm = merge_find(b, cur->id, y[cur->next].id);
            if (nm) heap_push(h, &hn, (heap_ent){nm->rank, top.pos, nm->new_id});
        }
    }
    return TG_OK;
}

/* Direct scan for short words: same (rank, position) order as the heap. */
static void merge_naive(const tg__bpe *b, tg__bpe_scratch *s, size_t k) {
    sym *y = s->syms;
    uint32_t rank[NAIVE_MAX], nid[NAIVE_MAX];
    /* rank[i]: rank of the pair starting at live symbol i (UINT32_MAX none) */
    for (size_t i = 0; i < k; i++) {
        rank[i] = UINT32_MAX;
        if (i + 1 < k) {
            const tg__merge_slot *m = merge_find(b, y[i].id, y[i + 1].id);
            if (m) { rank[i] = m->rank; nid[i] = m->new_id; }
        }
    }
    for (;;) {
        uint32_t best = UINT32_MAX;
        int32_t bi = -1;
        for (int32_t i = 0; i >= 0; i = y[i].next)
            if (rank[i] < best) { best = rank[i]; bi = i; }
        if (bi < 0) break;
        sym *cur = &y[bi];
        sym *right = &y[cur->next];
        cur->id = nid[bi];
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0) y[cur->next].prev = bi;
        rank[bi] = UINT32_MAX;
        if (cur->next >= 0) {
            const tg__merge_slot *m = merge_find(b, cur->id, y[cur->next].id);
            if (m) { rank[bi] = m->rank; nid[bi] = m->new_id; }
        }
        if (cur->prev >= 0) {
            int32_t pi = cur->prev;
            rank[pi] = UINT32_MAX;
            const tg__merge_slot *m = merge_find(b, y[pi].id, cur->id);
            if (m) { rank[pi] = m->rank; nid[pi] = m->new_id; }
        }
    }
}

static tg_status bpe_word(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n,
                          tg_tokens *out) {
    size_t k;
    tg_status st = initial_symbols(b, s, p, n, &k);
    if (st) return st;
    if (k == 0) return TG_OK;
    if (k <= NAIVE_MAX) merge_naive(b, s, k);
    else if ((st = merge_heap(b, s, k))) return st;
    for (int32_t i = 0; i >= 0; i = s->syms[i].next)
        if ((st = push_id(out, s->syms[i].id))) return st;
    return TG_OK;
}

tg_status tg__bpe_encode(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n,
                         tg_tokens *out, tg_error *err) {
    tg_status st;
    if (n == 0) return TG_OK;
    if (b->ignore_merges) {
        uint32_t id = tg__strtab_find(&b->model, (const char *)p, n);
        if (id != TG__NO_ID) {
            if ((st = push_id(out, id))) goto fail;
            return TG_OK;
        }
    }
    if (n == 1 && b->byte_mode && b->byte_id[p[0]] != TG__NO_ID)
        return push_id(out, b->byte_id[p[0]]) ? tg_error_set(err, TG_ENOMEM, "out of memory") : TG_OK;
    if (n > CACHE_MAX_KEY) {
        if ((st = bpe_word(b, s, p, n, out))) goto fail;
        return TG_OK;
    }
    if (!s->cache) {
        s->cache = malloc(CACHE_SLOTS * sizeof *s->cache);
        if (!s->cache) { st = TG_ENOMEM; goto fail; }
        for (size_t i = 0; i < CACHE_SLOTS; i++) s->cache[i].n_ids = 0xFFFF;
    }
    uint64_t h = tg__hash_bytes(p, n);
    size_t i = (size_t)h & (CACHE_SLOTS - 1);
    for (;;) {
        cache_slot *c = &s->cache[i];
        if (c->n_ids == 0xFFFF) break;
        if (c->hash == h && c->key_len == n && memcmp(s->cache_keys.data + c->key_off, p, n) == 0) {
            if ((st = push_ids(out, s->cache_ids + c->ids_off, c->n_ids))) goto fail;
            return TG_OK;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    size_t before = out->len;
    if ((st = bpe_word(b, s, p, n, out))) goto fail;
    size_t got = out->len - before;
    if (got >= 0xFFFF) return TG_OK;
    if (s->cache_entries >= CACHE_MAX_ENTRIES) {
        for (size_t j = 0; j < CACHE_SLOTS; j++) s->cache[j].n_ids = 0xFFFF;
        s->cache_entries = 0;
        tgx_buf_reset(&s->cache_keys);
        s->cache_ids_len = 0;
        i = (size_t)h & (CACHE_SLOTS - 1);
    }
    if (s->cache_ids_len + got > s->cache_ids_cap) {
        size_t cap = s->cache_ids_cap ? s->cache_ids_cap * 2 : 4096;
        while (cap < s->cache_ids_len + got) cap *= 2;
        uint32_t *np = realloc(s->cache_ids, cap * sizeof *np);
        if (!np) return TG_OK; /* caching is optional */
        s->cache_ids = np;
        s->cache_ids_cap = cap;
    }
    size_t key_off = s->cache_keys.len;
    if (tgx_buf_append(&s->cache_keys, p, n)) return TG_OK;
    memcpy(s->cache_ids + s->cache_ids_len, out->ids + before, got * sizeof(uint32_t));
    cache_slot *c = &s->cache[i];
    c->hash = h;
    c->key_off = (uint32_t)key_off;
    c->key_len = (uint16_t)n;
    c->ids_off = (uint32_t)s->cache_ids_len;
    c->n_ids = (uint16_t)got;
    s->cache_ids_len += got;
    s->cache_entries++;
    return TG_OK;
fail:
    return tg_error_set(err, st, "BPE: %s", tg_status_str(st));
}
