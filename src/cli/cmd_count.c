/* cmd_count.c: `tokgate count --tokenizer PATH [--add-special]
 * [--no-parse-special]`: prints the number of tokens of all of stdin.
 *
 * Modes: plain text (here). A chat-request mode (`--chat FILE`: render the
 * request with the model's chat template, then count) belongs to the chat
 * template issue: it plugs in as another count_* function selected in
 * tg_cmd_count, reusing tg_cli_tok_load and count_text. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_tokenizer.h"

static void usage(void) {
    printf("usage: tokgate count --tokenizer PATH [--add-special] [--no-parse-special]\n\n"
           "Prints the number of tokens of all of stdin (one text).\n");
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

int tg_cmd_count(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage();
        return 0;
    }
    static const char *const allowed[] = {"--add-special", "--no-parse-special", NULL};
    tg_cli_tok_opts o = {.verb = "count"};
    int rc = tg_cli_tok_parse(argc, argv, allowed, &o);
    if (rc) return rc;
    tgx_buf in;
    tgx_buf_init(&in, (size_t)1 << 30);
    if ((rc = tg_cli_read_stdin(&o, &in)) || (rc = tg_cli_check_utf8(&o, &in))) {
        tgx_buf_free(&in);
        return rc;
    }
    tg_tokenizer *t = tg_cli_tok_load(&o, &rc);
    if (t) {
        rc = count_text(&o, t, &in);
        tg_tokenizer_free(t);
    }
    tgx_buf_free(&in);
    return rc;
}
