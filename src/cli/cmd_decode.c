/* cmd_decode.c: `tokgate decode`. Placeholder until the tokenizer issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_decode(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate decode ...\n\nnot yet: arrives with the tokenizer issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate decode: not yet (arrives with the tokenizer issue)\n");
    return 2;
}
