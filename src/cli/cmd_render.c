/* cmd_render.c: `tokgate render`. Placeholder until the chat-template issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int tg_cmd_render(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        printf("usage: tokgate render ...\n\nnot yet: arrives with the chat-template issue.\n");
        return 0;
    }
    fprintf(stderr, "tokgate render: not yet (arrives with the chat-template issue)\n");
    return 2;
}
