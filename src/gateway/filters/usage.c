/*
 * gateway/filters/usage.c: the usage-metering filter (filter.h); finds token usage in a relayed answer without holding it
 * back. A JSON answer is copied aside (up to USAGE_MAX_BODY bytes) and
 * parsed at the end for its "usage" object. An SSE answer is split into
 * lines as it streams; a "data:" line whose JSON carries a non-null "usage"
 * (llama-server's and vLLM's final chunk; OpenAI's with include_usage)
 * replaces what was seen before. Lines over USAGE_MAX_LINE bytes are skipped.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/filters/usage.h"
#include "util/json_lex.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define USAGE_MAX_BODY (8u << 20)
#define USAGE_MAX_LINE (1u << 20)

void tg__usage_init(tg__usage *u, int sse) {
    u->prompt_tokens = u->completion_tokens = -1;
    u->sse = sse;
    u->line_skip = u->body_skip = 0;
    u->prompt_n = u->prompt_ms = -1;
    u->reasoning_tokens = u->reasoning_chunks = -1;
    u->finish[0] = '\0';
    tgx_buf_init(&u->line, USAGE_MAX_LINE);
    tgx_buf_init(&u->body, USAGE_MAX_BODY);
}

void tg__usage_free(tg__usage *u) {
    tgx_buf_free(&u->line);
    tgx_buf_free(&u->body);
}

int tg__usage_from_json(json_t *o, int64_t *prompt, int64_t *completion) {
    json_t *us = json_object_get(o, "usage");
    if (!json_is_object(us) && json_is_integer(json_object_get(o, "prompt_eval_count"))) {
        /* Ollama's native answer: the last object's Metrics (api/types.go:
         * prompt_eval_count, eval_count; issue 19) */
        json_t *pe = json_object_get(o, "prompt_eval_count"), *ec = json_object_get(o, "eval_count");
        *prompt = (int64_t)json_integer_value(pe);
        *completion = json_is_integer(ec) ? (int64_t)json_integer_value(ec) : -1;
        return 1;
    }
    if (!json_is_object(us)) return 0;
    json_t *p = json_object_get(us, "prompt_tokens"), *c = json_object_get(us, "completion_tokens");
    if (!json_is_integer(p) && !json_is_integer(c)) return 0;
    *prompt = json_is_integer(p) ? (int64_t)json_integer_value(p) : -1;
    *completion = json_is_integer(c) ? (int64_t)json_integer_value(c) : -1;
    return 1;
}

/* llama-server's "timings": prompt_n tokens processed (cached ones left
 * out) in prompt_ms; vLLM sends none. */
static void timings_from(tg__usage *u, json_t *o) {
    json_t *t = json_object_get(o, "timings");
    json_t *n = json_object_get(t, "prompt_n"), *ms = json_object_get(t, "prompt_ms");
    if (json_is_number(n) && json_is_number(ms)) {
        u->prompt_n = json_number_value(n);
        u->prompt_ms = json_number_value(ms);
    }
}

/* usage.completion_tokens_details.reasoning_tokens (OpenAI's field; vLLM
 * fills it when a reasoning parser runs). */
static void reasoning_from(tg__usage *u, json_t *o) {
    json_t *r = json_object_get(json_object_get(json_object_get(o, "usage"), "completion_tokens_details"),
                                "reasoning_tokens");
    if (json_is_integer(r) && json_integer_value(r) >= 0) u->reasoning_tokens = (int64_t)json_integer_value(r);
}

static void finish_from(tg__usage *u, const char *fr) {
    if (fr) snprintf(u->finish, sizeof u->finish, "%s", fr);
}

/* A non-streamed answer: choices[0].finish_reason. */
static void finish_of_body(tg__usage *u, json_t *o) {
    finish_from(u, json_string_value(json_object_get(json_array_get(json_object_get(o, "choices"), 0),
                                                     "finish_reason")));
}

/* KEY":"X with X not the closing quote, in p[0..n): the field is there and
 * not empty. Scanned, not parsed: every chunk of a stream passes here. */
static const char *find_value(const char *p, size_t n, const char *key) {
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 1 < n; i++) {
        if (p[i] != '"' || memcmp(p + i + 1, key, k) != 0) continue;
        size_t j = i + 1 + k;
        if (j < n && p[j] == '"') j++;
        else continue;
        while (j < n && (p[j] == ' ' || p[j] == ':')) j++;
        return j < n ? p + j : NULL;
    }
    return NULL;
}

/* One SSE event's thinking and finish_reason, without parsing it. */
static void scan_event(tg__usage *u, const char *p, size_t n) {
    const char *v = find_value(p, n, "reasoning_content");
    if (!v) v = find_value(p, n, "reasoning");
    if (v && *v == '"' && v + 1 < p + n && v[1] != '"')
        u->reasoning_chunks = u->reasoning_chunks < 0 ? 1 : u->reasoning_chunks + 1;
    const char *f = find_value(p, n, "finish_reason");
    if (f && *f == '"') {
        const char *e = memchr(f + 1, '"', (size_t)(p + n - f - 1));
        if (e && (size_t)(e - f - 1) < sizeof u->finish) {
            memcpy(u->finish, f + 1, (size_t)(e - f - 1));
            u->finish[e - f - 1] = '\0';
        }
    }
}

int64_t tg__usage_thinking(const tg__usage *u) {
    if (u->reasoning_tokens >= 0) return u->reasoning_tokens;
    if (u->sse) return u->reasoning_chunks < 0 ? 0 : u->reasoning_chunks;
    return -1;
}

static int has_usage_key(const char *p, size_t n) {
    for (size_t i = 0; i + 7 <= n; i++)
        if (p[i] == '"' && memcmp(p + i, "\"usage\"", 7) == 0) return 1;
    return 0;
}

static void sse_line(tg__usage *u, const char *p, size_t n) {
    if (n && p[n - 1] == '\r') n--;
    if (n < 5 || memcmp(p, "data:", 5) != 0) return;
    p += 5;
    n -= 5;
    scan_event(u, p, n);
    if (!has_usage_key(p, n)) return;
    json_t *o = json_loadb(p, n, 0, NULL);
    if (!o) return;
    tg__usage_from_json(o, &u->prompt_tokens, &u->completion_tokens);
    timings_from(u, o);
    reasoning_from(u, o);
    json_decref(o);
}

void tg__usage_feed(tg__usage *u, const char *p, size_t n) {
    if (!u->sse) {
        if (!u->body_skip && tgx_buf_append(&u->body, p, n) != TG_OK) u->body_skip = 1;
        return;
    }
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!u->line_skip && tgx_buf_append(&u->line, p, take) != TG_OK) u->line_skip = 1;
        if (!nl) return;
        if (!u->line_skip && u->line.len) sse_line(u, u->line.data, u->line.len);
        tgx_buf_reset(&u->line);
        u->line_skip = 0;
        p += take + 1;
        n -= take + 1;
    }
}

/* ---- a non-streamed answer without a DOM ---------------------------------
 * jansson builds a tree of the whole answer to read four fields: for a
 * small answer that cost more than the rest of its relay. scan_body reads
 * the same fields in two passes over the bytes: the first checks the whole
 * document as jansson's json_loadb would accept it (an object, strict
 * strings and UTF-8, no \u0000, paired surrogates, numbers that fit: the
 * tokens of util/json_lex.h) and
 * notes where the last "usage", "timings", "choices", "prompt_eval_count"
 * and "eval_count" values start (the last of a repeated key wins, as in
 * jansson); the second reads those values. Anything it is not sure of (a
 * key or finish_reason with escapes, deep nesting, a raw NUL byte) returns
 * 0, and the caller parses with jansson as before, so the answer is the same either way (test_filter_usage compares them). */
typedef struct jw {
    const char *p, *e;
    int depth;
} jw;

/* The tokens come from util/json_lex.h (jansson's rules, shared with
 * req_scan.c and chat_body.c); here w->p is the lexer's s[0]. */
static void jw_ws(jw *w) {
    if (w->p < w->e && (unsigned char)*w->p > ' ') return; /* the usual case: no whitespace (all of it is <= ' ') */
    w->p += tgx_json_ws((const unsigned char *)w->p, 0, (size_t)(w->e - w->p));
}

/* The length of a string at s[0] (its quote) whose first 16 bytes after
 * the quote hold its closing quote and before it only printable ASCII (no
 * backslash): what tgx_json_string's skim finds first there, so it would
 * accept it, without escapes. 0 otherwise (that function decides). */
static size_t short_plain_string(const unsigned char *s, const unsigned char *e) {
#if defined(__SSE2__)
    if (e - s < 17) return 0;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + 1));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                               _mm_cmplt_epi8(x, _mm_set1_epi8(0x20))); /* signed: 0x80 and above too */
    unsigned m = (unsigned)_mm_movemask_epi8(hit);
    if (!m) return 0;
    size_t k = (size_t)__builtin_ctz(m);
    return s[1 + k] == '"' ? k + 2 : 0;
#else
    (void)s;
    (void)e;
    return 0;
#endif
}

/* A string at w->p (its quote); 1 if valid and free of \u0000 (jansson
 * refuses it without JSON_ALLOW_NUL). *esc: it held an escape. */
static inline int jw_string(jw *w, const char **s, size_t *n, int *esc) {
    if (w->p >= w->e || *w->p != '"') return 0;
    size_t i = short_plain_string((const unsigned char *)w->p, (const unsigned char *)w->e);
    if (i) {
        *s = w->p + 1;
        *n = i - 2;
        *esc = 0;
        w->p += i;
        return 1;
    }
    unsigned fl = 0;
    if (tgx_json_string((const unsigned char *)w->p, (size_t)(w->e - w->p), &i, &fl) || (fl & TGX_JSON_NUL)) return 0;
    *s = w->p + 1;
    *n = i - 2;
    *esc = (fl & TGX_JSON_ESC) != 0;
    w->p += i;
    return 1;
}

/* The length of an integer at p of at most 18 digits (it fits int64), no
 * leading zero, not followed by what would make it a real or invalid: what
 * tgx_json_number accepts as an integer there; its value in *iv. 0
 * otherwise (that function decides). */
static inline size_t short_int(const char *p, const char *e, int64_t *iv) {
    const char *q = p + (p < e && *p == '-');
    if (q >= e || *q < '0' || *q > '9') return 0;
    uint64_t v = 0;
    const char *d = q;
    if (*q == '0') q++;
    else
        while (q < e && *q >= '0' && *q <= '9' && q - d < 18) v = v * 10 + (uint64_t)(*q++ - '0');
    if (q < e && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E')) return 0;
    *iv = d != p ? -(int64_t)v : (int64_t)v;
    return (size_t)(q - p);
}

/* A number: 1 integer (fits int64), 2 real (finite), 0 invalid. */
static inline int jw_number(jw *w, int64_t *iv, double *dv) {
    size_t i = short_int(w->p, w->e, iv);
    if (i) {
        *dv = (double)*iv;
        w->p += i;
        return 1;
    }
    int real = 0;
    if (tgx_json_number((const unsigned char *)w->p, (size_t)(w->e - w->p), &i, &real, dv)) return 0;
    if (!real) { /* at most "-" and 19 digits: the lexer checked the range (strtoll's value, without its copy) */
        size_t k = *w->p == '-';
        uint64_t v = 0;
        for (size_t j = k; j < i; j++) v = v * 10 + (uint64_t)(w->p[j] - '0');
        *iv = !k ? (int64_t)v : v ? -(int64_t)(v - 1) - 1 : 0;
        *dv = (double)*iv;
    }
    w->p += i;
    return real ? 2 : 1;
}

static int jw_lit(jw *w) {
    size_t i = 0;
    int what;
    if (tgx_json_literal((const unsigned char *)w->p, (size_t)(w->e - w->p), &i, &what)) return 0;
    w->p += i;
    return 1;
}

static int jw_value(jw *w);

/* An object or array at w->p; f, when given, sees each member of an object
 * (its key, unescaped keys only) with w->p at the value, and skips it. */
typedef int (*jw_member)(jw *w, const char *k, size_t kn, void *ud);

static int jw_container(jw *w, jw_member f, void *ud) {
    char open = *w->p, close = open == '{' ? '}' : ']';
    if (++w->depth > 32) return 0;
    w->p++;
    jw_ws(w);
    if (w->p < w->e && *w->p == close) {
        w->p++;
        w->depth--;
        return 1;
    }
    for (;;) {
        if (open == '{') {
            const char *k;
            size_t kn;
            int esc;
            if (!jw_string(w, &k, &kn, &esc) || esc) return 0; /* an escaped key: jansson decides */
            jw_ws(w);
            if (w->p >= w->e || *w->p++ != ':') return 0;
            jw_ws(w);
            if (f ? !f(w, k, kn, ud) : !jw_value(w)) return 0;
        } else if (!jw_value(w)) {
            return 0;
        }
        jw_ws(w);
        if (w->p >= w->e) return 0;
        char c = *w->p++;
        if (c == close) break;
        if (c != ',') return 0;
        jw_ws(w);
    }
    w->depth--;
    return 1;
}

static int jw_value(jw *w) {
    if (w->p >= w->e) return 0;
    char c = *w->p;
    if (c == '{' || c == '[') return jw_container(w, NULL, NULL);
    if (c == '"') {
        const char *s;
        size_t n;
        int esc;
        return jw_string(w, &s, &n, &esc);
    }
    if (c == 't' || c == 'f' || c == 'n') return jw_lit(w);
    int64_t iv;
    size_t i = short_int(w->p, w->e, &iv); /* checked only: the values read are read again by number_at */
    if (i) {
        w->p += i;
        return 1;
    }
    int real;
    if (tgx_json_number((const unsigned char *)w->p, (size_t)(w->e - w->p), &i, &real, NULL)) return 0;
    w->p += i;
    return 1;
}


/* The members the usage reads: where each value starts (NULL: absent), noted
 * in the one validating walk. A nested key is noted inside the last value of
 * its parent's key (the parent's later value clears what an earlier one
 * noted): usage{completion_tokens_details{reasoning_tokens}, prompt_tokens,
 * completion_tokens}, timings{prompt_n, prompt_ms}, choices[0]{finish_reason},
 * as jansson's tree of the whole answer would hold them. */
enum { K_USAGE, K_TIMINGS, K_CHOICES, K_PEC, K_EC, K_DETAILS, K_PT, K_CT, K_RT, K_PN, K_PMS, K_FINISH, K_N };
/* their names, in order: usage, timings, choices, prompt_eval_count, eval_count, completion_tokens_details,
 * prompt_tokens, completion_tokens, reasoning_tokens, prompt_n, prompt_ms, finish_reason (key_id) */
typedef struct spots {
    const char *at[K_N];
    const char *start;     /* the body's first byte (model spans are offsets) */
    tg__model_spans *model; /* the top-level "model" strings, or NULL: not wanted */
} spots;

/* The key's K_ index (the names above, in order), K_MODEL for "model" (the served-name
 * rewrite's), or -1: its length picks the one or two names it can be. */
enum { K_MODEL = K_N };
static int key_id(const char *k, size_t kn) {
#define KEY_IS(lit) (memcmp(k, lit, sizeof(lit) - 1) == 0) /* kn == sizeof(lit) - 1: a compare of known length */
    switch (kn) {
    case 5: return KEY_IS("usage") ? K_USAGE : KEY_IS("model") ? K_MODEL : -1;
    case 7: return KEY_IS("timings") ? K_TIMINGS : KEY_IS("choices") ? K_CHOICES : -1;
    case 8: return KEY_IS("prompt_n") ? K_PN : -1;
    case 9: return KEY_IS("prompt_ms") ? K_PMS : -1;
    case 10: return KEY_IS("eval_count") ? K_EC : -1;
    case 13: return KEY_IS("prompt_tokens") ? K_PT : KEY_IS("finish_reason") ? K_FINISH : -1;
    case 16: return KEY_IS("reasoning_tokens") ? K_RT : -1;
    case 17: return KEY_IS("prompt_eval_count") ? K_PEC : KEY_IS("completion_tokens") ? K_CT : -1;
    case 25: return KEY_IS("completion_tokens_details") ? K_DETAILS : -1;
    default: return -1;
    }
#undef KEY_IS
}

/* Notes K (last wins) when the key is the name of K in [lo, hi); the index, or -1
 * (K_MODEL too, noted nowhere). */
static int note(spots *sp, const char *k, size_t kn, const char *at, int lo, int hi) {
    int id = key_id(k, kn);
    if (id == K_MODEL) return lo == K_USAGE ? K_MODEL : -1; /* a top-level key only */
    if (id < lo || id >= hi) return -1;
    sp->at[id] = at;
    return id;
}

static void clear(spots *sp, int lo, int hi) {
    for (int i = lo; i < hi; i++) sp->at[i] = NULL;
}

/* The value at w->p: an object walked with F noting its members, else checked. */
static int object_with(jw *w, jw_member f, spots *sp) {
    return w->p < w->e && *w->p == '{' ? jw_container(w, f, sp) : jw_value(w);
}

static int details_member(jw *w, const char *k, size_t kn, void *ud) {
    note(ud, k, kn, w->p, K_RT, K_PN);
    return jw_value(w);
}

static int usage_member(jw *w, const char *k, size_t kn, void *ud) {
    if (note(ud, k, kn, w->p, K_DETAILS, K_RT) != K_DETAILS) return jw_value(w);
    clear(ud, K_RT, K_PN);
    return object_with(w, details_member, ud);
}

static int timings_member(jw *w, const char *k, size_t kn, void *ud) {
    note(ud, k, kn, w->p, K_PN, K_FINISH);
    return jw_value(w);
}

static int choice_member(jw *w, const char *k, size_t kn, void *ud) {
    note(ud, k, kn, w->p, K_FINISH, K_N);
    return jw_value(w);
}

/* choices: an array whose first element, an object, is walked with
 * choice_member; the rest (and anything not an array) only checked. */
static int choices_value(jw *w, spots *sp) {
    if (w->p >= w->e || *w->p != '[') return jw_value(w);
    const char *open = w->p;
    w->p++;
    jw_ws(w);
    int first = w->p < w->e && *w->p == '{';
    if (!first) {
        w->p = open;
        return jw_value(w);
    }
    if (++w->depth > 32 || !jw_container(w, choice_member, sp)) return 0; /* the array's depth, then the object's */
    jw_ws(w); /* then the rest as jw_container's array loop reads it */
    for (;;) {
        if (w->p >= w->e) return 0;
        char c = *w->p++;
        if (c == ']') {
            w->depth--;
            return 1;
        }
        if (c != ',') return 0;
        jw_ws(w);
        if (!jw_value(w)) return 0;
        jw_ws(w);
    }
}

/* A top-level "model" that is a string: where it lies, for the served
 * name (model_name.c tg__model_name_whole); more than the spans hold: 0. */
static int model_value(jw *w, spots *sp) {
    const char *at = w->p;
    if (!sp->model || w->p >= w->e || *w->p != '"') return jw_value(w);
    if (sp->model->n == TG__MODEL_SPANS || !jw_value(w)) return 0;
    sp->model->at[sp->model->n] = (size_t)(at - sp->start);
    sp->model->end[sp->model->n++] = (size_t)(w->p - sp->start);
    return 1;
}

static int top_member(jw *w, const char *k, size_t kn, void *ud) {
    spots *sp = ud;
    switch (note(sp, k, kn, w->p, K_USAGE, K_DETAILS)) {
    case K_USAGE: clear(sp, K_DETAILS, K_PN); return object_with(w, usage_member, sp);
    case K_TIMINGS: clear(sp, K_PN, K_FINISH); return object_with(w, timings_member, sp);
    case K_CHOICES: clear(sp, K_FINISH, K_N); return choices_value(w, sp);
    case K_MODEL: return model_value(w, sp);
    default: return jw_value(w);
    }
}

/* The value at `at`: 1 integer, 2 real, 0 anything else. */
static inline int number_at(const char *at, const char *e, int64_t *iv, double *dv) {
    if (!at || !(*at == '-' || (*at >= '0' && *at <= '9'))) return 0;
    jw w = {at, e, 0};
    return jw_number(&w, iv, dv);
}

static int is_object(const char *at) { return at && *at == '{'; }

static int scan_body(tg__usage *u, const char *p, size_t n, tg__model_spans *model) {
    jw w = {p, p + n, 0};
    spots sp = {{0}, p, model};
    if (model) model->n = 0;
    jw_ws(&w);
    if (w.p >= w.e || *w.p != '{' || !jw_container(&w, top_member, &sp)) return 0;
    jw_ws(&w);
    if (w.p != w.e) return 0;
    const char *e = p + n;
    int64_t pt = -1, ct = -1, iv;
    double dv, pn = -1, pms = -1;
    int usage_obj = is_object(sp.at[K_USAGE]);
    int have = 0;
    if (usage_obj) {
        int a = number_at(sp.at[K_PT], e, &iv, &dv) == 1;
        if (a) pt = iv;
        int b = number_at(sp.at[K_CT], e, &iv, &dv) == 1;
        if (b) ct = iv;
        have = a || b;
    } else if (number_at(sp.at[K_PEC], e, &iv, &dv) == 1) { /* Ollama's native answer (tg__usage_from_json) */
        pt = iv;
        ct = number_at(sp.at[K_EC], e, &iv, &dv) == 1 ? iv : -1;
        have = 1;
    }
    int64_t rt = -1;
    if (usage_obj && is_object(sp.at[K_DETAILS]) && number_at(sp.at[K_RT], e, &iv, &dv) == 1 && iv >= 0) rt = iv;
    int timings = is_object(sp.at[K_TIMINGS]) && number_at(sp.at[K_PN], e, &iv, &pn) &&
                  number_at(sp.at[K_PMS], e, &iv, &pms);
    char finish[sizeof u->finish] = "";
    if (sp.at[K_FINISH] && *sp.at[K_FINISH] == '"') { /* choices[0].finish_reason */
        jw s = {sp.at[K_FINISH], e, 0};
        const char *v;
        size_t vn;
        int esc;
        if (!jw_string(&s, &v, &vn, &esc) || esc) return 0; /* escaped: jansson decodes it */
        size_t k = vn < sizeof finish - 1 ? vn : sizeof finish - 1; /* snprintf's "%.*s", without its cost */
        memcpy(finish, v, k);
        finish[k] = '\0';
    }
    if (have) {
        u->prompt_tokens = pt;
        u->completion_tokens = ct;
    }
    if (timings) {
        u->prompt_n = pn;
        u->prompt_ms = pms;
    }
    if (rt >= 0) u->reasoning_tokens = rt;
    if (finish[0]) memcpy(u->finish, finish, sizeof finish); /* the same size, NUL-terminated */
    return 1;
}

void tg__usage_finish(tg__usage *u) {
    if (u->sse) {
        if (!u->line_skip && u->line.len) sse_line(u, u->line.data, u->line.len);
        return;
    }
    if (!u->body.len || u->body_skip) return;
    if (!u->dom_only && scan_body(u, u->body.data, u->body.len, NULL)) return;
    json_t *o = json_loadb(u->body.data, u->body.len, 0, NULL);
    if (!o) { /* NDJSON (Ollama's native stream): its last line holds the counts */
        size_t e = u->body.len;
        while (e && (u->body.data[e - 1] == '\n' || u->body.data[e - 1] == '\r')) e--;
        size_t b = e;
        while (b && u->body.data[b - 1] != '\n') b--;
        if (b > 0 && e > b) o = json_loadb(u->body.data + b, e - b, 0, NULL);
    }
    if (!o) return;
    tg__usage_from_json(o, &u->prompt_tokens, &u->completion_tokens);
    timings_from(u, o);
    reasoning_from(u, o);
    finish_of_body(u, o);
    json_decref(o);
}

/* ---- the filter ---------------------------------------------------------- */

typedef struct usage_filter {
    tg__filter base;
    tg__usage u;
    char body_mem[512]; /* a small non-streamed answer: u.body without an allocation */
} usage_filter;

static void uf_init(usage_filter *uf, int sse) {
    tg__usage_init(&uf->u, sse);
    tgx_buf_init_with(&uf->u.body, uf->body_mem, sizeof uf->body_mem, USAGE_MAX_BODY);
}

static void uf_head(tg__filter *f, int status, int sse) {
    usage_filter *uf = (usage_filter *)f;
    tg__usage_free(&uf->u);
    uf_init(uf, sse);
    tg__filter_head(f->next, status, sse);
}

static void uf_data(tg__filter *f, const char *p, size_t n) {
    tg__usage_feed(&((usage_filter *)f)->u, p, n);
    tg__filter_data(f->next, p, n);
}

static void uf_end(tg__filter *f) {
    tg__usage_finish(&((usage_filter *)f)->u);
    tg__filter_end(f->next);
}

static void uf_destroy(tg__filter *f) {
    tg__usage_free(&((usage_filter *)f)->u);
    free(f);
}

static const tg__filter_ops usage_ops = {"usage", uf_head, uf_data, uf_end, uf_destroy};

tg__filter *tg__usage_filter_new(void) {
    usage_filter *uf = malloc(sizeof *uf);
    if (!uf) return NULL;
    memset(uf, 0, offsetof(usage_filter, body_mem)); /* the inline memory needs no zeroing */
    uf->base.ops = &usage_ops;
    uf_init(uf, 0);
    return &uf->base;
}

int tg__usage_filter_whole(tg__filter *f, const char *p, size_t n, tg__model_spans *model) {
    tg__usage *u = &((usage_filter *)f)->u;
    if (u->sse || u->dom_only || u->body.len || u->body_skip || n > USAGE_MAX_BODY) return 0; /* as uf_data would copy it */
    return scan_body(u, p, n, model);
}

const tg__usage *tg__usage_filter_result(const tg__filter *f) { return f ? &((const usage_filter *)f)->u : NULL; }
