/*
 * tokenizer.c: builds a tg_tokenizer from its parts and runs HF's encode
 * pipeline (see tokenizer_internal.h for the stages):
 *
 *   raw text ─ split at non-normalized added tokens (added_tokens.c)
 *     each text piece ─ normalizer (normalizer.c)
 *       ─ split at normalized added tokens
 *         each text piece ─ pre-tokenizer steps (pretokenizer.c, streamed)
 *           each pre-token ─ BPE (bpe.c) ─ ids
 *   then, with TG_ENCODE_ADD_SPECIAL, the post-processor's ids around them.
 *
 * Everything per call (normalized text, regex match data, BPE scratch and its
 * per-call cache) lives in an encode context on the caller's stack and heap;
 * the one thing calls share is the model's pre-token cache (word_cache.h),
 * lock-free and result-neutral, so a tokenizer may be shared by threads.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/added_tokens.h"
#include "tokenizer/sp_raw.h"
#include "tokenizer/tokenizer_internal.h"
#include "util/utf8.h"

static void added_free(tg__added *a) {
    for (size_t i = 0; i < a->n; i++) free(a->tokens[i].content);
    free(a->tokens);
    tg__trie_free(a->raw);
    tg__trie_free(a->norm);
    free(a->by_id);
    tg__strtab_free(&a->specials);
    memset(a, 0, sizeof *a);
}

void tg_tokenizer_free(tg_tokenizer *t) {
    if (!t) return;
    tg__normalizer_free(&t->norm);
    tg__pretokenizer_free(&t->pretok);
    tg__bpe_free(&t->bpe);
    added_free(&t->added);
    tg__postproc_free(&t->post);
    tg__decoder_free(&t->dec);
    tg__config_free(&t->cfg);
    free(t);
}

static tg_status build_added_body(tg_tokenizer *t, const tg__added_spec *spec, size_t n, tg_error *err);

/* HF's AddedVocabulary::add_tokens id assignment (see TG__BUILD_HF_ADDED_IDS). */
static tg_status hf_assign_ids(const tg_tokenizer *t, const tg__added_spec *spec, size_t n, uint32_t *ids,
                               tg_error *err) {
    uint32_t vocab_entries = 0;
    for (uint32_t i = 0; i < t->bpe.tokens.count; i++) vocab_entries += (uint32_t)tg__strtab_has(&t->bpe.tokens, i);
    size_t slots = 16;
    while (slots < 2 * n + 2) slots *= 2;
    uint32_t *h = calloc(slots, sizeof *h); /* content -> index + 1 of its first token */
    if (!h) return tg_error_set(err, TG_ENOMEM, "out of memory");
    int have_max = 0;
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        const tg__added_spec *s = &spec[i];
        ids[i] = TG__NO_ID;
        if (s->content.n == 0) continue;
        size_t k = (size_t)tg__hash_bytes(s->content.p, s->content.n) & (slots - 1);
        uint32_t prev = 0;
        while (h[k]) {
            const tg__added_spec *o = &spec[h[k] - 1];
            if (o->content.n == s->content.n && memcmp(o->content.p, s->content.p, s->content.n) == 0) {
                prev = h[k];
                break;
            }
            k = (k + 1) & (slots - 1);
        }
        uint32_t id;
        if (prev) {
            id = ids[prev - 1];
        } else {
            id = tg__bpe_find_token(&t->bpe, s->content.p, s->content.n);
            if (id == TG__NO_ID)
                id = !have_max ? vocab_entries : (max >= vocab_entries || vocab_entries == 0) ? max + 1 : vocab_entries;
            h[k] = (uint32_t)i + 1;
        }
        ids[i] = id;
        if (!have_max || id > max) max = id;
        have_max = 1;
    }
    free(h);
    return TG_OK;
}

static tg_status build_added(tg_tokenizer *t, const tg__added_spec *spec0, size_t n, unsigned flags,
                             tg_error *err) {
    tg_status st;
    tg__added_spec *owned = NULL;
    const tg__added_spec *spec = spec0;
    if (flags & TG__BUILD_HF_ADDED_IDS) {
        owned = malloc((n ? n : 1) * sizeof *owned);
        uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
        if (!owned || !ids) { free(owned); free(ids); return tg_error_set(err, TG_ENOMEM, "out of memory"); }
        if ((st = hf_assign_ids(t, spec0, n, ids, err))) { free(owned); free(ids); return st; }
        /* kept tokens chained by id (head[] hashed by id, next[] per kept
         * token), so finding an exact repeat looks only at its own id */
        size_t slots = 16;
        while (slots < 2 * n + 2) slots *= 2;
        uint32_t *head = malloc(slots * sizeof *head), *next = malloc((n ? n : 1) * sizeof *next);
        if (!head || !next) {
            free(head); free(next); free(owned); free(ids);
            return tg_error_set(err, TG_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < slots; i++) head[i] = TG__NO_ID;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (ids[i] == TG__NO_ID) continue;
            /* an exact repeat of an earlier token is ignored */
            size_t hslot = (size_t)((ids[i] * 0x9E3779B97F4A7C15ull) >> 24) & (slots - 1);
            int dup = 0;
            for (uint32_t j = head[hslot]; j != TG__NO_ID && !dup; j = next[j])
                dup = owned[j].id == ids[i] && owned[j].content.n == spec0[i].content.n &&
                      memcmp(owned[j].content.p, spec0[i].content.p, spec0[i].content.n) == 0 &&
                      owned[j].special == spec0[i].special && owned[j].lstrip == spec0[i].lstrip &&
                      owned[j].rstrip == spec0[i].rstrip && owned[j].single_word == spec0[i].single_word &&
                      owned[j].normalized == spec0[i].normalized;
            if (dup) continue;
            owned[k] = spec0[i];
            owned[k].id = ids[i];
            next[k] = head[hslot];
            head[hslot] = (uint32_t)k;
            k++;
        }
        free(head);
        free(next);
        free(ids);
        spec = owned;
        n = k;
    }
    st = build_added_body(t, spec, n, err);
    free(owned);
    return st;
}

static tg_status build_added_body(tg_tokenizer *t, const tg__added_spec *spec, size_t n, tg_error *err) {
    tg__added *a = &t->added;
    tg_status st;
    if (n > TG__MAX_VOCAB)
        return tg_error_set(err, TG_ELIMIT, "%zu added tokens exceed the %u limit", n, (unsigned)TG__MAX_VOCAB);
    a->tokens = calloc(n ? n : 1, sizeof *a->tokens);
    if (!a->tokens) return tg_error_set(err, TG_ENOMEM, "out of memory");
    uint32_t max_id = 0;
    size_t n_special = 0, special_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const tg__added_spec *s = &spec[i];
        if (s->id >= TG__MAX_VOCAB)
            return tg_error_set(err, TG_ELIMIT, "added token id %u exceeds the %u limit", (unsigned)s->id, (unsigned)TG__MAX_VOCAB);
        if (s->content.n > TG__MAX_TOKEN_BYTES)
            return tg_error_set(err, TG_ELIMIT, "added token %u is %zu bytes, above the %u-byte limit",
                                (unsigned)s->id, s->content.n, (unsigned)TG__MAX_TOKEN_BYTES);
        if (!tgx_utf8_valid((const uint8_t *)s->content.p, s->content.n, NULL))
            return tg_error_set(err, TG_ECORRUPT, "added token %u is not valid UTF-8", (unsigned)s->id);
        tg__added_token *k = &a->tokens[i];
        k->id = s->id;
        k->content = malloc(s->content.n + 1);
        if (!k->content) return tg_error_set(err, TG_ENOMEM, "out of memory");
        if (s->content.n) memcpy(k->content, s->content.p, s->content.n);
        k->content[s->content.n] = '\0';
        k->content_len = s->content.n;
        k->special = s->special;
        k->lstrip = s->lstrip;
        k->rstrip = s->rstrip;
        k->single_word = s->single_word;
        k->normalized = s->normalized;
        a->n++;
        if (s->id + 1 > max_id) max_id = s->id + 1;
        if (s->special) { n_special++; special_bytes += s->content.n; }
    }
    a->max_id = max_id;
    a->by_id_len = max_id;
    a->by_id = malloc((max_id ? max_id : 1) * sizeof *a->by_id);
    if (!a->by_id) return tg_error_set(err, TG_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < max_id; i++) a->by_id[i] = TG__NO_ID;
    for (size_t i = 0; i < a->n; i++) {
        /* HF keeps one token per id: the later entry of added_tokens wins */
        a->by_id[a->tokens[i].id] = (uint32_t)i;
    }
    if ((st = tg__strtab_init(&a->specials, (uint32_t)n_special, special_bytes + 1)))
        return tg_error_set(err, st, "out of memory");
    uint32_t si = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->tokens[i].special &&
            (st = tg__strtab_set(&a->specials, si++, a->tokens[i].content, a->tokens[i].content_len, err)))
            return st;
    if ((st = tg__strtab_index(&a->specials, 0, err))) return st;

    tg__matcher m;
    if ((st = tg__matcher_init(&m, err))) return st;
    tgx_buf nb, tmp;
    tgx_buf_init(&nb, TG__MAX_TEXT_BYTES);
    tgx_buf_init(&tmp, TG__MAX_TEXT_BYTES);
    for (size_t i = 0; i < a->n && !st; i++) {
        tg__added_token *k = &a->tokens[i];
        tg__trie **tp = k->normalized ? &a->norm : &a->raw;
        if (!*tp && !(*tp = tg__trie_new())) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); break; }
        if (k->normalized) {
            tgx_buf_reset(&nb);
            if ((st = tg__normalize(&t->norm, &m, k->content, k->content_len, &nb, &tmp, NULL, err))) break;
            st = tg__trie_add(*tp, nb.data ? nb.data : "", nb.len, (uint32_t)i);
        } else {
            st = tg__trie_add(*tp, k->content, k->content_len, (uint32_t)i);
        }
        if (st && !err->msg[0]) tg_error_set(err, st, "out of memory");
    }
    tgx_buf_free(&nb);
    tgx_buf_free(&tmp);
    tg__matcher_free(&m);
    return st;
}

tg_status tg__tokenizer_build(const tg__bpe_spec *model, const tg__added_spec *added,
                              size_t n_added, const json_t *normalizer,
                              const json_t *pre_tokenizer, const json_t *post_processor,
                              const json_t *decoder, tg__config *cfg, tg_tokenizer **out,
                              tg_error *err) {
    return tg__tokenizer_build_ex(model, added, n_added, normalizer, pre_tokenizer, post_processor, decoder,
                                  cfg, 0, out, err);
}

tg_status tg__tokenizer_build_ex(const tg__bpe_spec *model, const tg__added_spec *added,
                                 size_t n_added, const json_t *normalizer,
                                 const json_t *pre_tokenizer, const json_t *post_processor,
                                 const json_t *decoder, tg__config *cfg, unsigned flags,
                                 tg_tokenizer **out, tg_error *err) {
    tg_error local;
    if (!err) err = &local;
    err->msg[0] = '\0';
    tg_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        if (cfg) { tg__config_free(cfg); }
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    if (cfg) {
        t->cfg = *cfg;
        memset(cfg, 0, sizeof *cfg);
    } else {
        t->cfg.bos_id = t->cfg.eos_id = t->cfg.pad_id = t->cfg.unk_id = TG__NO_ID;
        t->cfg.add_bos = t->cfg.add_eos = -1;
    }
    tg_status st;
    if ((st = tg__normalizer_from_json(&t->norm, normalizer, err))) { tg_error_wrap(err, "normalizer"); goto fail; }
    if ((st = tg__pretokenizer_from_json(&t->pretok, pre_tokenizer, err))) { tg_error_wrap(err, "pre_tokenizer"); goto fail; }
    if ((st = tg__postproc_from_json(&t->post, post_processor, err))) { tg_error_wrap(err, "post_processor"); goto fail; }
    if ((st = tg__decoder_from_json(&t->dec, decoder, err))) { tg_error_wrap(err, "decoder"); goto fail; }
    if ((st = tg__bpe_build(&t->bpe, model, t->pretok.byte_level, err))) { tg_error_wrap(err, "model"); goto fail; }
    if ((st = build_added(t, added, n_added, flags, err))) { tg_error_wrap(err, "added_tokens"); goto fail; }
    t->vocab_size = t->bpe.tokens.count > t->added.max_id ? t->bpe.tokens.count : t->added.max_id;
    /* Gemma block: sp_raw.c's path when it gives the same ids */
    tg__sp_raw_setup(t);
    tg__config_resolve(t);
    *out = t;
    return TG_OK;
fail:
    tg_tokenizer_free(t);
    return st;
}

/* ---- encode ---- */

typedef struct enc {
    const tg_tokenizer *t;
    const uint8_t *text;
    tg_tokens *out;
    tg__bpe_scratch *bs;
    tg__matcher m;
    tg__pt_run run;
    tgx_buf norm, tmp;
    int parse_special;
    int seg_at_start;       /* current raw segment starts at offset 0 */
    const uint8_t *normtext;
    tg_error *err;
    tg__sp_run *sp;         /* Gemma block: sp_raw.c's path, when the tokenizer takes it */
} enc;

static tg_status push_one(tg_tokens *out, uint32_t id) {
    if (out->len == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        uint32_t *p = realloc(out->ids, cap * sizeof *p);
        if (!p) return TG_ENOMEM;
        out->ids = p;
        out->cap = cap;
    }
    out->ids[out->len++] = id;
    return TG_OK;
}

static tg_status sink(void *ctx, const uint8_t *p, size_t n) {
    enc *e = ctx;
    return tg__bpe_encode(&e->t->bpe, e->bs, p, n, e->out, NULL);
}

static tg_status sink_many(void *ctx, const uint8_t *s, size_t start, const size_t *ends, size_t k) {
    enc *e = ctx;
    return tg__bpe_encode_pieces(&e->t->bpe, e->bs, s, start, ends, k, e->out, NULL);
}

static tg_status norm_segment(void *ctx, size_t start, size_t end, uint32_t id) {
    enc *e = ctx;
    if (id != TG__NO_ID) {
        tg_status st = push_one(e->out, id);
        return st ? tg_error_set(e->err, st, "out of memory") : TG_OK;
    }
    return tg__pretokenize(&e->run, e->normtext + start, end - start, e->seg_at_start && start == 0, e->err);
}

static tg_status raw_segment(void *ctx, size_t start, size_t end, uint32_t id) {
    enc *e = ctx;
    tg_status st;
    if (e->sp) return id != TG__NO_ID ? tg__sp_run_id(e->sp, id) : tg__sp_run_segment(e->sp, start, end); /* Gemma */
    if (id != TG__NO_ID) {
        st = push_one(e->out, id);
        return st ? tg_error_set(e->err, st, "out of memory") : TG_OK;
    }
    const uint8_t *s = e->text + start;
    size_t n = end - start;
    e->seg_at_start = start == 0;
    if (e->t->norm.n) {
        tgx_buf_reset(&e->norm);
        int kept = 1;
        if ((st = tg__normalize(&e->t->norm, &e->m, (const char *)s, n, &e->norm, &e->tmp, &kept, e->err))) return st;
        /* HF's Metaspace "first" asks whether a piece starts at original
         * offset 0: not so once the normalizer removed the leading chars */
        e->seg_at_start = e->seg_at_start && kept;
        s = (const uint8_t *)(e->norm.data ? e->norm.data : "");
        n = e->norm.len;
    }
    e->normtext = s;
    if (e->t->added.norm)
        return tg__added_split(&e->t->added, e->t->added.norm, s, n, e->parse_special, norm_segment, e);
    if (n == 0) return TG_OK;
    return norm_segment(e, 0, n, TG__NO_ID);
}

tg_status tg_tokenizer_encode(const tg_tokenizer *t, const char *text, size_t len, unsigned flags,
                              tg_tokens *out, tg_error *err) {
    tg_error local;
    if (!err) err = &local;
    if (!t || (!text && len) || !out) return tg_error_set(err, TG_EINVAL, "tg_tokenizer_encode: NULL argument");
    if (len > TG__MAX_TEXT_BYTES)
        return tg_error_set(err, TG_ELIMIT, "text of %zu bytes exceeds the %zu-byte limit of one encode call",
                            len, TG__MAX_TEXT_BYTES);
    size_t bad;
    if (!tgx_utf8_valid((const uint8_t *)text, len, &bad))
        return tg_error_set(err, TG_EINVAL, "text is not valid UTF-8 (byte offset %zu)", bad);
    out->len = 0;
    enc e;
    memset(&e, 0, sizeof e);
    e.t = t;
    e.text = (const uint8_t *)(text ? text : "");
    e.out = out;
    e.err = err;
    e.parse_special = !(flags & TG_ENCODE_NO_PARSE_SPECIAL);
    tg_status st;
    if ((st = tg__matcher_init(&e.m, err))) return st;
    e.bs = tg__bpe_scratch_new();
    if (!e.bs) {
        tg__matcher_free(&e.m);
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    tgx_buf_init(&e.norm, TG__MAX_TEXT_BYTES * 4);
    tgx_buf_init(&e.tmp, TG__MAX_TEXT_BYTES * 4);
    tg__pt_run_init(&e.run, &t->pretok, &e.m, sink, &e);
    e.run.sink_many = sink_many;
    int add = (flags & TG_ENCODE_ADD_SPECIAL) != 0;
    if (add)
        for (size_t i = 0; i < t->post.n_prefix && !st; i++)
            if (push_one(out, t->post.prefix[i])) st = tg_error_set(err, TG_ENOMEM, "out of memory");
    tg__sp_run sp; /* Gemma block: segments and added tokens queue here (sp_raw.h) */
    if (t->sp_raw.ws_id != TG__NO_ID) {
        tg__sp_run_init(&sp, t, e.bs, e.text, len, &e.norm, out, err);
        e.sp = &sp;
    }
    if (!st && len) {
        if (t->added.raw)
            st = tg__added_split(&t->added, t->added.raw, e.text, len, e.parse_special, raw_segment, &e);
        else
            st = raw_segment(&e, 0, len, TG__NO_ID);
    }
    if (e.sp) {
        if (!st) st = tg__sp_run_finish(e.sp);
        tg__sp_run_free(e.sp);
    }
    if (add)
        for (size_t i = 0; i < t->post.n_suffix && !st; i++)
            if (push_one(out, t->post.suffix[i])) st = tg_error_set(err, TG_ENOMEM, "out of memory");
    tg__pt_run_free(&e.run);
    tgx_buf_free(&e.norm);
    tgx_buf_free(&e.tmp);
    tg__bpe_scratch_free(e.bs);
    tg__matcher_free(&e.m);
    return st;
}

tg_status tg_tokenizer_count(const tg_tokenizer *t, const char *text, size_t len, unsigned flags,
                             size_t *count, tg_error *err) {
    tg_tokens toks = {0};
    tg_status st = tg_tokenizer_encode(t, text, len, flags, &toks, err);
    if (!st) *count = toks.len;
    tg_tokens_free(&toks);
    return st;
}

void tg_tokens_free(tg_tokens *t) {
    if (!t) return;
    free(t->ids);
    t->ids = NULL;
    t->len = t->cap = 0;
}

/* ---- queries ---- */

tg_status tg_tokenizer_decode(const tg_tokenizer *t, const uint32_t *ids, size_t n, int skip_special,
                              char **text, size_t *len, tg_error *err) {
    tgx_buf b;
    tgx_buf_init(&b, TG__MAX_TEXT_BYTES);
    tg_status st = tg__decode_ids(t, ids, n, skip_special, 1, &b, err);
    if (st) {
        tgx_buf_free(&b);
        return st;
    }
    if (!b.data && (st = tgx_buf_reserve(&b, 1))) return tg_error_set(err, st, "out of memory");
    b.data[b.len] = '\0';
    *text = tgx_buf_detach(&b, len);
    return TG_OK;
}

void tg_text_free(char *text) { free(text); }

uint32_t tg_tokenizer_vocab_size(const tg_tokenizer *t) { return t->vocab_size; }

int tg_tokenizer_token_piece(const tg_tokenizer *t, uint32_t id, const char **piece, size_t *len) {
    tg__bytes b;
    if (!tg__token_string(t, id, &b)) return 0;
    *piece = b.p;
    *len = b.n;
    return 1;
}

uint32_t tg_tokenizer_token_id(const tg_tokenizer *t, const char *piece, size_t len) {
    for (size_t i = 0; i < t->added.n; i++)
        if (t->added.tokens[i].content_len == len && memcmp(t->added.tokens[i].content, piece, len) == 0)
            return t->added.tokens[i].id;
    return tg__bpe_find_token(&t->bpe, piece, len);
}

int tg_tokenizer_is_special(const tg_tokenizer *t, uint32_t id) { return tg__is_special(t, id); }
uint32_t tg_tokenizer_bos_id(const tg_tokenizer *t) { return t->cfg.bos_id; }
uint32_t tg_tokenizer_eos_id(const tg_tokenizer *t) { return t->cfg.eos_id; }
int tg_tokenizer_add_bos(const tg_tokenizer *t) { return t->cfg.add_bos; }
int tg_tokenizer_add_eos(const tg_tokenizer *t) { return t->cfg.add_eos; }
const char *tg_tokenizer_bos_token(const tg_tokenizer *t) { return t->cfg.bos_token; }
const char *tg_tokenizer_eos_token(const tg_tokenizer *t) { return t->cfg.eos_token; }

const uint32_t *tg_tokenizer_eog_ids(const tg_tokenizer *t, size_t *n) {
    *n = t->cfg.n_eog;
    return t->cfg.eog_ids;
}

int tg_tokenizer_is_eog(const tg_tokenizer *t, uint32_t id) {
    for (size_t i = 0; i < t->cfg.n_eog; i++)
        if (t->cfg.eog_ids[i] == id) return 1;
    return 0;
}

const char *tg_tokenizer_chat_template(const tg_tokenizer *t, const char *name) {
    if (!name || strcmp(name, "default") == 0) {
        if (t->cfg.chat_template) return t->cfg.chat_template;
        name = "default";
    }
    for (size_t i = 0; i < t->cfg.n_templates; i++)
        if (strcmp(t->cfg.template_names[i], name) == 0) return t->cfg.template_srcs[i];
    return NULL;
}
