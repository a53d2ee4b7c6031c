/* cli_tokenizer.c: shared plumbing of the encode/decode/count verbs; see
 * cli_tokenizer.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_tokenizer.h"
#include "util/file.h"
#include "util/utf8.h"

#define STDIN_MAX ((size_t)1 << 30)

static int allowed_flag(const char *const *allowed, const char *f) {
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], f) == 0) return 1;
    return 0;
}

int tg_cli_tok_parse(int argc, char **argv, const char *const *allowed, tg_cli_tok_opts *o) {
    const char *verb = o->verb;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tokenizer") == 0 || strcmp(a, "-t") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tokgate %s: --tokenizer needs a PATH\n", verb);
                return 2;
            }
            o->tokenizer = argv[++i];
        } else if (strncmp(a, "--tokenizer=", 12) == 0) {
            o->tokenizer = a + 12;
        } else if (strcmp(a, "--chat") == 0 && allowed_flag(allowed, a)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tokgate %s: --chat needs a FILE\n", verb);
                return 2;
            }
            o->chat = argv[++i];
        } else if (allowed_flag(allowed, a)) {
            if (strcmp(a, "--add-special") == 0) o->add_special = 1;
            else if (strcmp(a, "--no-parse-special") == 0) o->no_parse_special = 1;
            else if (strcmp(a, "--json") == 0) o->json = 1;
            else if (strcmp(a, "--skip-special") == 0) o->skip_special = 1;
        } else {
            fprintf(stderr, "tokgate %s: unknown option '%s' (see tokgate %s --help)\n", verb, a, verb);
            return 2;
        }
    }
    if (!o->tokenizer) {
        fprintf(stderr, "tokgate %s: --tokenizer PATH is required\n", verb);
        return 2;
    }
    return 0;
}

tg_tokenizer *tg_cli_tok_load(const tg_cli_tok_opts *o, int *status) {
    tg_tokenizer *t = NULL;
    tg_error err = {0};
    tg_status st = tg_tokenizer_load(o->tokenizer, &t, &err);
    if (st) {
        fprintf(stderr, "tokgate %s: %s\n", o->verb, err.msg);
        /* a missing or unusable tokenizer is unusable input */
        *status = 2;
        return NULL;
    }
    return t;
}

int tg_cli_read_stdin(const tg_cli_tok_opts *o, tgx_buf *b) {
    tg_error err = {0};
    if (tgx_read_fd(STDIN_FILENO, STDIN_MAX, b, &err)) {
        fprintf(stderr, "tokgate %s: reading stdin: %s\n", o->verb, err.msg);
        return 2;
    }
    return 0;
}

int tg_cli_check_utf8(const tg_cli_tok_opts *o, const tgx_buf *b) {
    size_t bad = 0;
    if (!tgx_utf8_valid((const uint8_t *)(b->data ? b->data : ""), b->len, &bad)) {
        fprintf(stderr, "tokgate %s: input is not valid UTF-8 (byte offset %zu)\n", o->verb, bad);
        return 2;
    }
    return 0;
}

tg_tokenizer *tg_cli_text_and_tok(const tg_cli_tok_opts *o, tgx_buf *in, int *status) {
    tgx_buf_init(in, STDIN_MAX);
    int rc;
    if ((rc = tg_cli_read_stdin(o, in)) || (rc = tg_cli_check_utf8(o, in))) {
        tgx_buf_free(in);
        *status = rc;
        return NULL;
    }
    tg_tokenizer *t = tg_cli_tok_load(o, status);
    if (!t) tgx_buf_free(in);
    return t;
}

unsigned tg_cli_tok_flags(const tg_cli_tok_opts *o) {
    unsigned f = 0;
    if (o->add_special) f |= TG_ENCODE_ADD_SPECIAL;
    if (o->no_parse_special) f |= TG_ENCODE_NO_PARSE_SPECIAL;
    return f;
}
