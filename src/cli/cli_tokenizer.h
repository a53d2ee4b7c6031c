/*
 * cli/cli_tokenizer.h: what the tokenizer verbs (encode, decode, count)
 * share: their common flags, loading the tokenizer, reading stdin whole, and
 * the exit-status convention of cli.h (2 for bad usage or unusable input,
 * including text that is not UTF-8, 1 when the operation itself fails).
 */
#ifndef TG_CLI_TOKENIZER_H
#define TG_CLI_TOKENIZER_H

#include <stddef.h>

#include "tokgate/tokenizer.h"
#include "util/buf.h"

typedef struct tg_cli_tok_opts {
    const char *verb;
    const char *tokenizer;   /* --tokenizer PATH */
    int add_special;         /* --add-special */
    int no_parse_special;    /* --no-parse-special */
    int json;                /* --json */
    int skip_special;        /* --skip-special (decode) */
    const char *chat;        /* --chat FILE (count; handled by the chat issue) */
} tg_cli_tok_opts;

/* Parses the flags of a tokenizer verb; `allowed` lists the accepted ones
 * ("--add-special", ...; --tokenizer is always accepted). Returns 0, or the
 * exit status after printing the problem. */
int tg_cli_tok_parse(int argc, char **argv, const char *const *allowed, tg_cli_tok_opts *o);
/* Loads o->tokenizer; prints the error and returns NULL on failure. */
tg_tokenizer *tg_cli_tok_load(const tg_cli_tok_opts *o, int *status);
/* Reads all of stdin into b (limit 1 GiB); prints the error on failure. */
int tg_cli_read_stdin(const tg_cli_tok_opts *o, tgx_buf *b);
/* Checks that b is UTF-8; prints "input is not valid UTF-8 (byte offset N)"
 * and returns 2 when not. */
int tg_cli_check_utf8(const tg_cli_tok_opts *o, const tgx_buf *b);
/* The text verbs' common start: reads all of stdin into *in (initialized
 * here, limit 1 GiB), checks it is UTF-8, then loads o->tokenizer. Returns
 * the tokenizer, the caller then owns *in and the tokenizer; on any failure
 * prints the problem, frees *in, sets *status to the exit status and returns
 * NULL. */
tg_tokenizer *tg_cli_text_and_tok(const tg_cli_tok_opts *o, tgx_buf *in, int *status);
/* encode flags from the options */
unsigned tg_cli_tok_flags(const tg_cli_tok_opts *o);

#endif
