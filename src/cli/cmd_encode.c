/* cmd_encode.c: `tokgate encode --tokenizer PATH [--add-special]
 * [--no-parse-special] [--json]`: all of stdin is one text; prints its ids on
 * one line separated by single spaces (a JSON array with --json). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/cli_tokenizer.h"

static void usage(void) {
    printf("usage: tokgate encode --tokenizer PATH [--add-special] [--no-parse-special] [--json]\n\n"
           "Reads all of stdin as one text and prints its token ids on one line.\n"
           "PATH: a tokenizer.json, a directory holding one, or a GGUF file.\n"
           "  --add-special       add the post-processor's tokens (BOS, ...)\n"
           "  --no-parse-special  special tokens in the text are plain text\n"
           "  --json              print a JSON array\n"
           "Exit status: 0 ok, 1 failure, 2 bad usage or input (e.g. not UTF-8).\n");
}

int tg_cmd_encode(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage();
        return 0;
    }
    static const char *const allowed[] = {"--add-special", "--no-parse-special", "--json", NULL};
    tg_cli_tok_opts o = {.verb = "encode"};
    int rc = tg_cli_tok_parse(argc, argv, allowed, &o);
    if (rc) return rc;
    tgx_buf in;
    tg_tokenizer *t = tg_cli_text_and_tok(&o, &in, &rc);
    if (!t) return rc;
    tg_tokens toks = {0};
    tg_error err = {0};
    if (tg_tokenizer_encode(t, in.data, in.len, tg_cli_tok_flags(&o), &toks, &err)) {
        fprintf(stderr, "tokgate encode: %s\n", err.msg);
        rc = 1;
    } else {
        if (o.json) putchar('[');
        for (size_t i = 0; i < toks.len; i++)
            printf(i ? (o.json ? ",%u" : " %u") : "%u", (unsigned)toks.ids[i]);
        if (o.json) putchar(']');
        putchar('\n');
        if (fflush(stdout) != 0) rc = 1;
    }
    tg_tokens_free(&toks);
    tg_tokenizer_free(t);
    tgx_buf_free(&in);
    return rc;
}
