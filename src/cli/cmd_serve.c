/* cmd_serve.c: `tokgate serve`. Placeholder until the gateway issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_serve(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate serve ...\n\nnot yet: arrives with the gateway issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate serve: not yet (arrives with the gateway issue)\n");
    return 2;
}
