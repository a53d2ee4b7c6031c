/* cmd_limits.c: `tokgate limits`. Placeholder until the Foundation issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_limits(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate limits ...\n\nnot yet: arrives with the Foundation issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate limits: not yet (arrives with the Foundation issue)\n");
    return 2;
}
