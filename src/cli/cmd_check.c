/* cmd_check.c: `tokgate check`. Placeholder until the request budget issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_check(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate check ...\n\nnot yet: arrives with the request budget issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate check: not yet (arrives with the request budget issue)\n");
    return 2;
}
