/* cmd_encode.c: `tokgate encode`. Placeholder until the tokenizer issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_encode(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate encode ...\n\nnot yet: arrives with the tokenizer issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate encode: not yet (arrives with the tokenizer issue)\n");
    return 2;
}
