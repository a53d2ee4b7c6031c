/*
 * chat_count_bench.c: what counting one long agent chat costs in the library
 * (issue 17, target 3, the cold half). Single thread, public API only:
 *
 *   chat_count_bench TOKENIZER_JSON TOKENIZER_CONFIG [REQUESTS [KB]]
 *
 * builds a realistic agent conversation of about KB kilobytes (default 156):
 * a system prompt, one tool definition, ~40 turns of user questions,
 * assistant answers with code, tool calls and tool results. Every message
 * carries a 16-hex-digit nonce; in the cold pass each request gets fresh
 * nonces in every message (so neither the count cache's segments nor its
 * kept prompts can help; the tokenizer's own word cache may be warm), in the
 * warm pass the same bytes are counted again and again. Per pass and per
 * dialect (HF, llama.cpp) it prints milliseconds per request split into
 * jansson parse (json_loadb), render (tg_chat_render) and count (the count
 * cache, as the gateway counts), plus the render's output size, once with
 * json_loadb + tg_chat_render ("-json" rows) and once with
 * tg_chat_render_body, which parses inside the render ("-body" rows; its
 * parse column is 0). BENCH_DIALECT=hf|llamacpp and BENCH_PATH=json|body
 * pick rows; BENCH_PLAIN=1 builds user/assistant turns only, no tools
 * (for templates that refuse other roles, such as Gemma-3's).
 *
 * Under callgrind use --toggle-collect=tg_chat_render (or
 * tg_count_cache_count, json_loadb) with a small REQUESTS; BENCH_PASS=cold or
 * warm runs only that pass. Nothing here asserts a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define NONCE "#nonce=0000000000000000#"
#define NONCE_DIGITS 16

static const char *const code_lines[] = {
    "static int parse_header(const char *p, size_t n, struct header *h) {",
    "    for (size_t i = 0; i < n; i++) {",
    "        if (p[i] == ':') { h->name_len = i; break; }",
    "    }",
    "    if (h->name_len == 0) return -1; /* no colon: not a header */",
    "    while (h->value < n && (p[h->value] == ' ' || p[h->value] == '\\t')) h->value++;",
    "    return 0;",
    "}",
    "def load_config(path: str) -> dict:",
    "    with open(path, encoding=\"utf-8\") as f:",
    "        data = json.load(f)",
    "    return {k.lower(): v for k, v in data.items() if not k.startswith(\"_\")}",
};

static const char *const prose[] = {
    "The request handler reads the body once and keeps the offsets of every field.",
    "Can you check why the tests fail on the second run after the cache was warmed?",
    "I looked at the log: the worker thread returns before the upstream answered.",
    "Let me run the build again with sanitizers enabled and compare the output.",
    "This changes the retry policy so that a timeout no longer counts as a failure.",
    "Ok, now refactor the parser so that headers longer than 8 KiB are rejected.",
};

static void add_str(tgx_buf *b, const char *s) { tgx_buf_append(b, s, strlen(s)); }

/* Appends a JSON string body (no quotes) of about n bytes: prose and code. */
static void add_text(tgx_buf *b, size_t n, unsigned seed, int code) {
    size_t start = b->len;
    add_str(b, NONCE " ");
    for (unsigned i = seed; b->len - start < n; i++) {
        if (code && i % 3 == 0) {
            add_str(b, "\\n```c\\n");
            for (unsigned k = 0; k < 8; k++) {
                const char *line = code_lines[(i + k) % (sizeof code_lines / sizeof *code_lines)];
                for (const char *p = line; *p; p++) {
                    if (*p == '"' || *p == '\\') tgx_buf_append(b, "\\", 1);
                    tgx_buf_append(b, p, 1);
                }
                add_str(b, "\\n");
            }
            add_str(b, "```\\n");
        } else {
            add_str(b, prose[i % (sizeof prose / sizeof *prose)]);
            add_str(b, i % 4 == 0 ? "\\n\\n" : " ");
        }
    }
}

static void add_msg(tgx_buf *b, const char *role, size_t n, unsigned seed, int code) {
    add_str(b, ",{\"role\":\"");
    add_str(b, role);
    add_str(b, "\",\"content\":\"");
    add_text(b, n, seed, code);
    add_str(b, "\"}");
}

static const char TOOLS[] =
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"run_shell\",\"description\":\"Run a shell "
    "command in the repository and return its output.\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"command\":{\"type\":\"string\",\"description\":\"the command line\"},\"timeout_s\":{\"type\":"
    "\"integer\",\"description\":\"seconds before it is killed\"}},\"required\":[\"command\"]}}}],";

/* The conversation, about kb KiB of JSON. plain: user and assistant turns
 * only, alternating, no tools (templates such as Gemma-3's refuse others). */
static void build_chat(tgx_buf *b, size_t kb, int plain) {
    add_str(b, "{\"model\":\"bench\",\"max_tokens\":256,");
    if (!plain) add_str(b, TOOLS);
    add_str(b, "\"messages\":[{\"role\":\"system\",\"content\":\"");
    add_text(b, 3000, 1, 0);
    add_str(b, "\"}");
    size_t target = kb * 1024;
    for (unsigned turn = 0; b->len + 200 < target || (plain && turn % 2); turn++) {
        size_t left = target > b->len ? target - b->len : 0;
        size_t chunk = left < 4000 ? left / 2 + 100 : 1800 + (turn * 131) % 1200;
        switch (plain ? turn % 2 : turn % 4) {
        case 0: add_msg(b, "user", chunk / 3, turn, 0); break;
        case 1: add_msg(b, "assistant", chunk, turn, 1); break;
        case 2:
            add_str(b, ",{\"role\":\"assistant\",\"content\":\"" NONCE " I will run the tests.\",\"tool_calls\":"
                       "[{\"type\":\"function\",\"function\":{\"name\":\"run_shell\",\"arguments\":{\"command\":"
                       "\"make test\",\"timeout_s\":60}}}]}");
            break;
        default: add_msg(b, "tool", chunk, turn, 1); break;
        }
    }
    add_str(b, ",{\"role\":\"user\",\"content\":\"" NONCE " Now fix it.\"}]}");
}

/* Rewrites every nonce in the body with fresh digits from *ctr. */
static void renonce(char *p, size_t n, uint64_t *ctr) {
    static const char hex[] = "0123456789abcdef";
    const size_t pre = sizeof "#nonce=" - 1;
    for (char *q = p; (q = strstr(q, "#nonce=")) && (size_t)(q - p) + sizeof NONCE - 1 <= n; q += sizeof NONCE - 1) {
        uint64_t v = ++*ctr * 0x9e3779b97f4a7c15ULL;
        for (int k = 0; k < NONCE_DIGITS; k++) q[pre + (size_t)k] = hex[(v >> (4 * k)) & 15];
    }
}

typedef struct pass_stats {
    double parse, render, count;
    size_t prompt_len, tokens;
} pass_stats;

/* path 0: json_loadb + tg_chat_render; path 1: tg_chat_render_body (its
 * parse is inside the render column). */
static int one_pass(const tg_chat *chat, tg_count_cache *cache, char *body, size_t blen, int cold, int dialect,
                    int path, size_t reqs, uint64_t *ctr, pass_stats *ps) {
    memset(ps, 0, sizeof *ps);
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = dialect ? TG_CHAT_LLAMACPP : TG_CHAT_HF;
    unsigned flags = dialect ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u;
    for (size_t r = 0; r < reqs; r++) {
        if (cold) renonce(body, blen, ctr);
        tg_error err = {0};
        json_error_t jerr;
        double t0 = now_sec();
        json_t *req = path ? NULL : json_loadb(body, blen, 0, &jerr);
        double t1 = now_sec();
        if (!req && !path) { fprintf(stderr, "bench: body: %s\n", jerr.text); return 1; }
        char *prompt = NULL;
        size_t plen = 0, count = 0;
        tg_status rs = path ? tg_chat_render_body(chat, body, blen, &opt, &prompt, &plen, &err)
                            : tg_chat_render(chat, req, &opt, &prompt, &plen, &err);
        if (rs != TG_OK) {
            fprintf(stderr, "bench: render: %s\n", err.msg);
            json_decref(req);
            return 1;
        }
        double t2 = now_sec();
        tg_status st = tg_count_cache_count(cache, prompt, plen, flags, &count, &err);
        double t3 = now_sec();
        free(prompt);
        if (req) json_decref(req);
        if (st) { fprintf(stderr, "bench: count: %s\n", err.msg); return 1; }
        ps->parse += t1 - t0;
        ps->render += t2 - t1;
        ps->count += t3 - t2;
        ps->prompt_len = plen;
        ps->tokens = count;
    }
    return 0;
}

/* Both paths must give the same prompt (the bench would compare unlike
 * work otherwise): 0 when they do. */
static int same_prompt(const tg_chat *chat, const char *body, size_t blen, int dialect) {
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = dialect ? TG_CHAT_LLAMACPP : TG_CHAT_HF;
    tg_error err = {0};
    json_t *req = json_loadb(body, blen, JSON_ALLOW_NUL, NULL);
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int rc = !req || tg_chat_render(chat, req, &opt, &a, &na, &err) ||
             tg_chat_render_body(chat, body, blen, &opt, &b, &nb, &err) || na != nb || memcmp(a, b, na) != 0;
    if (rc) fprintf(stderr, "bench: the two paths render differently (%s)\n", err.msg);
    json_decref(req);
    free(a);
    free(b);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s TOKENIZER_JSON TOKENIZER_CONFIG [REQUESTS [KB]]\n", argv[0]);
        return 2;
    }
    size_t reqs = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 200;
    size_t kb = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 156;
    const char *only = getenv("BENCH_PASS");
    const char *dial = getenv("BENCH_DIALECT"); /* "hf", "llamacpp" or unset: both */
    tg_error err = {0};
    tg_tokenizer *tok = NULL;
    tg_chat *chat = NULL;
    if (tg_tokenizer_load(argv[1], &tok, &err) || tg_chat_load(argv[2], &chat, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    tgx_buf body;
    tgx_buf_init(&body, 64u << 20);
    const char *plain = getenv("BENCH_PLAIN");
    build_chat(&body, kb, plain && *plain && strcmp(plain, "0") != 0);
    json_t *probe = json_loadb(body.data, body.len, 0, NULL);
    size_t nmsg = json_array_size(json_object_get(probe, "messages"));
    json_decref(probe);
    printf("chat_count_bench: %s, body %zu bytes, %zu messages, %zu requests per pass\n", argv[2], body.len, nmsg,
           reqs);
    printf("%-9s %-5s %9s %9s %9s %9s %9s %10s %8s\n", "dialect", "pass", "parse_ms", "render_ms", "count_ms",
           "total_ms", "req/s", "prompt_B", "tokens");
    uint64_t ctr = 0;
    int rc = same_prompt(chat, body.data, body.len, 0) || same_prompt(chat, body.data, body.len, 1);
    const char *paths = getenv("BENCH_PATH"); /* "json", "body" or unset: both */
    for (int dp = 0; dp < 4 && !rc; dp++) {
        int d = dp / 2, path = dp % 2;
        if (dial && strcmp(dial, d ? "llamacpp" : "hf") != 0) continue;
        if (paths && strcmp(paths, path ? "body" : "json") != 0) continue;
        for (int cold = 1; cold >= 0 && !rc; cold--) {
            if (only && strcmp(only, cold ? "cold" : "warm") != 0) continue;
            tg_count_cache *cache = NULL;
            if (tg_count_cache_new(tok, 0, &cache, &err)) { fprintf(stderr, "bench: %s\n", err.msg); return 1; }
            pass_stats ps;
            /* one request first: the tokenizer's word cache and the count cache see the text once */
            rc = one_pass(chat, cache, body.data, body.len, cold, d, path, 1, &ctr, &ps) ||
                 one_pass(chat, cache, body.data, body.len, cold, d, path, reqs, &ctr, &ps);
            tg_count_cache_free(cache);
            if (rc) break;
            double n = (double)(reqs ? reqs : 1), tot = (ps.parse + ps.render + ps.count) / n;
            static const char *const names[] = {"hf-json", "hf-body", "lc-json", "lc-body"};
            printf("%-9s %-5s %9.3f %9.3f %9.3f %9.3f %9.0f %10zu %8zu\n", names[dp],
                   cold ? "cold" : "warm", ps.parse / n * 1e3, ps.render / n * 1e3, ps.count / n * 1e3, tot * 1e3,
                   tot > 0 ? 1.0 / tot : 0.0, ps.prompt_len, ps.tokens);
        }
    }
    tgx_buf_free(&body);
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
    return rc;
}
