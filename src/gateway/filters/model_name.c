/*
 * gateway/filters/model_name.c: answers name the model as clients know it.
 *
 * llama-server names the model in an answer's "model" by what it loaded
 * (often the GGUF path), vLLM by its --served-model-name; a client that
 * asked tokgate for "tiny" should read "tiny" back, as OpenAI's answers carry
 * the id GET /v1/models lists. This filter rewrites the string value of the
 * top-level "model" key of a JSON answer, or of each SSE event's JSON, to
 * the served name (models.c tg__model_id), on bytes split anywhere.
 *
 * A byte-at-a-time scanner over JSON's lexical structure: string and escape
 * state, nesting depth, whether a string at depth 1 is a key (after '{' or
 * ','), the key's first bytes, and after the key "model" and its ':' the
 * value's opening quote: there the served name is written and the upstream's
 * value dropped up to its closing quote. A value that is not a string (null)
 * passes unchanged. Bytes outside JSON (SSE field names, "data: [DONE]",
 * comments) pass through; in an SSE stream each line starts at depth 0 (an
 * event's JSON is one line), so a malformed event cannot shift the next.
 * Nothing is held back: a byte is passed on as soon as it is read.
 */
#include "gateway/filters/model_name.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { S_SCAN, S_KEY_DONE, S_COLON, S_VALUE };

/* The byte machine's state; mn_data works on a local copy (registers: the
 * input's bytes cannot alias it) and stores it back. */
typedef struct mn_state {
    int sse;
    int depth;
    int in_str, esc;
    int expect_key;    /* the next string at depth 1 is a key */
    int key_str;       /* the current string is such a key */
    char key[8];       /* its first bytes */
    size_t key_len;    /* bytes seen (may exceed sizeof key) */
    int state;
} mn_state;

typedef struct model_name_filter {
    tg__filter base;
    char *served_json; /* the served name as a JSON string, quotes included */
    mn_state st;
    tgx_buf out;       /* what one on_data passes on (in out_mem while it fits) */
    char out_mem[512];
    char served_mem[64]; /* served_json when it fits: no allocation */
} model_name_filter;

static void reset(mn_state *m) {
    m->depth = 0;
    m->in_str = m->esc = m->expect_key = m->key_str = 0;
    m->key_len = 0;
    m->state = S_SCAN;
}

static void mn_head(tg__filter *f, int status, int sse) {
    model_name_filter *m = (model_name_filter *)f;
    m->st.sse = sse;
    reset(&m->st);
    tg__filter_head(f->next, status, sse);
}

/* One byte outside a string: nesting, keys, and the model key's ':'. */
static void structural(mn_state *m, char ch) {
    if (ch == '"') {
        m->in_str = 1;
        m->key_str = m->depth == 1 && m->expect_key;
        m->expect_key = 0;
        m->key_len = 0;
        return;
    }
    if (m->state == S_KEY_DONE && ch == ':') {
        m->state = S_COLON;
        return;
    }
    if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') m->state = S_SCAN;
    if (ch == '{' || ch == '[') {
        m->depth++;
        m->expect_key = ch == '{' && m->depth == 1;
    } else if ((ch == '}' || ch == ']') && m->depth > 0) {
        m->depth--;
    } else if (ch == ',' && m->depth == 1) {
        m->expect_key = 1;
    } else if (ch == '\n' && m->sse) {
        reset(m);
    }
}

/* The runs skipped without the byte machine. STOP_STR ends a string's plain
 * run (a quote or backslash; a newline too in an SSE stream, STOP_NL);
 * STOP_DEEP ends a run outside strings below the top level, where only
 * quotes, brackets and newlines move the state (structural: no key, ':' or
 * ',' counts there, and the state is S_SCAN). */
enum { STOP_STR = 1, STOP_NL = 2, STOP_DEEP = 4 };
static const unsigned char stop_class[256] = {
    ['"'] = STOP_STR | STOP_DEEP, ['\\'] = STOP_STR, ['\n'] = STOP_NL | STOP_DEEP,
    ['{'] = STOP_DEEP, ['['] = STOP_DEEP, ['}'] = STOP_DEEP, [']'] = STOP_DEEP,
};
static int runs_on = 1; /* tg__model_name_runs: the tests' byte-at-a-time reference when 0 */

void tg__model_name_runs(int on) { runs_on = on; }

/* The first of p[i..n) that ends a string's plain run: a quote, a backslash
 * or (SSE) a newline; n when none. 16 bytes a step with SSE2 (baseline on
 * x86-64), the byte classes for the rest. */
static size_t string_stop(int sse, const char *p, size_t i, size_t n) {
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m128i nl = _mm_set1_epi8(sse ? '\n' : '"'); /* no newline test: the quote again */
    for (; n - i >= 16; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)), _mm_cmpeq_epi8(x, nl));
        unsigned bits = (unsigned)_mm_movemask_epi8(hit);
        if (bits) return i + (size_t)__builtin_ctz(bits);
    }
#endif
    unsigned mask = sse ? STOP_STR | STOP_NL : STOP_STR;
    while (i < n && !(stop_class[(unsigned char)p[i]] & mask)) i++;
    return i;
}

/* Inside a string that is not a key, nothing matters up to the next quote,
 * backslash or (SSE) newline: those bytes pass untouched. */
static size_t skip_plain(const mn_state *m, const char *p, size_t i, size_t n) {
    if (!runs_on) {
        while (i < n && p[i] != '"' && p[i] != '\\' && (p[i] != '\n' || !m->sse)) i++;
        return i;
    }
    return string_stop(m->sse, p, i, n);
}

/* A whole string from its quote at p[i] that is no key (below the top level,
 * or a value): the index past its closing quote, or i when it does not close
 * in this chunk or holds a newline of an SSE stream (the byte machine goes on
 * from the quote then). Its bytes move nothing but in_str and esc, both 0
 * again after it. */
static size_t skip_string(int sse, const char *p, size_t i, size_t n) {
    size_t j = i + 1;
    for (;;) {
        j = string_stop(sse, p, j, n);
        if (j >= n || p[j] == '\n') return i;
        if (p[j] == '"') return j + 1;
        if (j + 1 >= n || (sse && p[j + 1] == '\n')) return i; /* a backslash: the byte after it is plain */
        j += 2;
    }
}

/* Outside strings below the top level: up to the next byte that moves the state. */
static size_t skip_deep(const char *p, size_t i, size_t n) {
    while (i < n && !(stop_class[(unsigned char)p[i]] & STOP_DEEP)) i++;
    return i;
}

/* Bytes pass on as runs of the input (no copy when nothing is replaced);
 * only the served name is written from elsewhere. */
static void mn_data(tg__filter *f, const char *p, size_t n) {
    model_name_filter *mf = (model_name_filter *)f;
    mn_state st = mf->st, *m = &st;
    tgx_buf_reset(&mf->out);
    size_t from = 0; /* p[from..i) passes unchanged */
    int replaced = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->in_str && !m->key_str && !m->esc && m->state != S_VALUE) {
            i = skip_plain(m, p, i, n);
            if (i == n) break;
        } else if (!m->in_str && m->state == S_SCAN && runs_on) {
            if (m->depth > 1) i = skip_deep(p, i, n);
            if (i < n && p[i] == '"' && !(m->depth == 1 && m->expect_key)) { /* a string that is no key */
                size_t j = skip_string(m->sse, p, i, n);
                if (j != i) {
                    m->expect_key = 0; /* what its opening quote sets (structural) */
                    m->key_len = 0;
                    i = j - 1; /* the loop's i++: the byte past the string next */
                    continue;
                }
            }
            if (i == n) break;
        }
        char ch = p[i];
        if (m->state == S_VALUE) { /* the upstream's value: dropped */
            if (m->esc) m->esc = 0;
            else if (ch == '\\') m->esc = 1;
            else if (ch == '"') m->state = S_SCAN;
            else if (ch == '\n') reset(m); /* not JSON after all */
            from = i + 1;
            continue;
        }
        if (m->in_str) {
            if (m->esc) m->esc = 0;
            else if (ch == '\\') m->esc = 1;
            else if (ch == '"') {
                m->in_str = 0;
                if (m->key_str && m->key_len == 5 && memcmp(m->key, "model", 5) == 0) m->state = S_KEY_DONE;
            }
            if (m->key_str && ch != '"') {
                if (m->key_len < sizeof m->key) m->key[m->key_len] = ch;
                m->key_len++;
                if (ch == '\\') m->key_len = sizeof m->key + 1; /* an escaped key is not "model" as written */
            }
            if (ch == '\n' && m->sse) reset(m);
        } else if (m->state == S_COLON && ch == '"') {
            tgx_buf_append(&mf->out, p + from, i - from);
            tgx_buf_puts(&mf->out, mf->served_json);
            replaced = 1;
            m->state = S_VALUE;
            from = i + 1;
            continue;
        } else structural(m, ch);
    }
    mf->st = st;
    if (!replaced) { /* the common case after the first chunk: the bytes as they came */
        if (n > from) tg__filter_data(f->next, p + from, n - from);
        return;
    }
    if (n > from) tgx_buf_append(&mf->out, p + from, n - from);
    if (mf->out.len) tg__filter_data(f->next, mf->out.data, mf->out.len);
}

void tg__model_name_whole(tg__filter *f, const char *p, size_t n, const tg__model_spans *spans) {
    model_name_filter *mf = (model_name_filter *)f;
    const char *sv = mf->served_json;
    size_t sl = strlen(sv), k = 0;
    reset(&mf->st); /* the answer is complete: nothing of it follows */
    while (k < spans->n && spans->end[k] - spans->at[k] == sl && memcmp(p + spans->at[k], sv, sl) == 0) k++;
    if (k == spans->n) { /* the served name already: the bytes as they came */
        tg__filter_data(f->next, p, n);
        return;
    }
    tgx_buf_reset(&mf->out);
    size_t from = 0;
    for (k = 0; k < spans->n; k++) {
        tgx_buf_append(&mf->out, p + from, spans->at[k] - from);
        tgx_buf_append(&mf->out, sv, sl);
        from = spans->end[k];
    }
    tgx_buf_append(&mf->out, p + from, n - from);
    tg__filter_data(f->next, mf->out.data, mf->out.len);
}

static void mn_end(tg__filter *f) { tg__filter_end(f->next); }

/* Ended filters' memory kept for the next ones (the loop's thread makes
 * and ends them): filter_new sets every member it reads as on a malloc. */
enum { MN_SPARES = 4 };
static _Thread_local model_name_filter *mn_spare[MN_SPARES];
static _Thread_local size_t mn_n_spare;

void tg__model_name_spares_free(void) {
    while (mn_n_spare) free(mn_spare[--mn_n_spare]);
}

static void mn_destroy(tg__filter *f) {
    model_name_filter *m = (model_name_filter *)f;
    tgx_buf_free(&m->out);
    if (m->served_json != m->served_mem) free(m->served_json);
    if (mn_n_spare < MN_SPARES) mn_spare[mn_n_spare++] = m;
    else free(m);
}

static const tg__filter_ops mn_ops = {"model_name", mn_head, mn_data, mn_end, mn_destroy};

/* `s` as a JSON string literal (quotes, backslashes and controls escaped),
 * in MEM (CAP bytes) when it surely fits, else malloc'd. */
static char *json_quote(const char *s, char *mem, size_t cap) {
    size_t n = strlen(s);
    char *o = n < (cap - 3) / 6 ? mem : malloc(n * 6 + 3);
    if (!o) return NULL;
    size_t k = 0;
    o[k++] = '"';
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\') {
            o[k++] = '\\';
            o[k++] = (char)*q;
        } else if (*q < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(o + k, "\\u00", 4);
            o[k + 4] = hex[*q >> 4];
            o[k + 5] = hex[*q & 15];
            k += 6;
        } else o[k++] = (char)*q;
    }
    o[k++] = '"';
    o[k] = '\0';
    return o;
}

tg__filter *tg__model_name_filter_new(const char *served) {
    model_name_filter *m = mn_n_spare ? mn_spare[--mn_n_spare] : malloc(sizeof *m);
    if (!m) return NULL;
    memset(m, 0, offsetof(model_name_filter, out_mem)); /* the inline memory needs no zeroing */
    m->served_json = json_quote(served ? served : "", m->served_mem, sizeof m->served_mem);
    if (!m->served_json) {
        free(m);
        return NULL;
    }
    m->base.ops = &mn_ops;
    tgx_buf_init_with(&m->out, m->out_mem, sizeof m->out_mem, SIZE_MAX);
    return &m->base;
}
