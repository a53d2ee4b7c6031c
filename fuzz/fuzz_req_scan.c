/*
 * fuzz_req_scan.c: the strict request scanner (policy/req_scan.c) against
 * jansson, and the spliced forward body (gateway/req_fast.c). Aborts when:
 *   - the scanner accepts a body jansson refuses, or refuses one jansson
 *     reads as an object (json_loadb, JSON_ALLOW_NUL, as the request parse);
 *   - an accepted body's top-level value span parses to anything but the
 *     value jansson holds for that key (the last duplicate), or an array's
 *     element count differs;
 *   - for a body the fast path takes (a chat the scanned parse reads), the
 *     body spliced with max_tokens set, "model" replaced and "stop" removed
 *     is not JSON (any parser's: no raw NUL) equal to that change made on
 *     jansson's tree, or holds a key twice;
 *   - the cold path's message check (tg__rfast_messages_shaped) passes a
 *     body whose jansson messages are not all objects with a string "role";
 *   - the lite parse (tg__request_parse_lite) takes a body the scanned parse
 *     refuses, reads any field otherwise than it, or takes one holding a
 *     member the decision would rewrite or read from the tree;
 *   - the inline string path (tgx_json_string_fast) answers otherwise than
 *     tgx_json_string at any of the input's first 256 quotes.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/req_fast.h"
#include "policy/req_scan.h"
#include "util/json_lex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

/* The lite fields are the scanned parse's R (ROOT jansson's whole tree). */
static void check_lite(const tg__req_lite *q, const tg_request *r, const json_t *root) {
    const tg_request *l = &q->r;
    CHECK(l->kind == r->kind && l->stream == r->stream && l->has_max_tokens == r->has_max_tokens);
    CHECK(l->max_tokens_valid == r->max_tokens_valid && l->max_tokens == r->max_tokens);
    CHECK((l->model == NULL) == (r->model == NULL) && (!l->model || strcmp(l->model, r->model) == 0));
    CHECK((l->max_tokens_field == NULL) == (r->max_tokens_field == NULL));
    CHECK(!l->max_tokens_field || strcmp(l->max_tokens_field, r->max_tokens_field) == 0);
    CHECK(l->has_thinking_mode == r->has_thinking_mode && l->enable_thinking == r->enable_thinking);
    CHECK(l->has_max_thinking == r->has_max_thinking && l->truncation == r->truncation && !r->bad_param);
    CHECK(q->n_messages == json_array_size(json_object_get(root, "messages")));
    const json_t *nv = json_object_get(root, "n");
    CHECK(q->have_n == json_is_integer(nv) && (!q->have_n || q->n == json_integer_value(nv)));
    const json_t *mct = json_object_get(root, "max_completion_tokens"), *mt = json_object_get(root, "max_tokens");
    CHECK(q->have_mct == (mct && !json_is_null(mct)) && (!q->have_mct || q->mct == json_integer_value(mct)));
    CHECK(q->have_mt == (mt && !json_is_null(mt)) && (!q->have_mt || q->mt == json_integer_value(mt)));
    static const char *const absent[] = {"truncation", "thinking_mode", "max_thinking_tokens", "reasoning_effort"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) CHECK(!json_object_get(root, absent[i]));
    const json_t *kw = json_object_get(root, "chat_template_kwargs");
    CHECK(!kw || json_is_null(kw));
}

static void check_splice(const char *s, size_t n, json_t *root) {
    tg__rfast f;
    tg__rfast_begin(&f, s, n, 1);
    if (f.on && tg__rfast_messages_shaped(&f, s)) { /* what check_messages requires, as jansson reads it */
        const json_t *ms = json_object_get(root, "messages");
        CHECK(json_is_array(ms));
        for (size_t i = 0; i < json_array_size(ms); i++) {
            const json_t *m = json_array_get(ms, i);
            CHECK(json_is_object(m) && json_is_string(json_object_get(m, "role")));
        }
    }
    tg_request r;
    tg_error err;
    tg__req_lite q;
    int lite = f.on && tg__request_parse_lite(s, &f.scan, &q);
    if (!f.on || tg__request_parse_scanned(s, &f.scan, &r, &err) != TG_OK) {
        CHECK(!lite);
        tg__rfast_end(&f);
        return;
    }
    if (lite) check_lite(&q, &r, root);
    { /* each member read alone is the whole parse's value */
        const char *k;
        json_t *v;
        json_object_foreach(r.root, k, v) {
            if (strcmp(k, "messages") != 0) CHECK(json_equal(v, json_object_get(root, k)));
        }
    }
    json_t *after = json_deep_copy(r.root);
    json_object_set_new(after, "max_tokens", json_integer(7));
    json_object_set_new(after, "model", json_string("up"));
    json_object_del(after, "stop");
    size_t len = 0;
    char *sp = tg__rfast_splice(s, &f.scan, r.root, after, &len);
    CHECK(sp != NULL);
    json_error_t je;
    json_t *got = json_loadb(sp, len, JSON_ALLOW_NUL, &je);
    json_object_set_new(root, "max_tokens", json_integer(7));
    json_object_set_new(root, "model", json_string("up"));
    json_object_del(root, "stop");
    CHECK(got && json_equal(got, root));
    tg__req_scan sc;
    CHECK(tg__req_scan_run(sp, len, &sc, &err) == TG_OK);
    CHECK(sc.n == json_object_size(root) && !sc.raw_nul);
    tg__req_scan_free(&sc);
    json_decref(got);
    json_decref(after);
    free(sp);
    tg_request_free(&r);
    tg__rfast_end(&f);
}

/* util/json_lex.h's inline string path gives tgx_json_string's answer (the
 * verdict, the end, the flags) for the string at each of the first 256
 * quotes of the input: the fast path is the slow one, on every input. */
static void check_string_fast(const uint8_t *data, size_t size) {
    size_t quotes = 0;
    for (size_t i = 0; i < size && quotes < 256; i++) {
        if (data[i] != '"') continue;
        quotes++;
        size_t a = i, b = i;
        unsigned fa = 7, fb = 7;
        const char *wa = tgx_json_string_fast(data, size, &a, &fa), *wb = tgx_json_string(data, size, &b, &fb);
        CHECK(wa == wb && a == b && fa == fb);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    check_string_fast(data, size);
    json_error_t je;
    json_t *root = json_loadb(s, size, JSON_ALLOW_NUL, &je);
    tg__req_scan sc;
    tg_error err;
    int ok = tg__req_scan_run(s, size, &sc, &err) == TG_OK;
    CHECK(ok == json_is_object(root));
    if (ok) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v) {
            const tg__req_member *m = tg__req_scan_get(&sc, s, k);
            if (!m) {
                CHECK(sc.any_escaped_key);
                continue;
            }
            json_t *got = json_loadb(s + m->vstart, m->vend - m->vstart, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            CHECK(got && json_equal(got, v));
            if (json_is_array(v)) CHECK(m->n_elems == json_array_size(v));
            json_decref(got);
        }
        tg__req_scan_free(&sc);
        check_splice(s, size, root);
    }
    json_decref(root);
    return 0;
}
