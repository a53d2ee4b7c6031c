/* cmd_decode.c: `tokgate decode --tokenizer PATH [--skip-special]`: reads
 * token ids from stdin (separated by whitespace and/or commas, optionally as a
 * JSON array) and prints the decoded text as is, with no newline added. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_tokenizer.h"

static void usage(void) {
    printf("usage: tokgate decode --tokenizer PATH [--skip-special]\n\n"
           "Reads token ids from stdin (whitespace/comma separated or a JSON array)\n"
           "and prints the text they decode to, exactly (no newline added).\n"
           "  --skip-special  leave special tokens out\n");
}

int tg_cmd_decode(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage();
        return 0;
    }
    static const char *const allowed[] = {"--skip-special", NULL};
    tg_cli_tok_opts o = {.verb = "decode"};
    int rc = tg_cli_tok_parse(argc, argv, allowed, &o);
    if (rc) return rc;
    tgx_buf in;
    tgx_buf_init(&in, (size_t)1 << 30);
    if ((rc = tg_cli_read_stdin(&o, &in))) {
        tgx_buf_free(&in);
        return rc;
    }
    uint32_t *ids = NULL;
    size_t n = 0, cap = 0;
    const char *p = in.data ? in.data : "", *end = p + in.len;
    size_t brackets = 0;
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') { p++; continue; }
        if ((c == '[' && brackets == 0 && n == 0) || (c == ']' && brackets == 1)) { brackets++; p++; continue; }
        if (c < '0' || c > '9') {
            fprintf(stderr, "tokgate decode: expected a token id at byte offset %zu\n", (size_t)(p - in.data));
            free(ids);
            tgx_buf_free(&in);
            return 2;
        }
        unsigned long long v = 0;
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9') {
            v = v * 10 + (unsigned long long)(*q - '0');
            if (v > 0xFFFFFFFEull) {
                fprintf(stderr, "tokgate decode: token id at byte offset %zu exceeds %u\n", (size_t)(p - in.data), 0xFFFFFFFEu);
                free(ids);
                tgx_buf_free(&in);
                return 2;
            }
            q++;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            uint32_t *np = realloc(ids, cap * sizeof *np);
            if (!np) { free(ids); tgx_buf_free(&in); fprintf(stderr, "tokgate decode: out of memory\n"); return 1; }
            ids = np;
        }
        ids[n++] = (uint32_t)v;
        p = q;
    }
    tgx_buf_free(&in);
    tg_tokenizer *t = tg_cli_tok_load(&o, &rc);
    if (!t) { free(ids); return rc; }
    char *text = NULL;
    size_t len = 0;
    tg_error err = {0};
    if (tg_tokenizer_decode(t, ids, n, o.skip_special, &text, &len, &err)) {
        fprintf(stderr, "tokgate decode: %s\n", err.msg);
        rc = 1;
    } else {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) rc = 1;
    }
    tg_text_free(text);
    free(ids);
    tg_tokenizer_free(t);
    return rc;
}
