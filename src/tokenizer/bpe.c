/*
 * bpe.c: the BPE model of HF tokenizers (models/bpe), exact.
 *
 * A pre-token is split into symbols: one per char (per byte in byte_mode:
 * pieces arrive as raw bytes, each standing for its byte-level char, whose
 * ids are precomputed in byte_id[]), each with
 * continuing_subword_prefix when not first and end_of_word_suffix when last.
 * A symbol missing from the vocabulary becomes its "<0xNN>" byte tokens when
 * byte_fallback is on and all exist, else unk (consecutive unks fused into one
 * when fuse_unk), else it is dropped, as HF's merge_word does.
 *
 * Then merges apply: always the adjacent pair of lowest rank, leftmost among
 * equals, until none applies (HF Word::merge_all). Short words use a direct
 * scan; long ones a binary heap keyed (rank, position) with lazy deletion, so
 * a 1 MB pre-token costs O(n log n), and from 1024 symbols rank buckets (see
 * there). All apply the same total order, so the results are identical.
 * Long words that are runs of one symbol or one unit repeated are merged in
 * compressed form first (bpe_runs.c; bpe_core.h holds what the two files
 * share).
 *
 * ignore_merges (Llama-3): a pre-token that is itself in the vocabulary maps
 * to that id directly. Pre-tokens are looked up first in the tokenizer's
 * shared cache (word_cache.h: short words, across calls and threads), then in
 * a per-call cache (up to CACHE_MAX_KEY bytes; bounded: cleared when full).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/bpe_core.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/word_cache.h"
#include "util/utf8.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TG_LE 1
#else
#define TG_LE 0
#endif

#define NAIVE_MAX 48           /* symbols: direct scan below, heap above */
#define CACHE_SLOTS (1u << 16) /* the most slots; the table starts at CACHE_SLOTS_MIN */
#define CACHE_SLOTS_MIN 64u     /* and doubles at half full: a small call costs no big table */
#define CACHE_MAX_ENTRIES (1u << 15)
#define CACHE_MAX_KEY 480
#define MERGE_BATCH 64
#define WCACHE_SLOTS_LOG2 18 /* the shared pre-token cache: 256K slots of 64 bytes */
#define WCACHE_BIG_LOG2 13   /* and for longer pre-tokens 8K slots of 512 bytes */
#define WCACHE_SMALL_KEY 40  /* the key length from which a pre-token goes to the big one */
#define WCACHE_TINY_LOG2 18  /* keys of 1..8 bytes with 1..4 ids: 256K slots of 32 bytes (word_cache.h) */

typedef struct cache_slot {
    uint64_t hash;
    uint32_t key_off, ids_off;
    uint16_t key_len, n_ids; /* n_ids == 0xFFFF: empty slot */
} cache_slot;

struct tg__bpe_scratch {
    sym *syms;
    size_t syms_cap;
    uint64_t *heap;
    struct mcache_ent *mcache;
    uint64_t *rbits; /* merge_buckets' bitmap of ranks, all zero between words */
    size_t rbits_n;
    size_t heap_cap;
    cache_slot *cache;
    size_t cache_mask; /* slots - 1 */
    size_t cache_entries;
    tgx_buf cache_keys;
    uint32_t *cache_ids;
    size_t cache_ids_len, cache_ids_cap;
    tgx_buf tmp;
};

static void merge_put(tg__bpe *b, uint32_t l, uint32_t r, uint32_t rank, uint32_t new_id) {
    uint64_t k = pair_key(l, r);
    size_t i = merge_home(b, k);
    k++;
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

/* Merge i of spec as its left and right strings. */
static inline void merge_strings(const tg__bpe_spec *spec, size_t i, tg__bytes *l, tg__bytes *r) {
    if (!spec->merge_refs) {
        *l = spec->merge_left[i];
        *r = spec->merge_right[i];
        return;
    }
    const tg__merge_ref *m = &spec->merge_refs[i];
    l->p = (m->l & TG__MERGE_POOL ? spec->merge_pool : spec->merge_src) + (m->l & ~TG__MERGE_POOL);
    l->n = m->ln;
    r->p = (m->r & TG__MERGE_POOL ? spec->merge_pool : spec->merge_src) + (m->r & ~TG__MERGE_POOL);
    r->n = m->rn;
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

/* Enters every merge of spec into b->merges (rank = index; a repeated pair
 * keeps the later rank, as HF's HashMap does). Merges go in batches of
 * MERGE_BATCH: the ids of their left and right tokens by one batched lookup;
 * the merged token is usually the id after the previous merge's (vocabularies
 * list merge results in merge order), checked by a direct compare, and the
 * rest of the batch's merged tokens are joined and looked up in one more
 * batch. */
static tg_status resolve_merges(tg__bpe *b, const tg__bpe_spec *spec, tg_error *err) {
    const tg__strtab *lt = &b->tokens;
    size_t rp = b->cont_prefix_len;
    char eb[64];
    tg_status st = TG_OK;
    uint32_t ids[2 * MERGE_BATCH], nid[MERGE_BATCH], jid[MERGE_BATCH];
    tg__bytes keys[2 * MERGE_BATCH], joined[MERGE_BATCH];
    size_t joff[MERGE_BATCH], jat[MERGE_BATCH];
    tgx_buf jb; /* this batch's joined strings */
    tgx_buf_init(&jb, (size_t)1 << 30);
    uint32_t prev_new = TG__NO_ID;
    for (size_t base = 0; base < spec->n_merges; base += MERGE_BATCH) {
        size_t cnt = spec->n_merges - base < MERGE_BATCH ? spec->n_merges - base : MERGE_BATCH;
        for (size_t k = 0; k < cnt; k++) merge_strings(spec, base + k, &keys[2 * k], &keys[2 * k + 1]);
        tg__strtab_find_batch(lt, keys, 2 * cnt, ids);
        for (size_t k = 0; k < cnt; k++) /* the slots merge_put writes below: early, their misses overlap */
            __builtin_prefetch(&b->merges[merge_home(b, pair_key(ids[2 * k], ids[2 * k + 1]))], 1);
        tgx_buf_reset(&jb);
        size_t nj = 0;
        for (size_t k = 0; k < cnt; k++) {
            size_t i = base + k;
            tg__bytes l = keys[2 * k], r = keys[2 * k + 1];
            if (ids[2 * k] == TG__NO_ID || ids[2 * k + 1] == TG__NO_ID) {
                tg__bytes m = ids[2 * k] == TG__NO_ID ? l : r;
                st = tg_error_set(err, TG_ECORRUPT, "merge %zu: token '%s' is not in the vocabulary", i,
                                  excerpt(m.p, m.n, eb));
                goto out;
            }
            if (r.n < rp || l.n > TG__MAX_TOKEN_BYTES || r.n > TG__MAX_TOKEN_BYTES) {
                st = tg_error_set(err, TG_ECORRUPT, "merge %zu: right token shorter than the prefix", i);
                goto out;
            }
            size_t jl = l.n + r.n - rp;
            uint32_t g = prev_new + 1; /* prev_new is the previous merge's, or a guess */
            nid[k] = TG__NO_ID;
            if (g < lt->count && lt->ent[g].len == jl) {
                const char *gs = lt->pool + lt->ent[g].off;
                if (tg__bytes_eq(gs, l.p, l.n) && tg__bytes_eq(gs + l.n, r.p + rp, r.n - rp)) nid[k] = g;
            }
            if (nid[k] == TG__NO_ID) {
                joff[nj] = jb.len;
                jat[nj] = k;
                if (tgx_buf_append(&jb, l.p, l.n) || tgx_buf_append(&jb, r.p + rp, r.n - rp)) {
                    st = tg_error_set(err, TG_ENOMEM, "out of memory building the BPE model");
                    goto out;
                }
                joined[nj].n = jl;
                nj++;
                prev_new = TG__NO_ID - 1; /* unknown until the lookup: guess the id after it wrong */
            } else {
                prev_new = g;
            }
        }
        if (nj) {
            for (size_t j = 0; j < nj; j++) joined[j].p = jb.data + joff[j];
            tg__strtab_find_batch(lt, joined, nj, jid);
            for (size_t j = 0; j < nj; j++) {
                if (jid[j] == TG__NO_ID) {
                    st = tg_error_set(err, TG_ECORRUPT, "merge %zu: merged token '%s' is not in the vocabulary",
                                      base + jat[j], excerpt(joined[j].p, joined[j].n, eb));
                    goto out;
                }
                nid[jat[j]] = jid[j];
            }
            prev_new = nid[cnt - 1];
        }
        for (size_t k = 0; k < cnt; k++) merge_put(b, ids[2 * k], ids[2 * k + 1], (uint32_t)(base + k), nid[k]);
    }
out:
    tgx_buf_free(&jb);
    return st;
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
    if (spec->tokens) {
        b->tokens = *spec->tokens; /* taken over */
        memset(spec->tokens, 0, sizeof *spec->tokens);
    } else {
        uint32_t nv = (uint32_t)spec->n_vocab;
        size_t pool = 0;
        for (size_t i = 0; i < spec->n_vocab; i++)
            if (spec->vocab[i].p) pool += spec->vocab[i].n;
        if (tg__strtab_init(&b->tokens, nv, pool + 1)) goto oom; /* fails only for memory */
        for (uint32_t i = 0; i < nv; i++) {
            if (!spec->vocab[i].p) continue;
            if ((st = tg__strtab_set(&b->tokens, i, spec->vocab[i].p, spec->vocab[i].n, err))) goto fail;
        }
    }
    b->byte_mode = byte_mode;
    /* one index, over the strings as written; in byte mode the model's raw
     * bytes are mapped to byte-level text where a lookup is needed (the 256
     * single bytes here, whole pre-tokens for ignore_merges) */
    if (!b->tokens.slots && (st = tg__strtab_index(&b->tokens, 1, err))) goto fail; /* json_scan may have built it */
    b->mt = &b->tokens;
    for (uint32_t i = 0; i < b->tokens.count; i++) {
        uint32_t len = b->tokens.ent[i].len;
        if (len != UINT32_MAX && len > b->longest) b->longest = len;
    }

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
        b->unk_id = tg__bpe_find_token(b, spec->unk_token.p, spec->unk_token.n);
        if (b->unk_id == TG__NO_ID) {
            st = tg_error_set(err, TG_ECORRUPT, "unk_token '%s' is not in the vocabulary",
                              excerpt(spec->unk_token.p, spec->unk_token.n, eb));
            goto fail;
        }
    }
    for (int i = 0; i < 256; i++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", i);
        b->fallback_id[i] = tg__bpe_find_token(b, name, 6);
        char c[4];
        size_t cl = tgx_utf8_encode(tg__bytelevel_char((uint8_t)i), c);
        b->byte_id[i] = byte_mode ? tg__strtab_find(&b->tokens, c, cl) : TG__NO_ID;
        if (i < 128) {
            char a = (char)i;
            b->ascii_id[i] = tg__strtab_find(&b->tokens, &a, 1);
        }
    }

    size_t slots = 16;
    while (slots < spec->n_merges + spec->n_merges / 2) slots *= 2; /* load <= 2/3 */
    b->merges = tg__table_alloc(slots * sizeof *b->merges);
    if (!b->merges) goto oom;
    b->merge_mask = slots - 1;
    if ((st = resolve_merges(b, spec, err))) goto fail;
    tg__bpe_pair_filter_build(b); /* longword: optional, NULL when out of memory */
    tg__bpe_split_setup(b);
    b->wcache = tg__word_cache_new(WCACHE_SLOTS_LOG2, 64); /* optional: NULL means no shared cache */
    b->wcache_big = tg__word_cache_new(WCACHE_BIG_LOG2, 512);
    b->wcache_tiny = TG_LE ? tg__word_cache_new(WCACHE_TINY_LOG2, 32) : NULL; /* its keys are little-endian loads */
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
    tg__strtab_free(&b->odd);
    if (b->merges) tg__table_free(b->merges, (b->merge_mask + 1) * sizeof *b->merges);
    free(b->pair_filter);
    free(b->cont_prefix);
    free(b->eow_suffix);
    tg__word_cache_free(b->wcache);
    tg__word_cache_free(b->wcache_big);
    tg__word_cache_free(b->wcache_tiny);
    memset(b, 0, sizeof *b);
}

uint32_t tg__bpe_find_token(const tg__bpe *b, const char *s, size_t n) {
    return tg__strtab_find(&b->tokens, s, n);
}

/* ignore_merges: the id of the whole pre-token (model form) as one vocab
 * entry, or TG__NO_ID. In byte mode the raw bytes are mapped to byte-level
 * text first. */
static uint32_t whole_token(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n) {
    if (b->longest && n > b->longest) return TG__NO_ID; /* byte-level text is at least n bytes too */
    if (!b->byte_mode) return tg__strtab_find(&b->tokens, (const char *)p, n);
    tgx_buf *t = &s->tmp;
    tgx_buf_reset(t);
    if (tgx_buf_reserve(t, 2 * n)) return TG__NO_ID;
    char *o = t->data;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = tg__bytelevel_char(p[i]);
        if (c < 0x80) *o++ = (char)c;
        else { *o++ = (char)(0xC0 | (c >> 6)); *o++ = (char)(0x80 | (c & 0x3F)); }
    }
    return tg__strtab_find(&b->tokens, t->data, (size_t)(o - t->data));
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
    free(s->mcache);
    free(s->rbits);
    free(s->cache);
    free(s->cache_ids);
    tgx_buf_free(&s->cache_keys);
    tgx_buf_free(&s->tmp);
    free(s);
}

static tg_status push_ids(tg_tokens *out, const uint32_t *ids, size_t n) {
    tg_status st = tg__bpe_reserve_ids(out, n);
    if (st) return st;
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
        size_t i = 0;
        for (; i < n; i++) { /* while every byte has an id (nothing unk to fuse): one store each */
            uint32_t id = b->byte_id[p[i]];
            if (id == TG__NO_ID) break;
            s->syms[i] = (sym){id, (int32_t)i - 1, (int32_t)i + 1, 1};
        }
        k = i;
        for (; i < n; i++) {
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
        const int plain = !b->cont_prefix && !b->eow_suffix;
        while (i < n) {
            if (plain && p[i] < 0x80 && b->ascii_id[p[i]] != TG__NO_ID) {
                /* what tg__strtab_find of the one-char symbol gives */
                if (have_unk) { ADD_SYM(b->unk_id, unk_len); have_unk = 0; }
                ADD_SYM(b->ascii_id[p[i]], 1);
                i++;
                continue;
            }
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
            uint32_t id = tg__strtab_find(b->mt, sp, sl);
            if (plain && id != TG__NO_ID) { /* the same char repeated: the same symbol (runs of "▁") */
                if (have_unk) { ADD_SYM(b->unk_id, unk_len); have_unk = 0; }
                ADD_SYM(id, (uint32_t)cl);
                i += cl;
                while (i + cl <= n && p[i] == p[i - cl] && (cl < 2 || p[i + 1] == p[i + 1 - cl]) &&
                       (cl < 3 || p[i + 2] == p[i + 2 - cl]) && (cl < 4 || p[i + 3] == p[i + 3 - cl])) {
                    ADD_SYM(id, (uint32_t)cl);
                    i += cl;
                }
                continue;
            }
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

/* Heap entries are (rank << 32 | position): one integer compare orders them
 * by rank, then leftmost, as HF's Merge ordering does. The merged id is
 * looked up again when an entry is popped (HF checks it there too). */
static void heap_sift_down(uint64_t *h, size_t n, size_t i) {
    uint64_t x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t par = (i - 1) / 2;
        if (h[par] <= e) break;
        h[i] = h[par];
        i = par;
    }
    h[i] = e;
}

static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0];
    h[0] = h[--(*n)];
    if (*n) heap_sift_down(h, *n, 0);
    return top;
}
/* The binary heap's loop: pops (rank, position) until no merge applies.
 * h[0..hn) is a heap of candidate pairs; room for 2 more per merge. */
static void heap_run(const tg__bpe *b, sym *y, mcache_ent *mc, uint64_t *h, size_t hn) {
    uint32_t rk, nid;
    while (hn) {
        uint64_t top = heap_pop(h, &hn);
        uint32_t rank = (uint32_t)(top >> 32), pos = (uint32_t)top;
        sym *cur = &y[pos];
        if (cur->len == 0 || cur->next < 0) continue;
        sym *right = &y[cur->next];
        if (!mc_find(b, mc, cur->id, right->id, &rk, &nid) || rk != rank) continue; /* a stale entry */
        cur->id = nid;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0) y[cur->next].prev = (int32_t)pos;
        if (cur->prev >= 0 && mc_find(b, mc, y[cur->prev].id, cur->id, &rk, &nid))
            heap_push(h, &hn, ((uint64_t)rk << 32) | (uint32_t)cur->prev);
        if (cur->next >= 0 && mc_find(b, mc, cur->id, y[cur->next].id, &rk, &nid))
            heap_push(h, &hn, ((uint64_t)rk << 32) | pos);
    }
}

/* Room in s->heap for the heap of a word of k symbols: n-1 initial entries
 * and at most 2 per merge. */
static tg_status heap_room(tg__bpe_scratch *s, size_t k) {
    size_t need = 3 * k + 4;
    if (need <= s->heap_cap) return TG_OK;
    uint64_t *p = realloc(s->heap, need * sizeof *p);
    if (!p) return TG_ENOMEM;
    s->heap = p;
    s->heap_cap = need;
    return TG_OK;
}

/*
 * Rank buckets for long words (a 100 KB run of spaces, random letters).
 * The heap pops (rank, position) in order; here every pending pair of one
 * rank waits in that rank's bucket, and the ranks that have a bucket are
 * bits in a bitmap over all ranks, scanned upwards. A bucket is applied in one pass, leftmost
 * first (sorted by position when pushes came out of order), which is the
 * heap's order as long as no merge creates a pair of the rank being applied
 * or a lower one: trained merge lists never do (a merge using a token comes
 * after the merge that made it), and the first time a merge does, the rest
 * of the word goes to the heap from that state (every pending pair, by
 * pr), so any merge list gives HF's result. Finding the next rank costs a
 * word of the bitmap per 64 ranks over the whole word instead of a heap step
 * per pair; a run of one repeated symbol has a handful of ranks in all.
 * The word's initial pairs do not go through the buckets: they are radix
 * sorted by (rank, position) once (initial_pairs; for a byte-level word of
 * few distinct bytes looked up in a table of its byte pairs), and each rank
 * applies its sorted initial pairs merged by position with its bucket (the
 * pairs queued since). Pairs that merges make ask the pair filter first.
 */
#define BUCKET_MIN 1024 /* symbols: rank buckets from here, the heap below */
#define BUCKET_AHEAD 4   /* positions of a bucket prefetched ahead of the one applied */

typedef struct rbucket {
    size_t off;  /* its positions: pool[off..off + n) */
    uint32_t n, cap;
} rbucket;

typedef struct rslot {
    uint32_t key, bi; /* key: rank + 1 (0: empty slot); bi: 1 + its bucket's index in bk, 0 none */
} rslot;

typedef struct rqueue {
    rslot *map;      /* rank -> bucket, open addressing (a table of every rank, or pages of
                      * one, cost a memset of ~1 MB per long word: ranks are spread out) */
    size_t mbits, mcount;
    rbucket *bk;     /* buckets: in use or spare */
    uint32_t *pool;  /* every bucket's positions; a bucket that grows moves to its end */
    size_t pool_len, pool_cap;
    uint32_t *spare; /* indices of emptied buckets */
    uint64_t *bits;  /* ranks that have a bucket, one bit each, scanned upwards from scan */
    uint64_t *sum;   /* bit w: bits[w] is not zero (a sparse word skips the empty stretches) */
    size_t nbk, cap, nspare, nwords, scan;
    uint32_t cur;    /* the rank being applied */
    int early;       /* a pair of rank <= cur appeared */
} rqueue;

/* The slot of rank in the map, or the empty slot where it goes. */
static inline rslot *rq_slot(const rqueue *q, uint32_t rank) {
    size_t mask = ((size_t)1 << q->mbits) - 1;
    size_t i = (size_t)(((uint64_t)rank * 0x9E3779B97F4A7C15ull) >> (64 - q->mbits));
    while (q->map[i].key && q->map[i].key != rank + 1) i = (i + 1) & mask;
    return &q->map[i];
}

/* Twice the map's slots; 0 when out of memory. */
static int rq_grow(rqueue *q) {
    rslot *old = q->map;
    size_t n = (size_t)1 << q->mbits;
    rslot *m = calloc(2 * n, sizeof *m);
    if (!m) return 0;
    q->map = m;
    q->mbits++;
    for (size_t i = 0; i < n; i++)
        if (old[i].key) *rq_slot(q, old[i].key - 1) = old[i];
    free(old);
    return 1;
}

/* A bucket index + 1 for a new rank, 0 when out of memory. */
static uint32_t rq_bucket(rqueue *q) {
    if (q->nspare) return q->spare[--q->nspare];
    if (q->nbk == q->cap || !q->bk) { /* !bk: not reached (cap 0 then); said for clang-analyzer */
        size_t nc = q->cap ? 2 * q->cap : 256;
        rbucket *bk = realloc(q->bk, nc * sizeof *bk);
        if (!bk) return 0;
        q->bk = bk;
        uint32_t *sp = realloc(q->spare, nc * sizeof *sp);
        if (!sp) return 0;
        q->spare = sp;
        q->cap = nc;
    }
    q->bk[q->nbk] = (rbucket){0, 0, 0};
    return (uint32_t)++q->nbk;
}

/* rq_push's slow path: a new bucket for rank, or more room in one. */
static rbucket *rq_room(rqueue *q, uint32_t rank) {
    rslot *m = rq_slot(q, rank);
    if (!m->key) {
        if (2 * (q->mcount + 1) > ((size_t)1 << q->mbits)) {
            if (!rq_grow(q)) return NULL;
            m = rq_slot(q, rank);
        }
        m->key = rank + 1;
        q->mcount++;
    }
    if (!m->bi) {
        if (!(m->bi = rq_bucket(q))) return NULL;
        q->bits[rank >> 6] |= (uint64_t)1 << (rank & 63);
        q->sum[rank >> 12] |= (uint64_t)1 << ((rank >> 6) & 63);
    }
    if (!q->bk) return NULL; /* not reached: m->bi came from rq_bucket */
    rbucket *x = &q->bk[m->bi - 1];
    if (x->n == x->cap) { /* move it to the pool's end, twice the room */
        uint32_t nc = x->cap ? 2 * x->cap : 8;
        if (q->pool_len + nc > q->pool_cap) {
            size_t pc = q->pool_cap ? 2 * q->pool_cap : 4096;
            while (pc < q->pool_len + nc) pc *= 2;
            uint32_t *p = realloc(q->pool, pc * sizeof *p);
            if (!p) return NULL;
            q->pool = p;
            q->pool_cap = pc;
        }
        if (x->n) memcpy(q->pool + q->pool_len, q->pool + x->off, x->n * sizeof *q->pool);
        x->off = q->pool_len;
        x->cap = nc;
        q->pool_len += nc;
    }
    return x;
}

/* Queues the pair of rank rank at pos; 0 when out of memory. */
static inline __attribute__((always_inline)) int rq_push(rqueue *q, uint32_t rank, uint32_t pos) {
    q->early |= rank <= q->cur; /* cur is 0 and early cleared until the buckets run */
    const rslot *m = rq_slot(q, rank);
    rbucket *x = m->bi ? &q->bk[m->bi - 1] : NULL;
    if (!x || x->n == x->cap) {
        x = rq_room(q, rank);
        if (!x) return 0;
    }
    q->pool[x->off + x->n++] = pos;
    return 1;
}

/* The lowest rank with a bucket at or above scan (*r), left queued; 0 when
 * none. rq_take then takes it. */
static int rq_peek(const rqueue *q, uint32_t *r) {
    size_t w = q->scan >> 6;
    if (w >= q->nwords) return 0;
    uint64_t x = q->bits[w] & (~(uint64_t)0 << (q->scan & 63));
    if (!x) { /* the next word that is not zero, by the summary */
        if (++w >= q->nwords) return 0;
        size_t sw = w >> 6;
        uint64_t y = q->sum[sw] & (~(uint64_t)0 << (w & 63));
        while (!y) {
            if (++sw > (q->nwords - 1) >> 6) return 0;
            y = q->sum[sw];
        }
        w = sw * 64 + (size_t)__builtin_ctzll(y);
        x = q->bits[w];
    }
    *r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x));
    return 1;
}

/* Clears rank r's bit (rq_peek's answer) and moves scan past it. */
static void rq_take(rqueue *q, uint32_t r) {
    size_t w = r >> 6;
    q->bits[w] &= ~((uint64_t)1 << (r & 63));
    if (!q->bits[w]) q->sum[w >> 6] &= ~((uint64_t)1 << (w & 63));
    q->scan = (size_t)r + 1;
}

/* Frees q; its bitmap (the scratch's) is left all zero for the next word. */
static void rq_free(rqueue *q) {
    for (size_t i = 0; q->map && q->bits && i < ((size_t)1 << q->mbits); i++)
        if (q->map[i].key && q->map[i].bi) {
            q->bits[(q->map[i].key - 1) >> 6] = 0;
            q->sum[(q->map[i].key - 1) >> 12] = 0;
        }
    free(q->pool);
    free(q->bk);
    free(q->spare);
    free(q->map);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts p[0..n) ascending (usually already sorted: only checked). */
static void sort_positions(uint32_t *p, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (p[i] < p[i - 1]) {
            qsort(p, n, sizeof *p, cmp_u32);
            return;
        }
}

/* The word's state as the buckets left it: pos's pair (rank pr[pos].rank,
 * merged id pr[pos].nid) applied, the pairs it changed requeued. */
typedef struct rpair {
    uint32_t rank, nid; /* a position's pair: its rank (UINT32_MAX none) and merged id */
} rpair;

typedef struct rstate {
    sym *y;
    rpair *pr; /* per position, both in one line: an apply at a random position misses once */
} rstate;

/* mc_find for the pairs a merge makes: most are new and have no merge, so
 * the pair filter (in L2) is asked before the merge cache, which then holds
 * only pairs the filter passed (fewer misses of its own lines). */
static inline __attribute__((always_inline)) int mc_find_new(const tg__bpe *b, mcache_ent *mc, uint32_t l,
                                                             uint32_t r, uint32_t *rank, uint32_t *new_id) {
    if (!pf_maybe(b, pair_key(l, r))) return 0;
    return mc_find(b, mc, l, r, rank, new_id);
}

/* Sets pos's pair from the merge table and queues it; 0 when out of memory. */
static inline __attribute__((always_inline)) int rs_pair(const tg__bpe *b, mcache_ent *mc, rstate *w, rqueue *q,
                                                         uint32_t pos) {
    uint32_t rk, nid;
    w->pr[pos].rank = UINT32_MAX;
    sym *cur = &w->y[pos];
    if (cur->next < 0 || !mc_find_new(b, mc, cur->id, w->y[cur->next].id, &rk, &nid)) return 1;
    w->pr[pos] = (rpair){rk, nid};
    return rq_push(q, rk, pos);
}

static inline __attribute__((always_inline)) int rs_apply(const tg__bpe *b, mcache_ent *mc, rstate *w, rqueue *q, uint32_t pos) {
    sym *y = w->y;
    sym *cur = &y[pos];
    int32_t ri = cur->next;
    sym *right = &y[ri];
    cur->id = w->pr[pos].nid;
    cur->len += right->len;
    right->len = 0;
    w->pr[ri].rank = UINT32_MAX;
    cur->next = right->next;
    if (cur->next >= 0) y[cur->next].prev = (int32_t)pos;
    if (cur->prev >= 0 && !rs_pair(b, mc, w, q, (uint32_t)cur->prev)) return 0;
    return rs_pair(b, mc, w, q, pos);
}

/* The rest of the word by the heap, from the state the buckets left. */
static tg_status bucket_to_heap(const tg__bpe *b, tg__bpe_scratch *s, mcache_ent *mc, const rpair *pr,
                                size_t k) {
    tg_status st = heap_room(s, k);
    if (st) return st;
    size_t hn = 0;
    for (int32_t i = 0; i >= 0; i = s->syms[i].next)
        if (pr[i].rank != UINT32_MAX) s->heap[hn++] = ((uint64_t)pr[i].rank << 32) | (uint32_t)i;
    for (size_t i = hn / 2; i-- > 0;) heap_sift_down(s->heap, hn, i);
    heap_run(b, s->syms, mc, s->heap, hn);
    return TG_OK;
}

#define RADIX_BITS 11 /* initial_pairs' sort: 2 passes for ranks below 2^22 */

/* Sorts a[0..n) (keys rank << 32 | position, positions ascending) by rank,
 * positions staying ascending within a rank: LSD radix passes over the bits
 * below max_rank's highest, each stable. tmp has room for n; the answer is
 * a or tmp. */
static uint64_t *sort_by_rank(uint64_t *a, uint64_t *tmp, size_t n, uint32_t max_rank) {
    for (unsigned sh = 32; sh < 64 && (max_rank >> (sh - 32)); sh += RADIX_BITS) {
        size_t cnt[1u << RADIX_BITS];
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++) cnt[(a[i] >> sh) & ((1u << RADIX_BITS) - 1)]++;
        size_t sum = 0;
        for (size_t d = 0; d < (1u << RADIX_BITS); d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[cnt[(a[i] >> sh) & ((1u << RADIX_BITS) - 1)]++] = a[i];
        uint64_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* The pairs of a word whose symbols are still its bytes (byte_mode), as a
 * table over the distinct bytes it has: tab[ci[x] * m + ci[y]] is the
 * rank and merged id of the pair of bytes x y (rank UINT32_MAX none). A
 * long word's every initial pair is one of these; the table (21 KB for the
 * 52 ASCII letters) stays in L1 where the merge cache's entries, one line
 * each, do not. 0 (no table) when the symbols are not p's bytes or the
 * word has too many distinct bytes for its length. */
#define BYTE_TAB_MAX 64 /* distinct bytes */
typedef struct byte_tab {
    uint8_t ci[256]; /* byte -> its index, BYTE_TAB_MAX: absent */
    size_t m;
    rpair *tab;
} byte_tab;

static int byte_tab_make(const tg__bpe *b, mcache_ent *mc, const sym *y, size_t k, const uint8_t *p,
                         size_t n, byte_tab *t) {
    if (!p || n != k) return 0;
    memset(t->ci, BYTE_TAB_MAX, sizeof t->ci);
    uint8_t by[BYTE_TAB_MAX];
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (y[i].id != b->byte_id[p[i]] || y[i].next != (i + 1 < k ? (int32_t)i + 1 : -1)) return 0;
        if (t->ci[p[i]] == BYTE_TAB_MAX) {
            if (m == BYTE_TAB_MAX) return 0;
            t->ci[p[i]] = (uint8_t)m;
            by[m++] = p[i];
        }
    }
    if (m * m > k / 4 || !(t->tab = malloc(m * m * sizeof *t->tab))) return 0; /* few lookups per pair */
    for (size_t x = 0; x < m; x++)
        for (size_t z = 0; z < m; z++) {
            rpair *e = &t->tab[x * m + z];
            if (!mc_find(b, mc, b->byte_id[by[x]], b->byte_id[by[z]], &e->rank, &e->nid)) e->rank = UINT32_MAX;
        }
    t->m = m;
    return 1;
}

/* The word's initial pairs (pr set for every position) as keys rank << 32 |
 * position sorted by (rank, position) in *keys[0..*n): the first pass over
 * the word touches no bucket (a bucket per rank there is a random line per
 * pair). key and tmp have room for k; *keys is one of them. p[0..np): the
 * word's bytes in byte_mode (else NULL): its pairs may come from a byte_tab. */
static void initial_pairs(const tg__bpe *b, mcache_ent *mc, rstate *w, size_t k, const uint8_t *p, size_t np,
                          uint64_t *key, uint64_t *tmp, uint64_t **keys, size_t *n) {
    size_t m = 0;
    uint32_t max_rank = 0, rk, nid;
    byte_tab t;
    if (byte_tab_make(b, mc, w->y, k, p, np, &t)) {
        for (size_t i = 0; i + 1 < k; i++) {
            rpair e = t.tab[t.ci[p[i]] * t.m + t.ci[p[i + 1]]];
            w->pr[i] = e;
            if (e.rank == UINT32_MAX) continue;
            key[m++] = ((uint64_t)e.rank << 32) | (uint32_t)i;
            if (e.rank > max_rank) max_rank = e.rank;
        }
        w->pr[k - 1].rank = UINT32_MAX;
        free(t.tab);
    } else {
        for (size_t i = 0; i < k; i++) {
            sym *cur = &w->y[i];
            w->pr[i].rank = UINT32_MAX;
            if (cur->next < 0 || !mc_find(b, mc, cur->id, w->y[cur->next].id, &rk, &nid)) continue;
            w->pr[i] = (rpair){rk, nid};
            key[m++] = ((uint64_t)rk << 32) | (uint32_t)i;
            if (rk > max_rank) max_rank = rk;
        }
    }
    *keys = sort_by_rank(key, tmp, m, max_rank);
    *n = m;
}

/* Applies rank r's pairs: the initial ones s[0..ns) and bucket x's (queued
 * since), both ascending by position, merged, leftmost first; until done
 * or a pair of rank <= r appears (q->early). 0 when out of memory. */
static int apply_rank(const tg__bpe *b, mcache_ent *mc, rstate *w, rqueue *q, uint32_t r,
                      const uint64_t *s, size_t ns, rbucket x) {
    size_t i = 0;
    uint32_t j = 0;
    while (!q->early && (i < ns || j < x.n)) { /* the pool may move as pairs are queued */
        if (i + BUCKET_AHEAD < ns) { /* random positions: start the misses of a later one now */
            uint32_t a = (uint32_t)s[i + BUCKET_AHEAD];
            __builtin_prefetch(&w->y[a]);
            __builtin_prefetch(&w->pr[a]);
        }
        if (j + BUCKET_AHEAD < x.n) {
            uint32_t a = q->pool[x.off + j + BUCKET_AHEAD];
            __builtin_prefetch(&w->y[a]);
            __builtin_prefetch(&w->pr[a]);
        }
        uint32_t pos;
        if (i < ns && (j >= x.n || (uint32_t)s[i] < q->pool[x.off + j])) pos = (uint32_t)s[i++];
        else pos = q->pool[x.off + j++];
        if (w->pr[pos].rank == r && !rs_apply(b, mc, w, q, pos)) return 0;
    }
    return 1;
}

static tg_status merge_buckets(const tg__bpe *b, tg__bpe_scratch *s, mcache_ent *mc, size_t k, const uint8_t *p,
                               size_t n) {
    rqueue q;
    memset(&q, 0, sizeof q);
    rstate w = {s->syms, malloc(k * sizeof(rpair))};
    uint64_t *key = malloc(2 * k * sizeof *key), *ini = NULL;
    size_t nini = 0, si = 0;
    q.nwords = ((b->merge_mask + 1) >> 6) + 1; /* every rank is below the slot count */
    size_t nsum = (q.nwords >> 6) + 1;
    if (s->rbits_n < q.nwords + nsum) { /* zeroed once per call, not per word (Gemma-3: 130 KB) */
        free(s->rbits);
        s->rbits_n = 0;
        if ((s->rbits = calloc(q.nwords + nsum, sizeof *s->rbits))) s->rbits_n = q.nwords + nsum;
    }
    q.bits = s->rbits;
    q.sum = s->rbits ? s->rbits + q.nwords : NULL;
    q.mbits = 10;
    q.map = calloc((size_t)1 << q.mbits, sizeof *q.map);
    tg_status st = TG_ENOMEM;
    if (!w.pr || !key || !q.bits || !q.map) goto out;
    initial_pairs(b, mc, &w, k, p, n, key, key + k, &ini, &nini);
    for (;;) { /* the lowest rank of either: the initial pairs or a bucket */
        uint32_t r, rd = UINT32_MAX;
        int hd = rq_peek(&q, &rd);
        if (!hd && si >= nini) break;
        r = si < nini && (uint32_t)(ini[si] >> 32) < rd ? (uint32_t)(ini[si] >> 32) : rd;
        rbucket x = {0, 0, 0};
        uint32_t bi = 0;
        if (hd && rd == r) {
            rslot *m = rq_slot(&q, r); /* it has a bucket */
            bi = m->bi;
            rq_take(&q, r);
            if (!bi || !q.bk) continue; /* not reached: a rank's bit is set only with its bucket */
            m->bi = 0;
            x = q.bk[bi - 1];
            sort_positions(q.pool + x.off, x.n);
        }
        size_t se = si;
        while (se < nini && (uint32_t)(ini[se] >> 32) == r) se++;
        q.cur = r;
        if (!apply_rank(b, mc, &w, &q, r, ini + si, se - si, x)) goto out;
        si = se;
        if (bi) {
            q.bk[bi - 1].n = 0;
            q.spare[q.nspare++] = bi;
        }
        if (q.early) { /* this rank's remaining pairs are pending in pr too */
            st = bucket_to_heap(b, s, mc, w.pr, k);
            goto out;
        }
    }
    st = TG_OK;
out:
    rq_free(&q);
    free(key);
    free(w.pr);
    return st;
}

/* The scratch's merge cache, made on first use; NULL when out of memory. */
static mcache_ent *merge_cache(tg__bpe_scratch *s) {
    if (!s->mcache) {
        s->mcache = malloc(((size_t)1 << MCACHE_BITS) * sizeof(mcache_ent));
        if (!s->mcache) return NULL;
        for (size_t i = 0; i < ((size_t)1 << MCACHE_BITS); i++) s->mcache[i].key = UINT64_MAX;
    }
    return s->mcache;
}

/* p[0..n): the word's bytes when byte_mode (else NULL). */
static tg_status merge_heap(const tg__bpe *b, tg__bpe_scratch *s, size_t k, const uint8_t *p, size_t n) {
    sym *y = s->syms;
    mcache_ent *mc = merge_cache(s);
    if (!mc) return TG_ENOMEM;
    uint32_t rk, nid;
    if (k >= BUCKET_MIN) return merge_buckets(b, s, mc, k, p, n);
    tg_status st = heap_room(s, k);
    if (st) return st;
    uint64_t *h = s->heap;
    size_t hn = 0;
    for (size_t i = 0; i + 1 < k; i++)
        if (mc_find(b, mc, y[i].id, y[i + 1].id, &rk, &nid)) h[hn++] = ((uint64_t)rk << 32) | i;
    for (size_t i = hn / 2; i-- > 0;) heap_sift_down(h, hn, i); /* heapify: O(n) */
    heap_run(b, y, mc, h, hn);
    return TG_OK;
}

/* Direct scan for short words: same (rank, position) order as the heap. */
static void merge_naive(const tg__bpe *b, tg__bpe_scratch *s, size_t k) {
    sym *y = s->syms;
    uint32_t rank[NAIVE_MAX], nid[NAIVE_MAX];
    if (k == 0) return; /* callers pass k >= 1; said for clang-analyzer (bytelevel, round 4) */
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
        /* every live symbol i < k had rank[i] set above (k >= 1: the
         * caller passes a word of at least one symbol) */
        for (int32_t i = 0; i >= 0; i = y[i].next)
            /* cppcheck-suppress uninitvar */
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
    if (k <= NAIVE_MAX) {
        merge_naive(b, s, k);
    } else {
        mcache_ent *mc = merge_cache(s);
        int done;
        if (!mc) return TG_ENOMEM;
        if ((st = tg__bpe_run_word(b, s->syms, mc, &k, out, &done)) || done) return st;
        /* any k: what the runs handed back may be short */
        if ((st = merge_heap(b, s, k, b->byte_mode ? p : NULL, n))) return st;
    }
    for (int32_t i = 0; i >= 0; i = s->syms[i].next)
        if ((st = push_id(out, s->syms[i].id))) return st;
    return TG_OK;
}

/* Marks slots c[0..n) empty: every byte 0xFF, so each n_ids reads 0xFFFF. */
static void cache_clear(cache_slot *c, size_t n) { memset(c, 0xFF, n * sizeof *c); }

/* Doubles the per-call cache table and re-inserts its entries (by their
 * stored hashes); 0 when out of memory (the old table stays). */
static int cache_grow(tg__bpe_scratch *s) {
    size_t slots = 2 * (s->cache_mask + 1);
    cache_slot *nc = malloc(slots * sizeof *nc);
    if (!nc) return 0;
    cache_clear(nc, slots);
    for (size_t j = 0; j <= s->cache_mask; j++) {
        if (s->cache[j].n_ids == 0xFFFF) continue;
        size_t k = (size_t)s->cache[j].hash & (slots - 1);
        while (nc[k].n_ids != 0xFFFF) k = (k + 1) & (slots - 1);
        nc[k] = s->cache[j];
    }
    free(s->cache);
    s->cache = nc;
    s->cache_mask = slots - 1;
    return 1;
}


/* The n (1..8) bytes at p as a number, byte i in bits 8i..8i+7; on a
 * little-endian host the same as an 8-byte load masked to n bytes. */
static inline uint64_t key_word(const uint8_t *p, size_t n) {
    if (n < 4) /* bytes 0, n/2, n-1 cover all; the overlaps OR equal bytes */
        return (uint64_t)p[0] | (uint64_t)p[n >> 1] << (8 * (n >> 1)) | (uint64_t)p[n - 1] << (8 * (n - 1));
#if TG_LE
    uint32_t x, y;
    memcpy(&x, p, 4);
    memcpy(&y, p + n - 4, 4);
    return (uint64_t)x | (uint64_t)y << (8 * (n - 4));
#else
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
#endif
}

/* Hash of a key of 1..8 bytes from its key_word. */
static inline uint64_t short_hash(uint64_t kw, size_t n) {
    uint64_t x = (kw + n) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ull;
    x ^= x >> 29;
    return x;
}

/* Hash of a pre-token for both caches: keys of up to 8 bytes (most words)
 * by short_hash, up to 16 by two overlapping loads and one mix, longer ones
 * by tg__hash_bytes. */
static inline uint64_t word_hash(const uint8_t *p, size_t n) {
    uint64_t a, b;
    if (n > 16) return tg__hash_bytes(p, n);
    if (n <= 8) return short_hash(key_word(p, n), n);
    {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
    }
    uint64_t x = a * 0x9E3779B97F4A7C15ull ^ ((b << 31) | (b >> 33)) * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)n;
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ull;
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ull;
    x ^= x >> 29;
    return x;
}

/* The ids of one pre-token, computed (no cache). */
static tg_status encode_word(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, tg_tokens *out) {
    uint32_t id = b->ignore_merges ? whole_token(b, s, p, n) : TG__NO_ID;
    return id != TG__NO_ID ? push_id(out, id) : bpe_word(b, s, p, n, out);
}

/* ---- hook for sp_raw.c (the Gemma helper's; one call) ---- */
tg_status tg__bpe_encode_word(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, tg_tokens *out,
                              tg_error *err) {
    tg_status st = encode_word(b, s, p, n, out);
    return st ? tg_error_set(err, st, "BPE: %s", tg_status_str(st)) : TG_OK;
}

/* The per-call cache's slot for key p[0..n) (hash h): found (*hit = 1) or
 * the empty slot where it would go. Creates the table on first use. */
static cache_slot *percall_find(tg__bpe_scratch *s, uint64_t h, const uint8_t *p, size_t n, int *hit) {
    *hit = 0;
    if (!s->cache) {
        s->cache = malloc(CACHE_SLOTS_MIN * sizeof *s->cache);
        if (!s->cache) return NULL;
        s->cache_mask = CACHE_SLOTS_MIN - 1;
        cache_clear(s->cache, CACHE_SLOTS_MIN);
    }
    size_t i = (size_t)h & s->cache_mask;
    for (;;) {
        cache_slot *c = &s->cache[i];
        if (c->n_ids == 0xFFFF) return c;
        if (c->hash == h && c->key_len == n && memcmp(s->cache_keys.data + c->key_off, p, n) == 0) {
            *hit = 1;
            return c;
        }
        i = (i + 1) & s->cache_mask;
    }
}

/* Enters p[0..n) -> ids[0..got) in the per-call cache (bounded: cleared
 * when full). Caching is optional: out of memory just skips it. */
static void percall_put(tg__bpe_scratch *s, uint64_t h, const uint8_t *p, size_t n, const uint32_t *ids,
                        size_t got) {
    if (got >= 0xFFFF || !s->cache) return;
    if (s->cache_entries >= CACHE_MAX_ENTRIES) {
        cache_clear(s->cache, s->cache_mask + 1);
        s->cache_entries = 0;
        tgx_buf_reset(&s->cache_keys);
        s->cache_ids_len = 0;
    } else if (2 * (s->cache_entries + 1) > s->cache_mask + 1 && s->cache_mask + 1 < CACHE_SLOTS) {
        if (!cache_grow(s)) return;
    }
    size_t i = (size_t)h & s->cache_mask;
    while (s->cache[i].n_ids != 0xFFFF) i = (i + 1) & s->cache_mask;
    if (s->cache_ids_len + got > s->cache_ids_cap) {
        size_t cap = s->cache_ids_cap ? s->cache_ids_cap * 2 : 4096;
        while (cap < s->cache_ids_len + got) cap *= 2;
        uint32_t *np = realloc(s->cache_ids, cap * sizeof *np);
        if (!np) return;
        s->cache_ids = np;
        s->cache_ids_cap = cap;
    }
    size_t key_off = s->cache_keys.len;
    if (tgx_buf_append(&s->cache_keys, p, n)) return;
    if (got) memcpy(s->cache_ids + s->cache_ids_len, ids, got * sizeof(uint32_t)); /* ids may be NULL when 0 */
    cache_slot *c = &s->cache[i];
    c->hash = h;
    c->key_off = (uint32_t)key_off;
    c->key_len = (uint16_t)n;
    c->ids_off = (uint32_t)s->cache_ids_len;
    c->n_ids = (uint16_t)got;
    s->cache_ids_len += got;
    s->cache_entries++;
}

/* A pre-token the shared caches do not hold (n in 2..CACHE_MAX_KEY, h its
 * word_hash): this call's cache, else the model, and the result is entered
 * in the cache it fits (the compact tier, the small or big one, else this
 * call's). What a cache holds is exactly what the model would produce. */
static tg_status encode_miss(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, uint64_t h,
                             tg_tokens *out, tg_error *err) {
    tg_status st;
    size_t k;
    if (n == 0) return TG_OK; /* callers pass n >= 2; said for the analyzer, as encode_piece says it */
    if (n < WCACHE_SMALL_KEY) { /* a short word of many ids (a CJK phrase) sits in the big tier */
        if (out->cap - out->len < TG__WC_MAX_PAYLOAD / 4 && (st = tg__bpe_reserve_ids(out, TG__WC_MAX_PAYLOAD / 4))) goto fail;
        if ((k = tg__word_cache_get(b->wcache_big, h, p, n, out->ids + out->len))) {
            out->len += k;
            return TG_OK;
        }
    }
    int hit;
    cache_slot *c = percall_find(s, h, p, n, &hit);
    if (hit) {
        if ((st = push_ids(out, s->cache_ids + c->ids_off, c->n_ids))) goto fail;
        return TG_OK;
    }
    size_t before = out->len;
    if ((st = encode_word(b, s, p, n, out))) goto fail;
    size_t got = out->len - before;
    const uint32_t *ids = got ? out->ids + before : NULL; /* a dropped word has none (out->ids may be NULL) */
#if TG_LE
    if (b->wcache_tiny && tg__word_cache_fits32(n, got)) {
        tg__word_cache_put32(b->wcache_tiny, h, key_word(p, n), n, ids, got);
        return TG_OK;
    }
#endif
    if (n < WCACHE_SMALL_KEY && tg__word_cache_fits_in(56, n, got)) tg__word_cache_put(b->wcache, h, p, n, ids, got);
    else if (tg__word_cache_fits_in(TG__WC_MAX_PAYLOAD, n, got)) tg__word_cache_put(b->wcache_big, h, p, n, ids, got);
    else percall_put(s, h, p, n, ids, got);
    return TG_OK;
fail:
    return tg_error_set(err, st, "BPE: %s", tg_status_str(st));
}

/* Pre-token -> ids: the tokenizer's shared caches (short words), then
 * encode_miss; h is p's word_hash, or 0 (computed here). */
static tg_status encode_piece(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, uint64_t h,
                              tg_tokens *out, tg_error *err) {
    tg_status st;
    if (n == 0) return TG_OK;
    if (n == 1 && b->byte_mode && b->byte_id[p[0]] != TG__NO_ID)
        return push_id(out, b->byte_id[p[0]]) ? tg_error_set(err, TG_ENOMEM, "out of memory") : TG_OK;
    if (n == 1 && p[0] < 0x80 && b->ascii_id[p[0]] != TG__NO_ID && !b->byte_mode && !b->cont_prefix &&
        !b->eow_suffix) /* one symbol: no merge applies (bpe_split.c cuts many such pieces) */
        return push_id(out, b->ascii_id[p[0]]) ? tg_error_set(err, TG_ENOMEM, "out of memory") : TG_OK;
    if (n > CACHE_MAX_KEY) {
        if ((st = encode_word(b, s, p, n, out))) return tg_error_set(err, st, "BPE: %s", tg_status_str(st));
        return TG_OK;
    }
    if (!h) h = word_hash(p, n); /* 0: the caller has none */
    if (out->cap - out->len < TG__WC_MAX_PAYLOAD / 4 && (st = tg__bpe_reserve_ids(out, TG__WC_MAX_PAYLOAD / 4)))
        return tg_error_set(err, st, "BPE: %s", tg_status_str(st));
    size_t k;
#if TG_LE
    if (n <= TG__WC32_KEY && b->wcache_tiny &&
        (k = tg__word_cache_get32(b->wcache_tiny, h, key_word(p, n), n, out->ids + out->len))) {
        out->len += k;
        return TG_OK;
    }
#endif
    struct tg__word_cache *wc = n < WCACHE_SMALL_KEY ? b->wcache : b->wcache_big;
    if ((k = tg__word_cache_get(wc, h, p, n, out->ids + out->len))) { /* straight into out */
        out->len += k;
        return TG_OK;
    }
    return encode_miss(b, s, p, n, h, out, err);
}

/* ---- batches of pre-tokens (issue 17, rounds 3 and 4: the warm path) ----
 * What a loop of tg__bpe_encode calls gives, with the common cases in the
 * loop: a one-byte piece by byte_id[], a word of up to 8 bytes by one probe
 * of the compact tier (then the small tier, for words of more than 4 ids),
 * a longer short word by one probe of the small tier, ids copied straight
 * into out; a miss goes to encode_miss with the hash, anything else (a long
 * piece) through encode_piece. The pieces go in chunks of PIECE_CHUNK: a
 * first pass computes every key and hash and prefetches their sets, so the
 * probes' cache misses overlap instead of coming one after the other. */
#define PIECE_CHUNK 64

static const uint64_t kmask[9] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFull, 0xFFFFFFFFFFFFull,
                                  0xFFFFFFFFFFFFFFull, ~0ull};

/* Pass 1 over pieces ends[0..k) (k <= PIECE_CHUNK) from prev: the key word
 * (pieces of up to 8 bytes) and hash of each piece the loop probes, its set
 * prefetched; hs[i] = 0 for a piece of 40 bytes or more. */
static void chunk_keys(const tg__bpe *b, const uint8_t *base, size_t prev, const size_t *ends, size_t k,
                       const uint8_t *limit, uint64_t *kws, uint64_t *hs) {
    const tg__word_cache *tiny = b->wcache_tiny, *small = b->wcache;
    for (size_t i = 0; i < k; prev = ends[i++]) {
        const uint8_t *p = base + prev;
        size_t n = ends[i] - prev;
        uint64_t kw = 0, h = 0;
#if TG_LE
        if (n <= 8) {
            if (p + 8 <= limit) { /* one load is the key */
                memcpy(&kw, p, 8);
                kw &= kmask[n];
            } else {
                kw = key_word(p, n);
            }
            h = short_hash(kw, n);
            if (n > 1) tg__word_cache_prefetch_inline(tiny ? tiny : small, h);
        } else
#endif
        if (n < WCACHE_SMALL_KEY) {
            h = word_hash(p, n);
            tg__word_cache_prefetch_inline(small, h);
        }
        kws[i] = kw;
        hs[i] = h;
    }
}

/* Pass 2: the ids of pieces ends[0..k) from prev, with chunk_keys' keys. */
static tg_status chunk_encode(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *base, size_t prev,
                              const size_t *ends, size_t k, const uint64_t *kws, const uint64_t *hs, size_t room,
                              tg_tokens *out, tg_error *err) {
    tg_status st;
    const int bm = b->byte_mode;
    const uint32_t *byte_id = b->byte_id;
    const tg__word_cache *tiny = b->wcache_tiny;
    uint32_t *o = out->ids + out->len; /* out->len is o's offset, written back before any call */
    for (size_t i = 0; i < k; prev = ends[i++]) {
        const uint8_t *p = base + prev;
        size_t n = ends[i] - prev, got;
        uint32_t id;
        uint64_t h = hs[i];
        if (n == 1 && bm && (id = byte_id[p[0]]) != TG__NO_ID) {
            *o++ = id;
            continue;
        }
#if TG_LE
        if (n <= 8) {
            if ((tiny && (got = tg__word_cache_get32(tiny, h, kws[i], n, o))) ||
                (got = tg__word_cache_get64w(b->wcache, h, kws[i], n, o))) {
                o += got;
                continue;
            }
        } else
#endif
        if (n < WCACHE_SMALL_KEY && (got = tg__word_cache_get64(b->wcache, h, p, n, o))) {
            o += got;
            continue;
        }
        out->len = (size_t)(o - out->ids);
        if ((st = h && n > 1 ? encode_miss(b, s, p, n, h, out, err) : encode_piece(b, s, p, n, h, out, err)))
            return st;
        if (out->cap - out->len < room && (st = tg__bpe_reserve_ids(out, room)))
            return tg_error_set(err, st, "BPE: %s", tg_status_str(st));
        o = out->ids + out->len;
    }
    out->len = (size_t)(o - out->ids);
    return TG_OK;
}

tg_status tg__bpe_encode_pieces(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *base, size_t start,
                                const size_t *ends, size_t k, tg_tokens *out, tg_error *err) {
    tg_status st;
    size_t prev = start;
    if (b->ws_split || !b->wcache) {
        for (size_t i = 0; i < k; prev = ends[i++])
            if ((st = tg__bpe_encode(b, s, base + prev, ends[i] - prev, out, err))) return st;
        return TG_OK;
    }
    /* room for every hit of a chunk: a hit has at most 14 ids (a 64-byte
     * slot), copied 16 bytes at a time; rechecked after each miss (the
     * model grows out) */
    const size_t room = 16 * PIECE_CHUNK + 16;
    const uint8_t *limit = base + ends[k - 1]; /* loads stay below it */
    uint64_t kws[PIECE_CHUNK], hs[PIECE_CHUNK];
    for (size_t c = 0; c < k; c += PIECE_CHUNK) {
        size_t m = k - c < PIECE_CHUNK ? k - c : PIECE_CHUNK;
        size_t from = c ? ends[c - 1] : start;
        if (out->cap - out->len < room && (st = tg__bpe_reserve_ids(out, room)))
            return tg_error_set(err, st, "BPE: %s", tg_status_str(st));
        chunk_keys(b, base, from, ends + c, m, limit, kws, hs);
        if ((st = chunk_encode(b, s, base, from, ends + c, m, kws, hs, room, out, err))) return st;
    }
    return TG_OK;
}

uint64_t tg__bpe_prefetch_piece(const tg__bpe *b, const uint8_t *p, size_t n) {
    if (n < 2 || n > CACHE_MAX_KEY) return 0; /* one char or uncached: no cache read follows */
    uint64_t h = word_hash(p, n);
    tg__word_cache_prefetch(n <= TG__WC32_KEY && b->wcache_tiny ? b->wcache_tiny
                            : n < WCACHE_SMALL_KEY               ? b->wcache
                                                                 : b->wcache_big,
                            h);
    return h;
}

/* Pre-token -> ids: split into words where that is exact (bpe_split.c),
 * each through the caches and the model (encode_piece). */
tg_status tg__bpe_encode(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n,
                         tg_tokens *out, tg_error *err) {
    if (!b->ws_split) return encode_piece(b, s, p, n, 0, out, err);
    return tg__bpe_split_each(b, s, p, n, out, err, encode_piece);
}
