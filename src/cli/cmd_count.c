/* cmd_count.c: `tokgate count --tokenizer PATH [--add-special]
 * [--no-parse-special]`: prints the number of tokens of all of stdin.
 *
 * Modes: plain text, and chat requests (`--chat [FILE]`, stdin when FILE is
 * absent or "-"): the request is rendered with the model's chat template
 * (from PATH: a directory, a GGUF, or the tokenizer_config.json beside a
 * tokenizer.json) and the prompt counted as llama-server does, with BOS/EOS
 * added as the model says and special tokens recognised (tg_chat_count). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_tokenizer.h"
#include "tokgate/template.h"
#include "util/file.h"

static void usage(void) {
    printf("usage: tokgate count --tokenizer PATH [--add-special] [--no-parse-special]\n"
           "       tokgate count --tokenizer PATH --chat [FILE] [--dialect hf|llamacpp]\n"
           "                     [--no-parse-special]\n\n"
           "Prints the number of tokens of all of stdin (one text), or with --chat of the\n"
           "prompt the model's chat template renders for the chat request in FILE (or\n"
           "stdin), counted as llama-server does (BOS/EOS added as the model says).\n"
           "--dialect llamacpp rewrites the request as llama-server does first (prefill,\n"
           "content parts, system merging, BOS stripping; docs/template.md); hf (the\n"
           "default) renders it as transformers does.\n");
}

/* Counts text with t and prints the number; returns the exit status. */
static int count_text(const tg_cli_tok_opts *o, const tg_tokenizer *t, const tgx_buf *in) {
    size_t count = 0;
    tg_error err = {0};
    if (tg_tokenizer_count(t, in->data, in->len, tg_cli_tok_flags(o), &count, &err)) {
        fprintf(stderr, "tokgate count: %s\n", err.msg);
        return 1;
    }
    printf("%zu\n", count);
    return fflush(stdout) != 0;
}

/* The chat mode: render the request, count the prompt. */
typedef struct chat_opts {
    const char *chat;
    int no_parse_special;
    tg_chat_dialect dialect;
    const char *tokenizer;
    const tg_cli_tok_opts *tok;
} chat_opts;

static int count_chat(const chat_opts *o, const tg_tokenizer *t) {
    tgx_buf in;
    tgx_buf_init(&in, (size_t)256 << 20);
    tg_error err = {0};
    int rc = 0;
    if (strcmp(o->chat, "-") == 0) rc = tg_cli_read_stdin(o->tok, &in);
    else if (tgx_read_file(o->chat, (size_t)256 << 20, &in, &err)) {
        fprintf(stderr, "tokgate count: %s\n", err.msg);
        rc = 2;
    }
    if (rc) { tgx_buf_free(&in); return rc; }
    json_error_t je;
    json_t *req = json_loadb(in.data ? in.data : "", in.len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    tgx_buf_free(&in);
    if (!req) {
        fprintf(stderr, "tokgate count: request JSON: line %d, column %d: %s\n", je.line, je.column, je.text);
        return 2;
    }
    tg_chat *chat = NULL;
    if (tg_chat_load(o->tokenizer, &chat, &err)) {
        fprintf(stderr, "tokgate count: %s\n", err.msg);
        json_decref(req);
        return 2;
    }
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = o->dialect;
    const char *fixed = getenv("TG_FIXED_DATE");
    if (fixed && *fixed) opt.render.now = strtoll(fixed, NULL, 10);
    unsigned flags = TG_ENCODE_ADD_SPECIAL | (o->no_parse_special ? TG_ENCODE_NO_PARSE_SPECIAL : 0u);
    size_t count = 0;
    tg_status st = tg_chat_count(chat, t, req, &opt, flags, &count, &err);
    json_decref(req);
    tg_chat_free(chat);
    if (st) {
        fprintf(stderr, "tokgate count: %s\n", err.msg);
        return 1;
    }
    printf("%zu\n", count);
    return fflush(stdout) != 0;
}

int tg_cmd_count(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage();
        return 0;
    }
    /* A bare --chat (last, or before another option) reads the request from stdin. */
    char **args = malloc(((size_t)argc + 2) * sizeof *args);
    if (!args) return 1;
    int n = 0;
    tg_chat_dialect dialect = TG_CHAT_HF;
    int dialect_set = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dialect") == 0) {
            const char *d = i + 1 < argc ? argv[i + 1] : "";
            if (strcmp(d, "hf") == 0) dialect = TG_CHAT_HF;
            else if (strcmp(d, "llamacpp") == 0) dialect = TG_CHAT_LLAMACPP;
            else {
                fprintf(stderr, "tokgate count: --dialect is hf or llamacpp, not '%s'\n", d);
                free(args);
                return 2;
            }
            dialect_set = 1;
            i++;
            continue;
        }
        args[n++] = argv[i];
        if (strcmp(argv[i], "--chat") == 0 && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0))
            args[n++] = (char *)(uintptr_t)"-";
    }
    args[n] = NULL;
    static const char *const allowed[] = {"--add-special", "--no-parse-special", "--chat", NULL};
    tg_cli_tok_opts o = {.verb = "count"};
    int rc = tg_cli_tok_parse(n, args, allowed, &o);
    free(args);
    if (rc) return rc;
    if (dialect_set && !o.chat) {
        fprintf(stderr, "tokgate count: --dialect goes with --chat\n");
        return 2;
    }
    if (o.chat) {
        tg_tokenizer *t = tg_cli_tok_load(&o, &rc);
        if (!t) return rc;
        chat_opts co = {o.chat, o.no_parse_special, dialect, o.tokenizer, &o};
        rc = count_chat(&co, t);
        tg_tokenizer_free(t);
        return rc;
    }
    tgx_buf in;
    tg_tokenizer *t = tg_cli_text_and_tok(&o, &in, &rc);
    if (!t) return rc;
    rc = count_text(&o, t, &in);
    tg_tokenizer_free(t);
    tgx_buf_free(&in);
    return rc;
}
