/* cmd_decode.c: `tokgate decode --tokenizer PATH [--skip-special] [--stream]`:
 * reads token ids from stdin (separated by whitespace and/or commas,
 * optionally as a JSON array) and prints the decoded text as is, with no
 * newline added.
 *
 * --stream feeds the ids one at a time through the streaming detokenizer
 * (tg_detok, tokenizer/detok_stream.c) and prints each delta as it becomes
 * final, one per line as a JSON string (JSON Lines: "Hello"\n" \ud83d..."\n;
 * control characters escaped, bytes that are not UTF-8 as \ufffd); ids whose
 * text is not final yet (an incomplete UTF-8 sequence, an emoji sequence that
 * may go on) print nothing until it is. The strings joined equal the
 * plain decode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_tokenizer.h"
#include "util/utf8.h"

static void usage(void) {
    printf("usage: tokgate decode --tokenizer PATH [--skip-special] [--stream]\n\n"
           "Reads token ids from stdin (whitespace/comma separated or a JSON array)\n"
           "and prints the text they decode to, exactly (no newline added).\n"
           "  --skip-special  leave special tokens out\n"
           "  --stream        feed the ids one by one and print each delta as it becomes\n"
           "                  final: one JSON string per line (a UTF-8 sequence or an emoji\n"
           "                  sequence that may go on is held until complete)\n");
}

/* One delta as a JSON string line (see the top comment). */
static int put_delta(const char *t, size_t n) {
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 31);
    tgx_buf_putc(&b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)t[i];
        uint32_t cp;
        size_t len = tgx_utf8_decode((const uint8_t *)t + i, n - i, &cp);
        if (c >= 0x80 && len == 0) { tgx_buf_puts(&b, "\\ufffd"); i++; continue; }
        if (c == '"' || c == '\\') { tgx_buf_putc(&b, '\\'); tgx_buf_putc(&b, (char)c); i++; }
        else if (c == '\n') { tgx_buf_puts(&b, "\\n"); i++; }
        else if (c < 0x20 || c == 0x7F) { tgx_buf_printf(&b, "\\u%04x", c); i++; }
        else if (c < 0x80) { tgx_buf_putc(&b, (char)c); i++; }
        else { tgx_buf_append(&b, t + i, len); i += len; }
    }
    tgx_buf_puts(&b, "\"\n");
    int rc = b.data && fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0 ? 0 : 1;
    tgx_buf_free(&b);
    return rc;
}

static int decode_stream(const tg_tokenizer *t, const uint32_t *ids, size_t n, int skip_special) {
    tg_detok *d = NULL;
    tg_error err = {0};
    const char *text;
    size_t len;
    int rc = 0;
    if (tg_detok_new(t, skip_special, &d, &err)) {
        fprintf(stderr, "tokgate decode: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i <= n && rc == 0; i++) {
        tg_status st = i < n ? tg_detok_feed(d, ids[i], &text, &len, &err) : tg_detok_finish(d, &text, &len, &err);
        if (st) {
            fprintf(stderr, "tokgate decode: %s\n", err.msg);
            rc = 1;
        } else if (len) {
            rc = put_delta(text, len);
        }
    }
    tg_detok_free(d);
    return rc;
}

int tg_cmd_decode(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage();
        return 0;
    }
    static const char *const allowed[] = {"--skip-special", NULL};
    tg_cli_tok_opts o = {.verb = "decode"};
    /* --stream is this verb's alone: taken out before the shared parser */
    int stream = 0, n_args = 0;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) return 1;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--stream") == 0) stream = 1;
        else args[n_args++] = argv[i];
    }
    int rc = tg_cli_tok_parse(n_args, args, allowed, &o);
    free(args);
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
    if (stream) {
        rc = decode_stream(t, ids, n, o.skip_special);
    } else if (tg_tokenizer_decode(t, ids, n, o.skip_special, &text, &len, &err)) {
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
