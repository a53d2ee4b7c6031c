/* cmd_count.c: `tokgate count`. Placeholder until the tokenizer issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_count(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate count ...\n\nnot yet: arrives with the tokenizer issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate count: not yet (arrives with the tokenizer issue)\n");
    return 2;
}
