/* cmd_inspect.c: `tokgate inspect`. Placeholder until the Foundation issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_inspect(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate inspect ...\n\nnot yet: arrives with the Foundation issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate inspect: not yet (arrives with the Foundation issue)\n");
    return 2;
}
