/* cmd_render.c: `tokgate render`: a chat request (JSON on stdin) rendered with
 * the model's chat template, printed exactly (nothing added, no newline).
 *
 *   tokgate render (--tokenizer PATH | --template FILE [--bos-token S] [--eos-token S])
 *                  [--template-name NAME] [--no-generation-prompt] < request.json
 *
 * PATH is a tokenizer_config.json, a directory holding one, or a GGUF file.
 * The environment variable TG_FIXED_DATE (Unix seconds) fixes the clock that
 * strftime_now() reads, so renders can be compared byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"

#define REQUEST_MAX (256u << 20)

static void usage(FILE *out) {
    fprintf(out,
            "usage: tokgate render (--tokenizer PATH | --template FILE [--bos-token S] [--eos-token S])\n"
            "                      [--template-name NAME] [--no-generation-prompt]\n"
            "                      [--dialect hf|llamacpp] < request.json\n\n"
            "Renders the chat request on stdin ({\"messages\": [...], \"tools\": [...],\n"
            "\"chat_template_kwargs\": {...}}) with the model's chat template and prints the\n"
            "prompt exactly. PATH: a tokenizer_config.json, a directory holding one, or a GGUF.\n"
            "TG_FIXED_DATE=<unix seconds> fixes the clock of strftime_now().\n");
}

int tg_cmd_render(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) { usage(stdout); return 0; }
    const char *tok = NULL, *tpl = NULL, *bos = NULL, *eos = NULL, *name = NULL;
    int no_gen = 0;
    tg_chat_dialect dialect = TG_CHAT_HF;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--tokenizer") == 0 && more) tok = argv[++i];
        else if (strcmp(a, "--template") == 0 && more) tpl = argv[++i];
        else if (strcmp(a, "--bos-token") == 0 && more) bos = argv[++i];
        else if (strcmp(a, "--eos-token") == 0 && more) eos = argv[++i];
        else if (strcmp(a, "--template-name") == 0 && more) name = argv[++i];
        else if (strcmp(a, "--no-generation-prompt") == 0) no_gen = 1;
        else if (strcmp(a, "--dialect") == 0 && more) {
            const char *d = argv[++i];
            if (strcmp(d, "hf") == 0) dialect = TG_CHAT_HF;
            else if (strcmp(d, "llamacpp") == 0) dialect = TG_CHAT_LLAMACPP;
            else {
                fprintf(stderr, "tokgate render: --dialect is hf or llamacpp, not '%s'\n", d);
                return 2;
            }
        }
        else {
            fprintf(stderr, "tokgate render: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if ((tok == NULL) == (tpl == NULL)) {
        fprintf(stderr, "tokgate render: give exactly one of --tokenizer and --template\n");
        usage(stderr);
        return 2;
    }
    if (tok && (bos || eos)) {
        fprintf(stderr, "tokgate render: --bos-token/--eos-token go with --template\n");
        return 2;
    }
    tg_error err = {0};
    tg_chat *chat = NULL;
    tg_status st;
    if (tok) {
        st = tg_chat_load(tok, &chat, &err);
    } else {
        tgx_buf src;
        tgx_buf_init(&src, TG_TEMPLATE_MAX_SOURCE);
        st = tgx_read_file(tpl, TG_TEMPLATE_MAX_SOURCE, &src, &err);
        if (!st) st = tg_chat_from_source(src.data ? src.data : "", src.len, bos, eos, &chat, &err);
        tgx_buf_free(&src);
    }
    if (st) {
        fprintf(stderr, "tokgate render: %s\n", err.msg);
        return 2;
    }
    tgx_buf in;
    tgx_buf_init(&in, REQUEST_MAX);
    if (tgx_read_fd(0, REQUEST_MAX, &in, &err) != TG_OK) {
        fprintf(stderr, "tokgate render: stdin: %s\n", err.msg);
        tgx_buf_free(&in);
        tg_chat_free(chat);
        return 2;
    }
    json_error_t je;
    json_t *req = json_loadb(in.data ? in.data : "", in.len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    tgx_buf_free(&in);
    if (!req) {
        fprintf(stderr, "tokgate render: request JSON: line %d, column %d: %s\n", je.line, je.column, je.text);
        tg_chat_free(chat);
        return 2;
    }
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.template_name = name;
    opt.add_generation_prompt = no_gen ? 0 : -1;
    opt.dialect = dialect;
    if (dialect == TG_CHAT_LLAMACPP && tok) {
        /* BOS/EOS the tokenizer adds are stripped from the prompt's ends. */
        tg_tokenizer *t = NULL;
        if (tg_tokenizer_load(tok, &t, &err) == TG_OK) {
            opt.add_bos = tg_tokenizer_add_bos(t) > 0;
            opt.add_eos = tg_tokenizer_add_eos(t) > 0;
            tg_tokenizer_free(t);
        }
    }
    const char *fixed = getenv("TG_FIXED_DATE");
    if (fixed && *fixed) opt.render.now = strtoll(fixed, NULL, 10);
    char *out = NULL;
    size_t len = 0;
    st = tg_chat_render(chat, req, &opt, &out, &len, &err);
    json_decref(req);
    tg_chat_free(chat);
    if (st) {
        fprintf(stderr, "tokgate render: %s\n", err.msg);
        return 1;
    }
    int rc = fwrite(out, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    free(out);
    if (rc) fprintf(stderr, "tokgate render: write error\n");
    return rc;
}
