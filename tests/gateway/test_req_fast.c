/*
 * test_req_fast.c: the gateway's fast path for long chats (gateway/req_fast.c):
 *   - the whole-request key changes with any byte of a member the chat
 *     template or the counter reads (messages, tools, documents,
 *     chat_template_kwargs, add_generation_prompt, continue_final_message,
 *     reasoning_effort, a field tokgate does not know), and with the
 *     tokenizer, template or dialect; not with the sampling/budget fields;
 *   - a hit decides exactly as the whole path: with Qwen3's tokenizer and
 *     template, over bodies and model settings that forward, clamp, write
 *     thinking budgets, truncate and refuse, the counts and the decision of
 *     the cached path equal those of tg_budget_decide on the whole parse, and
 *     the spliced forward body is the JSON value the whole path serialises
 *     (json_equal after jansson parses both);
 *   - splicing hostile bodies (duplicate keys, changed and unchanged, odd
 *     whitespace, escapes, a removed member) gives the decided value;
 *   - a cold chat counted from its bytes (tg__rfast_count_cold, HF dialect)
 *     decides as the whole path wherever tg__rfast_accepts takes it: the
 *     same total (tg_budget_count's), decision and forwarded JSON, over the
 *     same bodies, contexts and settings; a decision that truncates or
 *     refuses is not accepted; a message that is not an object, has no
 *     "role" or a role that is not a string is left to the whole parse (its
 *     400 invalid_type on messages); the same body then hits, total-only;
 *   - a small chat decided with no tree (tg__request_parse_lite,
 *     tg__budget_decide_counts_lite) reads the scanned parse's fields and
 *     decides exactly as the whole path, which then forwards the body as it
 *     came; where it declines (a rewrite, a refusal, a reasoning model, a
 *     field it does not read alone) the tree decides;
 *   - the cache under concurrent lookups and inserts gives only what was
 *     stored for each key (ASan/TSan runs).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "gateway/req_fast.h"
#include "tg_test.h"
#include "qwen3_fixture.h"
#include "tokgate/template.h"
#include "tokgate/limits.h"
#include "tokgate/policy.h"
#include "tokgate/tokenizer.h"

static void key_of(const char *body, const void *tok, const void *chat, int dialect, uint8_t out[16]) {
    tg__rfast f;
    tg__rfast_begin(&f, body, strlen(body), 1);
    TG_CHECK(f.on);
    tg__rfast_key(&f, body, tok, chat, dialect);
    memcpy(out, f.key, 16);
    tg__rfast_end(&f);
}

#define BASE "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"hi\"}]," \
             "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"documents\":[{\"text\":\"d\"}]," \
             "\"chat_template_kwargs\":{\"enable_thinking\":true},\"add_generation_prompt\":true," \
             "\"continue_final_message\":false,\"reasoning_effort\":\"low\",\"foo\":1,\"max_tokens\":5,\"temperature\":0.5}"

static void test_key(void) {
    static const char base[] = BASE;
    static int tok, chat; /* two identities: only their addresses count */
    uint8_t k0[16], k[16];
    key_of(base, &tok, &chat, 0, k0);
    /* a changed byte in each member the renderer or counter reads: a miss */
    static const char *const rendered[] = {"Be terse.", "\"hi\"", "\"f\"", "\"d\"", "enable_thinking\":true",
                                           "add_generation_prompt\":true", "continue_final_message\":false",
                                           "\"low\"", "\"foo\"", "\"system\""};
    for (size_t i = 0; i < sizeof rendered / sizeof rendered[0]; i++) {
        char b[sizeof base];
        memcpy(b, base, sizeof base);
        char *at = strstr(b, rendered[i]);
        TG_CHECK(at != NULL);
        if (!at) continue;
        if (strstr(rendered[i], "true")) { /* a boolean: another literal */
            memcpy(strstr(at, "true"), "null", 4);
        } else if (strstr(rendered[i], "false")) {
            memcpy(strstr(at, "false"), "true ", 5);
        } else { /* a letter inside the value or key */
            size_t off = strlen(rendered[i]) - 2;
            at[off] = at[off] == 'x' ? 'y' : 'x';
        }
        key_of(b, &tok, &chat, 0, k);
        if (memcmp(k, k0, 16) == 0) fprintf(stderr, "same key after changing %s: %s\n", rendered[i], b);
        TG_CHECK(memcmp(k, k0, 16) != 0);
    }
    /* the sampling and budget fields: the same key */
    static const char *const same[] = {
        "{\"model\":\"other\",\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"documents\":[{\"text\":\"d\"}],"
        "\"chat_template_kwargs\":{\"enable_thinking\":true},\"add_generation_prompt\":true,"
        "\"continue_final_message\":false,\"reasoning_effort\":\"low\",\"foo\":1,\"max_tokens\":9,\"temperature\":1,"
        "\"stream\":true,\"thinking_mode\":\"balanced\",\"truncation\":\"auto\",\"max_completion_tokens\":3}"};
    key_of(same[0], &tok, &chat, 0, k);
    TG_CHECK(memcmp(k, k0, 16) == 0);
    /* each field left out of the key (req_fast.c, excluded_key: the 22
     * sampling and budget names), added: the same key; a name one letter
     * off, one shorter or one longer: another key */
    static const char *const left_out[] = {
        "model", "max_tokens", "max_completion_tokens", "stream", "stream_options", "temperature", "top_p", "top_k",
        "min_p", "n", "seed", "stop", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias",
        "logprobs", "top_logprobs", "user", "thinking_mode", "max_thinking_tokens", "truncation"};
    static const char nobase[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    uint8_t kn[16];
    key_of(nobase, &tok, &chat, 0, kn);
    for (size_t i = 0; i < sizeof left_out / sizeof left_out[0]; i++) {
        const char *name = left_out[i];
        size_t nl = strlen(name);
        char b[256], alt[64];
        snprintf(b, sizeof b, "{\"%s\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", name);
        key_of(b, &tok, &chat, 0, k);
        if (memcmp(k, kn, 16) != 0) fprintf(stderr, "%s changed the key\n", name);
        TG_CHECK(memcmp(k, kn, 16) == 0);
        for (int v = 0; v < 4; v++) { /* first letter, last letter, one shorter, one longer */
            memcpy(alt, name, nl + 1);
            if (v == 0) alt[0] = alt[0] == 'x' ? 'y' : 'x';
            if (v == 1) alt[nl - 1] = alt[nl - 1] == 'x' ? 'y' : 'x';
            if (v == 2) alt[nl - 1] = '\0';
            if (v == 3) memcpy(alt + nl, "s", 2);
            if (!alt[0]) continue;
            snprintf(b, sizeof b, "{\"%s\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", alt);
            key_of(b, &tok, &chat, 0, k);
            int known = 0; /* a near name that is itself left out ("top_p" one off "top_k") */
            for (size_t j = 0; j < sizeof left_out / sizeof left_out[0]; j++) known |= !strcmp(alt, left_out[j]);
            if (!known && memcmp(k, kn, 16) == 0) fprintf(stderr, "%s (near %s) left the key unchanged\n", alt, name);
            TG_CHECK(known || memcmp(k, kn, 16) != 0);
        }
    }
    /* the model identity */
    key_of(base, &chat, &chat, 0, k);
    TG_CHECK(memcmp(k, k0, 16) != 0);
    key_of(base, &tok, &tok, 0, k);
    TG_CHECK(memcmp(k, k0, 16) != 0);
    key_of(base, &tok, &chat, 1, k);
    TG_CHECK(memcmp(k, k0, 16) != 0);
}

static tg_limits limits_of(uint64_t ctx) {
    tg_limits_config lc;
    tg_limits_config_init(&lc);
    tg_limits l;
    tg_error err;
    TG_CHECK_EQ_I(tg_limits_from_context(ctx, &lc, &l, &err), TG_OK);
    return l;
}

/* The whole path and the cached path on BODY; 1 when the cached one could
 * be spliced (and then its body was checked). */
static int n_lite;      /* decided with no tree (tg__budget_decide_counts_lite) */
static int n_lite_no;   /* parsed lite, left to the tree by the decision */

/* The lite parse of BODY (when it takes it) reads the fields the scanned
 * parse F does, and a lite decision is the whole path's DW exactly: a
 * forward of the body as it came. */
static void compare_lite(const char *body, const tg__rfast *fast, const tg_request *f, const tg_budget_model *m,
                         tg_count_method cached, const tg_budget_decision *dw) {
    tg__req_lite q;
    if (!tg__request_parse_lite(body, &fast->scan, &q)) return;
    const tg_request *l = &q.r;
    TG_CHECK(l->root == NULL);
    TG_CHECK_EQ_I(l->kind, f->kind);
    TG_CHECK((l->model == NULL) == (f->model == NULL));
    if (l->model && f->model) TG_CHECK_STR(l->model, f->model);
    TG_CHECK_EQ_I(l->stream, f->stream);
    TG_CHECK_EQ_I(l->has_max_tokens, f->has_max_tokens);
    TG_CHECK_EQ_I(l->max_tokens_valid, f->max_tokens_valid);
    TG_CHECK_EQ_I(l->max_tokens, f->max_tokens);
    TG_CHECK((l->max_tokens_field == NULL) == (f->max_tokens_field == NULL));
    if (l->max_tokens_field && f->max_tokens_field) TG_CHECK_STR(l->max_tokens_field, f->max_tokens_field);
    TG_CHECK_EQ_I(l->has_thinking_mode, f->has_thinking_mode);
    TG_CHECK_EQ_I(l->thinking_mode, f->thinking_mode);
    TG_CHECK_EQ_I(l->enable_thinking, f->enable_thinking);
    TG_CHECK_EQ_I(l->has_max_thinking, f->has_max_thinking);
    TG_CHECK_EQ_U(l->max_thinking_tokens, f->max_thinking_tokens);
    TG_CHECK_EQ_I(l->truncation, f->truncation);
    TG_CHECK(l->bad_param == NULL && f->bad_param == NULL);
    TG_CHECK_EQ_U(q.n_messages, json_array_size(json_object_get(f->root, "messages")));
    const json_t *nv = json_object_get(f->root, "n");
    TG_CHECK_EQ_I(q.have_n, json_is_integer(nv));
    if (q.have_n) TG_CHECK_EQ_I(q.n, json_integer_value(nv));
    tg_budget_decision dl;
    tg_error err;
    int decided = -1;
    TG_CHECK_EQ_I(tg__budget_decide_counts_lite(&q, m, &fast->counts, cached, &dl, &decided, &err), TG_OK);
    if (!decided) {
        n_lite_no++;
        TG_CHECK(dl.d.request == NULL && dl.d.error == NULL && dl.d.action == TG_ACTION_FORWARD && dl.d.status == 0);
        return;
    }
    n_lite++;
    /* the whole path forwards the client's body unchanged, with the same numbers */
    TG_CHECK_EQ_I(dw->d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_I(dw->rewritten, 0);
    TG_CHECK(dw->escalated == NULL && dl.escalated == NULL && dl.d.request == NULL && dl.d.error == NULL);
    TG_CHECK_EQ_I(dl.rewritten, 0);
    TG_CHECK_EQ_I(dl.method, dw->method);
    TG_CHECK_EQ_I(dl.d.action, dw->d.action);
    TG_CHECK_EQ_I(dl.d.status, dw->d.status);
    TG_CHECK_EQ_I(dl.d.truncation.applied, dw->d.truncation.applied);
    TG_CHECK_EQ_I(dl.d.truncation.mode, dw->d.truncation.mode);
    TG_CHECK_EQ_I(dl.d.truncation.summarize, dw->d.truncation.summarize);
    const tg_budget *a = &dw->d.budget, *b = &dl.d.budget;
    TG_CHECK_EQ_U(a->context, b->context);
    TG_CHECK_EQ_U(a->input, b->input);
    TG_CHECK_EQ_U(a->safe_max, b->safe_max);
    TG_CHECK_EQ_U(a->prompt_tokens, b->prompt_tokens);
    TG_CHECK_EQ_I(a->prompt_tokens_exact, b->prompt_tokens_exact);
    TG_CHECK_EQ_U(a->max_tokens, b->max_tokens);
    TG_CHECK_EQ_I(a->max_tokens_source, b->max_tokens_source);
    TG_CHECK_EQ_U(a->requested_max_tokens, b->requested_max_tokens);
    TG_CHECK_EQ_I(a->clamped, b->clamped);
    TG_CHECK_EQ_U(a->escalate_to, b->escalate_to);
    TG_CHECK_EQ_U(a->thinking_tokens, b->thinking_tokens);
    TG_CHECK_EQ_I(a->thinking_disabled, b->thinking_disabled);
    TG_CHECK_EQ_I(a->adaptive, b->adaptive);
    tg_budget_decision_free(&dl);
}

static int n_rewritten; /* spliced bodies checked against the whole path's */
static int n_escalated; /* spliced escalation bodies checked */

static int compare(const char *body, const tg_budget_model *m) {
    tg_request w, f;
    tg_error err;
    TG_CHECK_EQ_I(tg_request_parse_as(body, strlen(body), TG_REQ_CHAT, &w, &err), TG_OK);
    tg_budget_decision dw, df;
    TG_CHECK_EQ_I(tg_budget_decide(&w, m, &dw, &err), TG_OK);

    tg__rfast fast;
    tg__rfast_begin(&fast, body, strlen(body), 1);
    TG_CHECK(fast.on);
    tg__rfast_key(&fast, body, m->tok, m->chat, (int)m->chat_dialect);
    /* what the gateway caches: template counts, or a model's estimate (no tokenizer, no template) */
    tg_count_method cached = m->tok ? TG_COUNT_TEMPLATE : TG_COUNT_ESTIMATE;
    if (!tg__rfast_lookup(&fast)) { /* the miss: the whole count fills it */
        tg_prompt_counts c;
        tg_count_method how;
        TG_CHECK_EQ_I(tg_budget_count(&w, m, &c, &how, NULL, 0, &err), TG_OK);
        TG_CHECK_EQ_I(how, cached);
        tg__rfast_put(fast.key, &c);
        tg_prompt_counts_free(&c);
        TG_CHECK(tg__rfast_lookup(&fast));
    }
    TG_CHECK_EQ_I(tg__request_parse_scanned(body, &fast.scan, &f, &err), TG_OK);
    TG_CHECK_EQ_I(tg__budget_decide_counts(&f, m, &fast.counts, cached, &df, &err), TG_OK);
    { /* the cached counts are the whole count's */
        tg_prompt_counts c;
        tg_count_method how;
        TG_CHECK_EQ_I(tg_budget_count(&w, m, &c, &how, NULL, 0, &err), TG_OK);
        TG_CHECK_EQ_U(c.total, fast.counts.total);
        TG_CHECK_EQ_U(c.fixed, fast.counts.fixed);
        TG_CHECK_EQ_I(c.exact, fast.counts.exact);
        TG_CHECK_EQ_U(c.n_items, fast.counts.n_items);
        for (size_t i = 0; i < c.n_items && i < fast.counts.n_items; i++) TG_CHECK_EQ_U(c.items[i], fast.counts.items[i]);
        tg_prompt_counts_free(&c);
    }
    compare_lite(body, &fast, &f, m, cached, &dw);
    const tg_budget *a = &dw.d.budget, *b = &df.d.budget;
    TG_CHECK_EQ_I(dw.method, df.method);
    int spliced = tg__rfast_spliceable(&df, f.root);
    if (spliced) { /* what the fast path forwards: everything must match */
        TG_CHECK_EQ_U(a->prompt_tokens, b->prompt_tokens);
        TG_CHECK_EQ_I(a->prompt_tokens_exact, b->prompt_tokens_exact);
        TG_CHECK_EQ_I(dw.d.action, df.d.action);
        TG_CHECK_EQ_I(dw.d.status, df.d.status);
        TG_CHECK_EQ_I(dw.d.truncation.applied, 0);
        TG_CHECK(tg__rfast_spliceable(&dw, w.root) || dw.d.request == NULL);
        TG_CHECK_EQ_U(a->max_tokens, b->max_tokens);
        TG_CHECK_EQ_I(a->max_tokens_source, b->max_tokens_source);
        TG_CHECK_EQ_I(a->clamped, b->clamped);
        TG_CHECK_EQ_U(a->thinking_tokens, b->thinking_tokens);
        TG_CHECK_EQ_U(a->escalate_to, b->escalate_to);
        TG_CHECK_EQ_I(dw.rewritten, df.rewritten);
        TG_CHECK((dw.escalated == NULL) == (df.escalated == NULL));
        if (dw.escalated && df.escalated) { /* the re-sent body, spliced */
            size_t n = 0;
            char *sp = tg__rfast_splice(body, &fast.scan, f.root, df.escalated, &n);
            json_error_t je;
            json_t *got = sp ? json_loadb(sp, n, 0, &je) : NULL;
            TG_CHECK(got && json_equal(got, dw.escalated));
            n_escalated++;
            json_decref(got);
            free(sp);
        }
        if (df.rewritten) {
            size_t n = 0;
            char *sp = tg__rfast_splice(body, &fast.scan, f.root, df.d.request, &n);
            json_error_t je;
            json_t *got = sp ? json_loadb(sp, n, 0, &je) : NULL;
            TG_CHECK(got && json_equal(got, dw.d.request));
            n_rewritten++;
            json_decref(got);
            free(sp);
        }
    } else if (dw.d.action == TG_ACTION_REJECT) {
        TG_CHECK_STR(dw.d.refusal.api.code, df.d.refusal.api.code);
    }
    tg_budget_decision_free(&dw);
    tg_budget_decision_free(&df);
    tg_request_free(&w);
    tg_request_free(&f);
    tg__rfast_end(&fast);
    return spliced;
}

static const char *const hit_bodies[] = {
    /* the small chats decided with no tree (tg__req_lite), and their near misses */
    "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"Say ok.\"}],\"max_tokens\":1}",
    "{\"model\":null,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":40,\"max_tokens\":40,"
    "\"n\":3,\"stream\":false,\"temperature\":0.2,\"chat_template_kwargs\":null,\"stop\":[\"x\"]}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":40,\"max_completion_tokens\":50}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":10,\"max_tokens\":30,\"n\":4,\"stream\":true,"
    "\"model\":\"a\",\"model\":\"m\",\"stream\":false,\"n\":null}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":300000,\"max_tokens\":100,"
    "\"model\":\"x\",\"model\":null,\"stream\":false,\"stream\":true,\"n\":null,\"n\":5}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":30,\"max_tokens\":null,\"max_completion_tokens\":30}",
    "{\"model\":\"caf\\u00e9\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":30}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":30.0}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-1}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":9223372036854775807,"
    "\"n\":-9223372036854775808}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-0,\"temperature\":1e0}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100000000}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":25,\"reasoning_effort\":\"low\"}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":25,\"truncation\":null}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    "{\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Write a haiku about C.\"}],\"max_tokens\":100}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":999999,\"stream\":true}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":50,\"max_tokens\":7}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":10,\"max_tokens\":20,\"max_tokens\":null}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"solve x\"}],\"thinking_mode\":\"balanced\"}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"solve x\"}],\"reasoning_effort\":\"high\",\"max_tokens\":3000}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"solve x\"}],\"chat_template_kwargs\":{\"enable_thinking\":false}}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"solve x\"}],\"max_thinking_tokens\":200,\"max_tokens\":900}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"fast\"}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00\"},{\"role\":\"assistant\","
    "\"content\":\"ok\"},{\"role\":\"user\",\"content\":\"again\"}],\"truncation\":\"auto\",\"max_tokens\":64}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"one two three four five six seven eight nine ten\"},"
    "{\"role\":\"assistant\",\"content\":\"eleven twelve thirteen fourteen fifteen\"},{\"role\":\"user\","
    "\"content\":\"sixteen\"}],\"truncation\":\"auto\"}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":"
    "{\"name\":\"run\",\"description\":\"run it\",\"parameters\":{\"type\":\"object\"}}}],\"n\":2}",
};

/* Every hit body under four contexts x four settings variants, the cache hit
 * against the whole path (compare); with a tokenizer and template the
 * dialect alternates, without them (an estimate-only model) it stays HF.
 * Both kinds of result (spliced and not), rewrites and escalations must come up. */
static void hit_bodies_all(tg_tokenizer *tok, tg_chat *chat) {
    static const uint64_t contexts[] = {32768, 4096, 96, 40};
    int spliced = 0, total = 0;
    n_rewritten = n_escalated = n_lite = n_lite_no = 0;
    for (size_t ci = 0; ci < sizeof contexts / sizeof contexts[0]; ci++)
        for (int variant = 0; variant < 4; variant++) {
            tg_model_settings s;
            tg_model_settings_init(&s);
            if (variant == 1) s.thinking_base = 1024;
            if (variant == 2) s.overflow = TG_OVERFLOW_REJECT, s.default_max_tokens = 256;
            if (variant == 3) s.output_limit = 100; /* a client's max_tokens clamped to it */
            tg_limits lim = limits_of(contexts[ci]);
            tg_chat_dialect d = tok && ci % 2 ? TG_CHAT_LLAMACPP : TG_CHAT_HF;
            tg_budget_model m = {&s, &lim, tok, chat, d, NULL, 0, NULL, 0};
            for (size_t i = 0; i < sizeof hit_bodies / sizeof hit_bodies[0]; i++) {
                spliced += compare(hit_bodies[i], &m);
                total++;
            }
        }
    TG_CHECK(spliced > 10);
    TG_CHECK(spliced < total);
    TG_CHECK(n_rewritten > 10);
    TG_CHECK(n_escalated > 0);
    TG_CHECK(n_lite > 10);    /* the lite decision is taken, */
    TG_CHECK(n_lite_no > 10); /* and declined where the tree is needed */
    tg__rfast_clear();
}

static void test_hit_equals_miss(void) {
    tg_tokenizer *tok;
    tg_chat *chat;
    if (!tg_test_qwen3_chat(&tok, &chat)) return;
    hit_bodies_all(tok, chat);
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
}

/* A model with no tokenizer and no template (an OpenAI-compatible server
 * that tells nothing): its estimate is cached and decided on the scanned
 * request as the template counts are, with the same result as the whole path. */
static void test_estimate_hit_equals_miss(void) {
    hit_bodies_all(NULL, NULL);
}

/* BODY spliced with AFTER against its scanned request's root: the value of
 * the body with every member of AFTER set (and REMOVE removed). */
static void splice_case(const char *body, const char *set_json, const char *remove) {
    tg__rfast f;
    tg__rfast_begin(&f, body, strlen(body), 1);
    TG_CHECK(f.on);
    tg_request r;
    tg_error err;
    TG_CHECK_EQ_I(tg__request_parse_scanned(body, &f.scan, &r, &err), TG_OK);
    json_t *after = json_deep_copy(r.root);
    json_error_t je;
    json_t *set = json_loads(set_json, 0, &je);
    json_object_update(after, set);
    if (remove) json_object_del(after, remove);
    size_t n = 0;
    char *sp = tg__rfast_splice(body, &f.scan, r.root, after, &n);
    json_t *want = json_loadb(body, strlen(body), JSON_ALLOW_NUL, &je);
    json_object_update(want, set);
    if (remove) json_object_del(want, remove);
    json_t *got = sp ? json_loadb(sp, n, JSON_ALLOW_NUL, &je) : NULL;
    TG_CHECK(got && json_equal(got, want));
    if (!got || !json_equal(got, want)) fprintf(stderr, "body %s\n spliced %.*s\n", body, (int)n, sp ? sp : "");
    if (sp) { /* one member per key: what any parser reads, first-wins or last-wins */
        tg__req_scan sc;
        TG_CHECK_EQ_I(tg__req_scan_run(sp, n, &sc, &err), TG_OK);
        TG_CHECK_EQ_U(sc.n, json_object_size(want));
        tg__req_scan_free(&sc);
    }
    json_decref(got);
    json_decref(want);
    json_decref(set);
    json_decref(after);
    free(sp);
    tg_request_free(&r);
    tg__rfast_end(&f);
}

/* The cold path on BODY against the whole path; 1 when it was accepted. */
static int n_cold_fallback, n_cold_trunc;

static int compare_cold(const char *body, const tg_budget_model *m) {
    tg_request w, f;
    tg_error err;
    TG_CHECK_EQ_I(tg_request_parse_as(body, strlen(body), TG_REQ_CHAT, &w, &err), TG_OK);
    tg_budget_decision dw, df;
    TG_CHECK_EQ_I(tg_budget_decide(&w, m, &dw, &err), TG_OK);
    tg_prompt_counts c;
    tg_count_method how;
    TG_CHECK_EQ_I(tg_budget_count(&w, m, &c, &how, NULL, 0, &err), TG_OK);
    TG_CHECK_EQ_I(how, TG_COUNT_TEMPLATE);
    tg__rfast_clear();
    tg__rfast fast;
    tg__rfast_begin(&fast, body, strlen(body), 1);
    TG_CHECK(fast.on);
    tg__rfast_key(&fast, body, m->tok, m->chat, (int)m->chat_dialect);
    TG_CHECK(!tg__rfast_lookup(&fast));
    TG_CHECK(tg__rfast_count_cold(&fast, body, strlen(body), m->chat, m->cache));
    TG_CHECK(fast.hit && fast.cold && fast.total_only);
    TG_CHECK_EQ_U(fast.counts.total, c.total);
    TG_CHECK_EQ_I(fast.counts.exact, 1);
    TG_CHECK_EQ_U(fast.counts.n_items, c.n_items);
    tg_prompt_counts_free(&c);
    TG_CHECK_EQ_I(tg__request_parse_scanned(body, &fast.scan, &f, &err), TG_OK);
    TG_CHECK_EQ_I(tg__budget_decide_counts(&f, m, &fast.counts, TG_COUNT_TEMPLATE, &df, &err), TG_OK);
    int ok = tg__rfast_accepts(&fast, &df.d) && tg__rfast_spliceable(&df, f.root);
    if (dw.d.truncation.applied || dw.d.truncation.summarize || dw.d.truncation.mode != TG_TRUNC_NONE) {
        TG_CHECK(!tg__rfast_accepts(&fast, &df.d)); /* truncation is decided on the whole path */
        n_cold_trunc++;
    }
    if (dw.d.action != TG_ACTION_FORWARD) TG_CHECK(!tg__rfast_accepts(&fast, &df.d));
    if (ok) {
        const tg_budget *a = &dw.d.budget, *b = &df.d.budget;
        TG_CHECK_EQ_I(dw.method, df.method);
        TG_CHECK_EQ_I(dw.d.action, df.d.action);
        TG_CHECK_EQ_I(dw.d.status, df.d.status);
        TG_CHECK_EQ_U(a->prompt_tokens, b->prompt_tokens);
        TG_CHECK_EQ_I(a->prompt_tokens_exact, b->prompt_tokens_exact);
        TG_CHECK_EQ_U(a->max_tokens, b->max_tokens);
        TG_CHECK_EQ_I(a->max_tokens_source, b->max_tokens_source);
        TG_CHECK_EQ_I(a->clamped, b->clamped);
        TG_CHECK_EQ_U(a->thinking_tokens, b->thinking_tokens);
        TG_CHECK_EQ_I(a->thinking_disabled, b->thinking_disabled);
        TG_CHECK_EQ_U(a->escalate_to, b->escalate_to);
        TG_CHECK_EQ_I(dw.d.truncation.applied, 0);
        TG_CHECK_STR(dw.note, df.note);
        TG_CHECK_EQ_I(dw.rewritten, df.rewritten);
        TG_CHECK((dw.escalated == NULL) == (df.escalated == NULL));
        const json_t *want[2] = {dw.rewritten ? dw.d.request : w.root, dw.escalated};
        const json_t *after[2] = {df.rewritten ? df.d.request : f.root, df.escalated};
        for (int k = 0; k < 2; k++) { /* the body forwarded, and the one re-sent on escalation */
            if (!want[k] || !after[k]) continue;
            size_t n = 0;
            char *sp = tg__rfast_splice(body, &fast.scan, f.root, after[k], &n);
            json_error_t je;
            json_t *got = sp ? json_loadb(sp, n, 0, &je) : NULL;
            TG_CHECK(got && json_equal(got, want[k]));
            json_decref(got);
            free(sp);
        }
        /* what the gateway keeps: the same body then hits, total-only */
        tg__rfast_put_total(fast.key, fast.counts.total, fast.counts.n_items);
        tg__rfast again;
        tg__rfast_begin(&again, body, strlen(body), 1);
        tg__rfast_key(&again, body, m->tok, m->chat, (int)m->chat_dialect);
        TG_CHECK(tg__rfast_lookup(&again));
        TG_CHECK(again.total_only && !again.cold);
        TG_CHECK_EQ_U(again.counts.total, fast.counts.total);
        TG_CHECK_EQ_U(again.counts.n_items, fast.counts.n_items);
        tg__rfast_end(&again);
    } else {
        n_cold_fallback++;
        tg__rfast_drop_counts(&fast);
        TG_CHECK(!fast.hit && !fast.total_only && fast.have_key);
    }
    tg_budget_decision_free(&dw);
    tg_budget_decision_free(&df);
    tg_request_free(&w);
    tg_request_free(&f);
    tg__rfast_end(&fast);
    return ok;
}

/* Messages the whole parse refuses (400 invalid_type on messages), or
 * accepts in a way the byte check does not follow: never counted cold. */
static void test_cold_shapes(const tg_budget_model *m) {
    static const char *const refused[] = {
        "{\"messages\":[1]}",
        "{\"messages\":[\"hi\"]}",
        "{\"messages\":[[{\"role\":\"user\"}]]}",
        "{\"messages\":[{\"content\":\"hi\"}]}",
        "{\"messages\":[{\"role\":5,\"content\":\"hi\"}]}",
        "{\"messages\":[{\"role\":null}]}",
        "{\"messages\":[{\"role\":[\"user\"]}]}",
        "{\"messages\":[{\"role\":{\"a\":\"b\"}}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}, null]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"content\":\"x\",\"rolex\":\"user\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"role\":7}]}",
        "{\"messages\":[{\"content\":{\"role\":\"user\"}}]}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *body = refused[i];
        tg_request w;
        tg_error err;
        memset(&err, 0, sizeof err);
        TG_CHECK(tg_request_parse_as(body, strlen(body), TG_REQ_CHAT, &w, &err) != TG_OK);
        TG_CHECK_EQ_I(err.api.status, 400);
        TG_CHECK_STR(err.api.code, "invalid_type");
        TG_CHECK_STR(err.api.param, "messages");
        tg__rfast f;
        tg__rfast_begin(&f, body, strlen(body), 1);
        if (f.on) {
            tg__rfast_key(&f, body, m->tok, m->chat, 0);
            if (tg__rfast_count_cold(&f, body, strlen(body), m->chat, m->cache)) fprintf(stderr, "counted cold: %s\n", body);
            TG_CHECK(!f.cold && !f.hit);
        }
        tg__rfast_end(&f);
    }
    /* accepted by the whole parse: a role that is a string in its last duplicate */
    static const char dup[] = "{\"messages\":[{\"role\":7,\"content\":\"hi\",\"role\":\"user\"}]}";
    tg__rfast f;
    tg__rfast_begin(&f, dup, strlen(dup), 1);
    tg__rfast_key(&f, dup, m->tok, m->chat, 0);
    TG_CHECK(tg__rfast_count_cold(&f, dup, strlen(dup), m->chat, m->cache));
    tg__rfast_end(&f);
}

static void test_cold_equals_whole(void) {
    tg_tokenizer *tok;
    tg_chat *chat;
    tg_count_cache *cache = NULL;
    tg_error err;
    if (!tg_test_qwen3_chat(&tok, &chat)) return;
    TG_CHECK_EQ_I(tg_count_cache_new(tok, 0, &cache, &err), TG_OK);
    if (!cache) {
        tg_count_cache_free(cache);
        tg_tokenizer_free(tok);
        tg_chat_free(chat);
        return;
    }
    static const uint64_t contexts[] = {32768, 4096, 96, 40};
    int accepted = 0, total = 0;
    for (size_t ci = 0; ci < sizeof contexts / sizeof contexts[0]; ci++)
        for (int variant = 0; variant < 4; variant++) {
            tg_model_settings s;
            tg_model_settings_init(&s);
            if (variant == 1) s.thinking_base = 1024;
            if (variant == 2) s.overflow = TG_OVERFLOW_REJECT, s.default_max_tokens = 256;
            if (variant == 3) s.default_max_tokens = 300;
            tg_limits lim = limits_of(contexts[ci]);
            tg_budget_model m = {&s, &lim, tok, chat, TG_CHAT_HF, cache, 0, NULL, 0};
            for (size_t i = 0; i < sizeof hit_bodies / sizeof hit_bodies[0]; i++) {
                accepted += compare_cold(hit_bodies[i], &m);
                total++;
            }
            if (ci == 0 && variant == 0) test_cold_shapes(&m);
        }
    /* both kinds were exercised */
    TG_CHECK(accepted > 10);
    TG_CHECK(accepted < total);
    TG_CHECK(n_cold_trunc > 0);
    TG_CHECK(n_cold_fallback > 0);
    tg__rfast_clear();
    tg_count_cache_free(cache);
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
}

static void test_splice_hostile(void) {
    splice_case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "{\"max_tokens\":5}", NULL);
    splice_case("  {  \"max_tokens\" : 1 ,\"messages\"\t:\n[ {\"role\":\"user\",\"content\":\"a,\\\"}b\"} ] ,"
                "\"max_tokens\":2 , \"max_tokens\" :3 }  ",
                "{\"max_tokens\":9}", NULL);
    splice_case("{\"stop\":[\"x\"],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":\"y\",\"temperature\":1}",
                "{\"max_tokens\":9,\"chat_template_kwargs\":{\"max_thinking_tokens\":10}}", NULL);
    splice_case("{\"messages\":[{\"role\":\"user\",\"content\":\"\\u0000\xf0\x9f\x98\x80\"}],\"model\":\"a\",\"model\":\"b\"}",
                "{\"model\":\"upstream\"}", NULL);
    splice_case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"balanced\",\"x\":{}}",
                "{}", "thinking_mode");
    splice_case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"balanced\"}", "{}",
                "thinking_mode");
    splice_case("{\"thinking_mode\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"b\","
                "\"tools\":[1,2],\"tools\":[]}",
                "{\"max_completion_tokens\":1}", "thinking_mode");
}

/* Each key's stored counts are a function of the key: a lookup returns
 * them or misses, never another key's. */
static void *hammer(void *arg) {
    uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    int bad = 0;
    for (int it = 0; it < 20000; it++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint64_t id = seed % 6000;
        uint8_t key[16] = {0};
        memcpy(key, &id, sizeof id);
        key[9] = 0xA5;
        tg__rfast f;
        memset(&f, 0, sizeof f);
        memcpy(f.key, key, 16);
        f.have_key = 1;
        if (tg__rfast_lookup(&f)) {
            bad |= f.counts.total != id * 3 || f.counts.n_items != 1 + id % 7;
            for (size_t i = 0; i < f.counts.n_items; i++) bad |= f.counts.items[i] != id + i;
            tg__rfast_drop_counts(&f);
        } else {
            uint64_t items[8];
            for (size_t i = 0; i < 8; i++) items[i] = id + i;
            tg_prompt_counts c = {id * 3, 1, 0, 1 + id % 7, items};
            tg__rfast_put(key, &c);
        }
    }
    return (void *)(uintptr_t)bad;
}

static void test_concurrent(void) {
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++) pthread_create(&th[i], NULL, hammer, (void *)(i + 1));
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        TG_CHECK(r == NULL);
    }
    tg__rfast_clear();
}

int main(void) {
    TG_RUN(test_key);
    TG_RUN(test_hit_equals_miss);
    TG_RUN(test_estimate_hit_equals_miss);
    TG_RUN(test_cold_equals_whole);
    TG_RUN(test_splice_hostile);
    TG_RUN(test_concurrent);
    return tg_test_summary();
}
