/*
 * gateway/req_fast.c: the whole-request count cache and the spliced forward
 * body; see req_fast.h.
 */
#include "gateway/req_fast.h"

#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/buf.h"
#include "util/siphash.h"

typedef struct slot {
    int used;
    uint8_t key[16];
    uint64_t total, fixed;
    int exact;
    int total_only; /* items not kept: zeros (tg__rfast_put_total) */
    size_t n_items;
    uint64_t *items;
} slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static slot *slots;          /* TG__RFAST_SLOTS, made on the first insert */
static uint8_t sipkey[16];
static tgx_sip sip_domain; /* the hash state after the domain string, every key's start */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void make_key(void) {
    if (getrandom(sipkey, sizeof sipkey, 0) != (ssize_t)sizeof sipkey) {
        uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&t; /* no entropy source: still per process */
        memcpy(sipkey, &t, sizeof t);
    }
    tgx_sip_init_rounds(&sip_domain, sipkey, 1, 3);
    static const char domain[] = "tokgate whole-request count, v2"; /* 32 bytes with its NUL: what follows starts a word */
    tgx_sip_feed(&sip_domain, domain, sizeof domain);
}

/* All of F zero but the scan's inline members (req_scan.h: written before
 * they are read): two small memsets where one of the whole struct cost ~100
 * instructions, twice per request (issue 17). */
static void rfast_clear(tg__rfast *f) {
    const size_t inl = offsetof(tg__rfast, scan.inl), past = offsetof(tg__rfast, scan.n);
    memset(f, 0, inl);
    memset((char *)f + past, 0, sizeof *f - past);
}

void tg__rfast_begin(tg__rfast *f, const char *body, size_t len, int eligible) {
    rfast_clear(f);
    if (!eligible || !body) return;
    tg_error err; /* (what went wrong is the whole parse's to say: never read) */
    if (tg__req_scan_run(body, len, &f->scan, &err) != TG_OK) return; /* the whole parse says why */
    const tg__req_member *m = tg__req_scan_get(&f->scan, body, "messages");
    if (f->scan.any_escaped_key || f->scan.raw_nul || !m || m->type != '[' || m->n_elems == 0 || m->n_elems > TG__RFAST_MAX_ITEMS) {
        tg__req_scan_free(&f->scan);
        return;
    }
    f->on = 1;
}

/* F's counts freed (items_inl is not allocated). */
static void counts_free(tg__rfast *f) {
    if (f->counts.items == f->items_inl) memset(&f->counts, 0, sizeof f->counts);
    else tg_prompt_counts_free(&f->counts);
}

void tg__rfast_end(tg__rfast *f) {
    tg__req_scan_free(&f->scan);
    counts_free(f);
    rfast_clear(f);
}

/* Top-level fields neither the chat template (chat.c, chat_llamacpp.c: they
 * read messages, tools, documents, chat_template_kwargs,
 * add_generation_prompt, continue_final_message, reasoning_effort) nor the
 * per-message counter (estimate.c: messages, tools) reads. Everything else is
 * in the key, known or not. */
static int excluded_key(const char *k, size_t n) {
    /* by length first (issue 17: the 22-name scan ran for every member), then
     * the few names of that length, each compared at its known size */
#define IS(s) (memcmp(k, (s), sizeof(s) - 1) == 0)
    switch (n) {
    case 1: return k[0] == 'n';
    case 4: return IS("stop") || IS("user") || IS("seed");
    case 5: return IS("model") || IS("top_p") || IS("top_k") || IS("min_p");
    case 6: return IS("stream");
    case 8: return IS("logprobs");
    case 10: return IS("max_tokens") || IS("logit_bias") || IS("truncation");
    case 11: return IS("temperature");
    case 12: return IS("top_logprobs");
    case 13: return IS("thinking_mode");
    case 14: return IS("stream_options");
    case 16: return IS("presence_penalty");
    case 17: return IS("frequency_penalty");
    case 18: return IS("repetition_penalty");
    case 19: return IS("max_thinking_tokens");
    case 21: return IS("max_completion_tokens");
    default: return 0;
    }
#undef IS
}

void tg__rfast_key(tg__rfast *f, const char *body, const void *tok, const void *chat, int dialect) {
    pthread_once(&key_once, make_key);
    tgx_sip s = sip_domain;
    uintptr_t id[3] = {(uintptr_t)tok, (uintptr_t)chat, (uintptr_t)(unsigned)dialect};
    tgx_sip_feed(&s, id, sizeof id);
    for (size_t i = 0; i < f->scan.n; i++) {
        const tg__req_member *m = &f->scan.m[i];
        uint64_t kl = m->kend - m->kstart, vl = m->vend - m->vstart;
        if (excluded_key(body + m->kstart, kl)) continue;
        uint64_t lens[2] = {kl, vl}; /* both lengths first, then the bytes they measure: one feed fewer */
        tgx_sip_feed(&s, lens, sizeof lens);
        tgx_sip_feed(&s, body + m->kstart, kl);
        tgx_sip_feed(&s, body + m->vstart, vl);
    }
    tgx_sip_final128(&s, f->key);
    f->have_key = 1;
}

static size_t slot_of(const uint8_t key[16]) {
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h % TG__RFAST_SLOTS);
}

int tg__rfast_lookup(tg__rfast *f) {
    if (!f->have_key) return 0;
    int hit = 0;
    pthread_mutex_lock(&mu);
    const slot *s = slots ? &slots[slot_of(f->key)] : NULL;
    if (s && s->used && memcmp(s->key, f->key, 16) == 0) {
        uint64_t *items = !s->n_items                                       ? NULL
                          : s->n_items <= sizeof f->items_inl / sizeof *items ? f->items_inl
                                                                               : malloc(s->n_items * sizeof *items);
        if (items || !s->n_items) {
            if (s->n_items && s->total_only) memset(items, 0, s->n_items * sizeof *items);
            if (s->n_items && !s->total_only) memcpy(items, s->items, s->n_items * sizeof *items);
            f->counts = (tg_prompt_counts){s->total, s->exact, s->fixed, s->n_items, items};
            f->total_only = s->total_only;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&mu);
    f->hit = hit;
    return hit;
}

static void put_slot(const uint8_t key[16], const tg_prompt_counts *c, int total_only);

void tg__rfast_put(const uint8_t key[16], const tg_prompt_counts *c) {
    if (c->n_items && !c->items) return;
    put_slot(key, c, 0);
}

void tg__rfast_put_total(const uint8_t key[16], uint64_t total, size_t n_items) {
    tg_prompt_counts c = {total, 1, 0, n_items, NULL};
    put_slot(key, &c, 1);
}

static void put_slot(const uint8_t key[16], const tg_prompt_counts *c, int total_only) {
    if (c->n_items > TG__RFAST_MAX_ITEMS) return;
    int keep = c->n_items && !total_only;
    uint64_t *items = keep ? malloc(c->n_items * sizeof *items) : NULL;
    if (keep && !items) return;
    if (keep) memcpy(items, c->items, c->n_items * sizeof *items);
    pthread_mutex_lock(&mu);
    if (!slots) slots = calloc(TG__RFAST_SLOTS, sizeof *slots);
    if (!slots) {
        pthread_mutex_unlock(&mu);
        free(items);
        return;
    }
    slot *s = &slots[slot_of(key)]; /* direct-mapped: a newer chat replaces an older one */
    uint64_t *old = s->items;
    *s = (slot){1, {0}, c->total, c->fixed, c->exact, total_only, c->n_items, items};
    memcpy(s->key, key, 16);
    pthread_mutex_unlock(&mu);
    free(old);
}

/* The end of the (scanned, valid) JSON value that starts at I, before END. */
static size_t value_end(const char *s, size_t i, size_t end) {
    int depth = 0;
    for (; i < end; i++) {
        char ch = s[i];
        if (ch == '"') {
            for (i++; i < end && s[i] != '"'; i++)
                if (s[i] == '\\') i++;
            if (depth == 0) return i + 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (--depth <= 0) return i + 1;
        } else if (depth == 0 && (ch == ',' || ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')) {
            return i;
        }
    }
    return i;
}

static size_t skip_ws(const char *s, size_t i, size_t end) {
    while (i < end && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    return i;
}

/* 1 when the object at BODY[a..b) has an unescaped "role" whose (last)
 * value is a string and no escaped key (that could spell "role"). */
static int has_string_role(const char *body, size_t a, size_t b) {
    tg__req_scan sc;
    tg_error err;
    memset(&err, 0, sizeof err);
    if (tg__req_scan_run(body + a, b - a, &sc, &err) != TG_OK) return 0;
    const tg__req_member *r = sc.any_escaped_key ? NULL : tg__req_scan_get(&sc, body + a, "role");
    int ok = r && r->type == '"';
    tg__req_scan_free(&sc);
    return ok;
}

/* What check_messages (policy/request.c) requires of each message, from the
 * bytes of the array MS: 0 on anything else (the whole parse answers). */
static int messages_shaped(const char *body, const tg__req_member *ms) {
    if (ms->type != '[') return 0;
    size_t i = ms->vstart + 1, end = ms->vend, n = 0;
    for (;;) {
        i = skip_ws(body, i, end);
        if (i >= end || body[i] != '{') return 0;
        size_t e = value_end(body, i, end);
        if (!has_string_role(body, i, e)) return 0;
        n++;
        i = skip_ws(body, e, end);
        if (i < end && body[i] == ',') {
            i++;
            continue;
        }
        return i < end && body[i] == ']' && n == ms->n_elems;
    }
}

int tg__rfast_messages_shaped(const tg__rfast *f, const char *body) {
    const tg__req_member *ms = f->on ? tg__req_scan_get(&f->scan, body, "messages") : NULL;
    return ms && messages_shaped(body, ms);
}

int tg__rfast_count_cold(tg__rfast *f, const char *body, size_t len, const tg_chat *chat, tg_count_cache *cache) {
    if (!f->on || !f->have_key || !chat || !cache) return 0;
    const tg__req_member *ms = tg__req_scan_get(&f->scan, body, "messages");
    if (!ms || !messages_shaped(body, ms)) return 0;
    tg_chat_options opt; /* tg_budget_count_chat's, in the HF dialect */
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = TG_CHAT_HF;
    size_t n = 0;
    tg_error err;
    memset(&err, 0, sizeof err);
    if (tg_chat_count_body_cached(chat, cache, body, len, &opt, 0u, &n, &err) != TG_OK) return 0;
    counts_free(f);
    f->counts.items = calloc(ms->n_elems, sizeof *f->counts.items);
    if (!f->counts.items) return 0;
    f->counts.total = (uint64_t)n;
    f->counts.exact = 1;
    f->counts.n_items = ms->n_elems;
    f->hit = f->cold = f->total_only = 1;
    return 1;
}

int tg__rfast_accepts(const tg__rfast *f, const tg_decision *d) {
    return !f->total_only || (d->action == TG_ACTION_FORWARD && d->truncation.mode == TG_TRUNC_NONE);
}

void tg__rfast_drop_counts(tg__rfast *f) {
    counts_free(f);
    f->hit = f->cold = f->total_only = 0;
}

void tg__rfast_clear(void) {
    pthread_mutex_lock(&mu);
    if (slots)
        for (size_t i = 0; i < TG__RFAST_SLOTS; i++) free(slots[i].items);
    free(slots);
    slots = NULL;
    pthread_mutex_unlock(&mu);
}

int tg__rfast_spliceable(const tg_budget_decision *bd, const json_t *before) {
    const tg_decision *d = &bd->d;
    if (d->action != TG_ACTION_FORWARD || d->truncation.applied || d->truncation.summarize) return 0;
    if (d->budget.adaptive) return 0;
    if (!d->request) return 1;
    const json_t *was = json_object_get(before, "messages");
    if (bd->escalated && !json_equal(json_object_get(bd->escalated, "messages"), was)) return 0;
    return json_equal(json_object_get(d->request, "messages"), was);
}

/* The member at index I is the last of its key's duplicates. */
static int last_of_key(const char *body, const tg__req_scan *sc, size_t i) {
    const tg__req_member *m = &sc->m[i];
    size_t kl = m->kend - m->kstart;
    for (size_t k = i + 1; k < sc->n; k++)
        if (sc->m[k].kend - sc->m[k].kstart == kl && memcmp(body + sc->m[k].kstart, body + m->kstart, kl) == 0)
            return 0;
    return 1;
}

static int put_member(tgx_buf *b, int *first, const char *key, const json_t *v) {
    char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!txt) return -1;
    json_t *ks = json_string(key);
    char *kt = ks ? json_dumps(ks, JSON_ENCODE_ANY) : NULL;
    json_decref(ks);
    if (!kt) {
        free(txt);
        return -1;
    }
    int bad = !*first && tgx_buf_putc(b, ',') != TG_OK;
    *first = 0;
    bad |= tgx_buf_puts(b, kt) != TG_OK || tgx_buf_putc(b, ':') != TG_OK || tgx_buf_puts(b, txt) != TG_OK;
    free(kt);
    free(txt);
    return bad ? -1 : 0;
}

char *tg__rfast_splice(const char *body, const tg__req_scan *sc, const json_t *before, const json_t *after,
                       size_t *out_len) {
    tgx_buf b;
    size_t total = 2;
    for (size_t i = 0; i < sc->n; i++) total += sc->m[i].vend - sc->m[i].kstart + 4;
    tgx_buf_init(&b, SIZE_MAX);
    int first = 1, bad = tgx_buf_reserve(&b, total + 256) != TG_OK || tgx_buf_putc(&b, '{') != TG_OK;
    json_t *done = json_object(); /* keys of AFTER already written */
    bad |= !done || !after;
    for (size_t i = 0; i < sc->n && !bad; i++) {
        const tg__req_member *m = &sc->m[i];
        if (!last_of_key(body, sc, i)) continue;
        char key[128];
        size_t kl = m->kend - m->kstart;
        int small = kl < sizeof key && !memchr(body + m->kstart, '\0', kl);
        if (small) {
            memcpy(key, body + m->kstart, kl);
            key[kl] = '\0';
        }
        const json_t *was = small ? json_object_get(before, key) : NULL;
        const json_t *now = small ? json_object_get(after, key) : NULL;
        if (was && !now) continue; /* the policy removed it */
        if (was && now && !json_equal(was, now)) {
            bad = put_member(&b, &first, key, now) || json_object_set_new(done, key, json_null());
            continue;
        }
        if (now) bad = json_object_set_new(done, key, json_null());
        bad |= !first && tgx_buf_putc(&b, ',') != TG_OK;
        first = 0;
        bad |= tgx_buf_append(&b, body + m->kstart - 1, m->vend - m->kstart + 1) != TG_OK;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)after, k, v) {
        if (bad) break;
        if (!json_object_get(done, k)) bad = put_member(&b, &first, k, v);
    }
    json_decref(done);
    bad |= tgx_buf_putc(&b, '}') != TG_OK;
    size_t n = 0;
    char *out = tgx_buf_detach(&b, &n);
    if (bad || !out) {
        free(out);
        return NULL;
    }
    *out_len = n;
    return out;
}
